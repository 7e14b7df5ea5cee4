"""Losses for mask prediction: BCE + soft IoU with deep supervision (BASNet / U²-Net style).

BCE alone is dominated by the easy background; the IoU term optimises the overlap that the
metrics measure and keeps thin subjects from vanishing.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def soft_iou_loss(logits: torch.Tensor, target: torch.Tensor, eps: float = 1.0) -> torch.Tensor:
    prob = torch.sigmoid(logits)
    inter = (prob * target).sum(dim=(1, 2, 3))
    union = (prob + target - prob * target).sum(dim=(1, 2, 3))
    return (1 - (inter + eps) / (union + eps)).mean()


def normalized_focal_loss(
    logits: torch.Tensor, target: torch.Tensor, gamma: float = 2.0, eps: float = 1e-6
) -> torch.Tensor:
    """RITM's normalized focal loss: BCE per pixel weighted by ``(1 - p_t)^gamma``.

    The weights are rescaled to average 1 in each image, so the loss keeps BCE's scale while
    its gradient goes to the pixels still wrong (mostly the boundary), which is what decides
    whether IoU crosses 90% after a few clicks. Plain focal loss shrinks as the mask gets
    better, and so does its gradient; normalising keeps late clicks learning.
    """
    bce = F.binary_cross_entropy_with_logits(logits, target, reduction="none")
    with torch.no_grad():
        prob = torch.sigmoid(logits)
        p_t = prob * target + (1 - prob) * (1 - target)
        weight = (1 - p_t).pow(gamma)
        weight = weight / (weight.mean(dim=(1, 2, 3), keepdim=True) + eps)
    return (weight * bce).mean()


PIXEL_LOSSES = ("bce", "nfl")


def gap_map(target: torch.Tensor, kernel: int) -> torch.Tensor:
    """Background pixels a morphological closing of ``target`` would fill (1 there, else 0).

    These are the gaps between thin parts (the grass between a horse's legs) and the concave
    bays of an outline: exactly where a click model that "adds the region under the click"
    spills into neighbouring background. Closing = dilation then erosion, both as unpadded
    max-pools on a copy zero-padded by two radii (each pool takes one off again): outside the
    crop is background, so an object near the border is not closed onto it.
    """
    padded = F.pad(target, (2 * (kernel // 2),) * 4)
    closed = -F.max_pool2d(-F.max_pool2d(padded, kernel, stride=1), kernel, stride=1)
    return (closed - target).clamp(min=0)


def mask_loss(
    logits: torch.Tensor, target: torch.Tensor, pixel: str = "bce", weight: torch.Tensor | None = None
) -> torch.Tensor:
    """Pixel term + soft IoU; ``weight`` (per pixel, BCE only) raises the price of chosen errors."""
    logits = logits.float()
    if weight is not None and pixel != "bce":
        raise ValueError("per-pixel weights are only supported with the bce pixel loss")
    if pixel == "nfl":
        per_pixel = normalized_focal_loss(logits, target)
    elif pixel == "bce":
        per_pixel = F.binary_cross_entropy_with_logits(logits, target, weight=weight)
    else:
        raise ValueError(f"unknown pixel loss {pixel!r}; choose from {PIXEL_LOSSES}")
    return per_pixel + soft_iou_loss(logits, target)


def mae_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of the probabilities: the salient-object MAE itself.

    BCE is minimised by calibrated probabilities, MAE by firm ones (a pixel that is 70 % sure
    scores best at 1, not 0.7), so a BCE-trained map stays greyer than the metric wants. Its
    gradient, sign(p - y) p (1 - p), is largest where the map is undecided.
    """
    return (torch.sigmoid(logits.float()) - target).abs().mean()


def deep_supervision_loss(
    outputs: list[torch.Tensor],
    target: torch.Tensor,
    side_weight: float = 0.4,
    pixel: str = "bce",
    mae_weight: float = 0.0,
    weight: torch.Tensor | None = None,
) -> tuple[torch.Tensor, dict[str, float]]:
    """Full weight on the final output, ``side_weight`` on each side output; ``mae_weight``
    adds :func:`mae_loss` on the final output only (the map the app uses); ``weight`` is a
    per-pixel BCE weight at the target's resolution (side outputs are upsampled to it)."""
    final = mask_loss(outputs[0], target, pixel, weight)
    if mae_weight:
        final = final + mae_weight * mae_loss(outputs[0], target)
    sides = sum(mask_loss(o, target, pixel, weight) for o in outputs[1:]) if len(outputs) > 1 else torch.zeros(())
    total = final + side_weight * sides
    return total, {"loss_final": float(final.detach())}
