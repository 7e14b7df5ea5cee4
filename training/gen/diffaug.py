"""DiffAugment (Zhao et al. 2020): differentiable colour, translation and cutout for GAN training.

Why: with 3.4 k training images the discriminator memorises the real set within a few thousand
steps, its outputs on held-out reals fall to those on fakes, and the generator's gradient turns
to noise. Augmenting *both* real and fake images, with operations the generator's gradient can
flow through, makes memorising harder without teaching the generator to produce augmented
images (the augmentations are applied only inside the discriminator's view).

Every random draw comes from an explicit ``torch.Generator`` so a step is reproducible from the
step number alone, which is what makes resume exact (see :mod:`training.gen.adversarial`).
Images are N x 3 x H x W in [0, 1] on white; translation fills with white, the
data's own background, so they add no dark borders the real images never have; cutout fills
with grey (see :func:`cutout`).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

POLICY = ("color", "translation", "cutout")


def _rand(n: int, gen: torch.Generator, like: torch.Tensor) -> torch.Tensor:
    return torch.rand(n, 1, 1, 1, generator=gen, dtype=like.dtype)


def color(x: torch.Tensor, gen: torch.Generator) -> torch.Tensor:
    """Brightness +-0.25 (in [0, 1] units: DiffAugment's +-0.5 on [-1, 1]), saturation x[0, 2],
    contrast x[0.5, 1.5]."""
    n = x.shape[0]
    x = x + (_rand(n, gen, x) - 0.5) * 0.5
    mean = x.mean(dim=1, keepdim=True)
    x = (x - mean) * (_rand(n, gen, x) * 2) + mean
    mean = x.mean(dim=(1, 2, 3), keepdim=True)
    return (x - mean) * (_rand(n, gen, x) + 0.5) + mean


def translation(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.125) -> torch.Tensor:
    """Shift each image by up to ``ratio`` of its size in x and y, filling with white."""
    n, _, h, w = x.shape
    sh, sw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    dy = torch.randint(-sh, sh + 1, (n, 1, 1), generator=gen)
    dx = torch.randint(-sw, sw + 1, (n, 1, 1), generator=gen)
    ys = torch.arange(h).view(1, h, 1) + dy + 1  # +1: index into the 1-pixel white border
    xs = torch.arange(w).view(1, 1, w) + dx + 1
    ys, xs = ys.clamp(0, h + 1), xs.clamp(0, w + 1)
    padded = F.pad(x, (1, 1, 1, 1), value=1.0)
    flat = padded.flatten(2)  # N x C x (H+2)(W+2)
    index = (ys * (w + 2) + xs).flatten(1)  # N x H*W
    out = flat.gather(2, index[:, None, :].expand(-1, x.shape[1], -1))
    return out.view_as(x)


def cutout(x: torch.Tensor, gen: torch.Generator, ratio: float = 0.5) -> torch.Tensor:
    """Set one square of ``ratio`` times the image size per image to mid-grey.

    Grey, not white as for translation: a white hole looks like background, so the critic
    could not tell a generator's missing parts from a cut-out; a first run grew such holes.
    (The paper fills with 0 on [-1, 1], the same grey.)"""
    n, _, h, w = x.shape
    ch, cw = int(h * ratio + 0.5), int(w * ratio + 0.5)
    y0 = torch.randint(-(ch // 2), h - ch // 2 + 1, (n, 1, 1), generator=gen)  # may overhang, as in the paper
    x0 = torch.randint(-(cw // 2), w - cw // 2 + 1, (n, 1, 1), generator=gen)
    ys = torch.arange(h).view(1, h, 1)
    xs = torch.arange(w).view(1, 1, w)
    inside = (ys >= y0) & (ys < y0 + ch) & (xs >= x0) & (xs < x0 + cw)
    inside = inside[:, None].to(x.dtype)
    return x * (1 - inside) + 0.5 * inside


OPS = {"color": color, "translation": translation, "cutout": cutout}


def diff_augment(x: torch.Tensor, gen: torch.Generator, policy: tuple[str, ...] = POLICY) -> torch.Tensor:
    """Apply ``policy`` in order; the result stays differentiable with respect to ``x``."""
    for name in policy:
        x = OPS[name](x, gen)
    return x.contiguous()
