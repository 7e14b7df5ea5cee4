"""The click model: SeedNet with 6 input channels (photo + positive/negative clicks + prev mask).

Sharing the segmentation architecture lets a click model start from a trained background
removal checkpoint (``init_from_segnet``): the photo channels keep their weights and the new
guidance channels start at zero, so training begins from "what stands out" and learns to obey
clicks rather than learning objectness from scratch.
"""

from __future__ import annotations

import torch
from torch import nn

from .segnet import SegNet, SegNetConfig

GUIDANCE_CHANNELS = 3


class ClickNet(nn.Module):
    def __init__(self, config: SegNetConfig):
        super().__init__()
        if config.in_channels != 3 + GUIDANCE_CHANNELS:
            raise ValueError("ClickNet needs in_channels = 6")
        self.config = config
        self.net = SegNet(config)

    def forward(self, image: torch.Tensor, guidance: torch.Tensor, all_logits: bool = False):
        return self.net(torch.cat([image, guidance], dim=1), all_logits=all_logits)


def click_config(base: SegNetConfig) -> SegNetConfig:
    d = base.to_dict()
    d["in_channels"] = 3 + GUIDANCE_CHANNELS
    return SegNetConfig.from_dict(d)


@torch.no_grad()
def init_from_segnet(model: ClickNet, seg_state: dict[str, torch.Tensor]) -> int:
    """Copy a 3-channel SegNet's weights; first-layer guidance channels start at zero.

    Returns how many tensors were copied.
    """
    own = model.net.state_dict()
    copied = 0
    for key, value in seg_state.items():
        if key not in own:
            continue
        target = own[key]
        if target.shape == value.shape:
            target.copy_(value)
        elif target.dim() == 4 and target.shape[1] == value.shape[1] + GUIDANCE_CHANNELS:
            # stem / refine first conv: [photo(3) (+coarse 1)] -> [photo 3, guidance 3 (+coarse)]
            target.zero_()
            target[:, :3] = value[:, :3]
            if value.shape[1] > 3:  # refine head: the coarse-logit channel comes last
                target[:, -(value.shape[1] - 3) :] = value[:, 3:]
        else:
            continue
        copied += 1
    return copied
