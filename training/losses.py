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


def mask_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    logits = logits.float()
    return F.binary_cross_entropy_with_logits(logits, target) + soft_iou_loss(logits, target)


def deep_supervision_loss(
    outputs: list[torch.Tensor], target: torch.Tensor, side_weight: float = 0.4
) -> tuple[torch.Tensor, dict[str, float]]:
    """Full weight on the final output, ``side_weight`` on each side output."""
    final = mask_loss(outputs[0], target)
    sides = sum(mask_loss(o, target) for o in outputs[1:]) if len(outputs) > 1 else torch.zeros(())
    total = final + side_weight * sides
    return total, {"loss_final": float(final.detach())}
