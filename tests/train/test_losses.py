"""The pixel losses against hand-worked cases."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from training.losses import deep_supervision_loss, gap_map, mae_loss, mask_loss, normalized_focal_loss  # noqa: E402


def test_nfl_equals_bce_when_every_pixel_is_equally_wrong():
    # every pixel has p_t = sigmoid(1): the weights are all equal, so normalised they are 1
    logits = torch.tensor([1.0, -1.0, 1.0, -1.0]).reshape(1, 1, 2, 2)
    target = torch.tensor([1.0, 0.0, 1.0, 0.0]).reshape(1, 1, 2, 2)
    expected = math.log1p(math.exp(-1.0))
    assert float(normalized_focal_loss(logits, target)) == pytest.approx(expected, rel=1e-4)


def test_nfl_moves_the_weight_to_the_wrong_pixel():
    # three confident right pixels (p_t = sigmoid(4)) and one wrong one (p_t = sigmoid(-2))
    logits = torch.tensor([4.0, 4.0, -4.0, -2.0]).reshape(1, 1, 2, 2).requires_grad_()
    target = torch.tensor([1.0, 1.0, 0.0, 1.0]).reshape(1, 1, 2, 2)
    p_right, p_wrong = 1 / (1 + math.exp(-4)), 1 / (1 + math.exp(2))
    w_right, w_wrong = (1 - p_right) ** 2, (1 - p_wrong) ** 2
    mean_w = (3 * w_right + w_wrong) / 4
    expected = (3 * w_right * -math.log(p_right) + w_wrong * -math.log(p_wrong)) / mean_w / 4
    loss = normalized_focal_loss(logits, target)
    assert float(loss.detach()) == pytest.approx(expected, rel=1e-4)
    loss.backward()
    grad = logits.grad.flatten().abs()
    # almost all of the gradient lands on the wrong pixel, far more than BCE would put there
    assert grad[3] / grad.sum() > 0.99
    bce_logits = logits.detach().clone().requires_grad_()
    torch.nn.functional.binary_cross_entropy_with_logits(bce_logits, target).backward()
    bce_grad = bce_logits.grad.flatten().abs()
    assert grad[3] / grad.sum() > bce_grad[3] / bce_grad.sum()


def test_mask_loss_rejects_an_unknown_pixel_loss():
    x = torch.zeros(1, 1, 2, 2)
    with pytest.raises(ValueError, match="unknown pixel loss"):
        mask_loss(x, x, "dice")


def test_mae_loss_is_the_metric_and_pushes_undecided_pixels_hardest():
    # probabilities 0.5 (logit 0) and sigmoid(2) against targets 1 and 1: errors 0.5 and 1 - sigmoid(2)
    logits = torch.tensor([0.0, 2.0]).reshape(1, 1, 1, 2).requires_grad_(True)
    target = torch.ones(1, 1, 1, 2)
    p2 = 1 / (1 + math.exp(-2.0))
    loss = mae_loss(logits, target)
    assert float(loss.detach()) == pytest.approx((0.5 + (1 - p2)) / 2, rel=1e-5)
    loss.backward()
    grad = logits.grad.flatten()
    assert float(grad[0]) == pytest.approx(-0.25 / 2) and abs(float(grad[0])) > abs(float(grad[1]))


def test_mae_weight_adds_the_mae_of_the_final_output_only():
    gen = torch.Generator().manual_seed(0)
    outputs = [torch.randn(2, 1, 8, 8, generator=gen) for _ in range(3)]
    target = (torch.rand(2, 1, 8, 8, generator=gen) > 0.5).float()
    plain, _ = deep_supervision_loss(outputs, target)
    weighted, _ = deep_supervision_loss(outputs, target, mae_weight=2.0)
    assert float(weighted - plain) == pytest.approx(2.0 * float(mae_loss(outputs[0], target)), rel=1e-5)


def _two_legs() -> torch.Tensor:
    """Two 5-px-wide vertical bars 4 px apart under a body: a horse's legs in miniature."""
    t = torch.zeros(1, 1, 40, 40)
    t[..., 2:8, 3:22] = 1  # body
    t[..., 8:36, 5:10] = 1
    t[..., 8:36, 14:19] = 1
    return t


def test_gap_map_marks_the_background_between_thin_parts_only():
    target = _two_legs()
    gap = gap_map(target, 9)
    assert set(gap.unique().tolist()) <= {0.0, 1.0}
    assert not (gap * target).any()  # never on the object
    assert gap[0, 0, 20, 10:14].eq(1).all()  # the strip between the legs
    assert gap[0, 0, 20, 25:].eq(0).all() and gap[0, 0, 38:, :].eq(0).all()  # open background stays 0
    # a kernel narrower than the gap fills nothing between the legs
    assert gap_map(target, 3)[0, 0, 20, 10:14].eq(0).all()


def test_gap_weight_raises_the_price_of_filling_the_gap_only():
    target = _two_legs()
    gap = gap_map(target, 9)
    weight = 1.0 + 4.0 * gap
    right = torch.where(target > 0, 6.0, -6.0)
    filled = torch.where((target + gap) > 0, 6.0, -6.0)  # the gap predicted as object
    elsewhere = right.clone()
    elsewhere[..., 30:34, 24:28] = 6.0  # an error of the same size in open background
    # unit weights are plain BCE
    assert float(mask_loss(filled, target, weight=torch.ones_like(target))) == pytest.approx(
        float(mask_loss(filled, target))
    )
    # with the gap weighted, filling the gap costs more than an error elsewhere of equal area
    n_gap, n_else = int(gap.sum()), 16
    per_px_gap = float(mask_loss(filled, target, weight=weight)) - float(mask_loss(right, target, weight=weight))
    per_px_else = float(mask_loss(elsewhere, target, weight=weight)) - float(mask_loss(right, target, weight=weight))
    assert per_px_gap / n_gap > 3 * per_px_else / n_else
    with pytest.raises(ValueError):
        mask_loss(filled, target, pixel="nfl", weight=weight)
