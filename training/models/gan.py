"""A small GAN for 64x64 RGB emoji on white: the VAE's decoder as generator, a spectral-norm critic.

Design choices, and why:
- The generator *is* :class:`training.models.vae.Decoder` (fc -> 4x4, residual conv-BN-SiLU,
  nearest upsampling, sigmoid). One architecture for both generators means one export path,
  the same 0.8 ms frame budget, and a warm start: a run may begin from the trained VAE decoder
  with the Gaussian fit of its posterior means folded into the first layer, so that ``z ~ N(0, I)``
  already decodes to (blurry) emoji and the adversarial game only has to sharpen and separate
  them. On two CPU cores that saves hours; the card says so.
- The latent is read by exactly one layer (``fc``), so SeFa (closed-form directions from that
  layer's weights, Shen & Zhou 2021) applies directly; there is no mapping network (a DCGAN-class
  design), so the natural prior is N(0, I) and truncation is scaling z toward 0.
- The critic is a plain strided CNN regularised by a lazy R1 penalty (Mescheder et al. 2018;
  StyleGAN2's every-8-steps form) with the non-saturating logistic loss. Spectral normalisation
  on every layer (Miyato et al. 2018) is kept as an option (``spectral_norm``), but in a first
  run here its outputs stayed at +-0.01 for 400 steps (SN caps every layer's gain, so a fresh
  critic separates real from fake only after many thousands of steps, which two CPU cores do
  not have) while the generator drifted on its noise. R1 costs one double backward pass every
  8th step only.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn
from torch.nn.utils.parametrizations import spectral_norm

from .config_dict import DictConfig
from .vae import PRESETS as VAE_PRESETS
from .vae import Decoder, VAEConfig


@dataclass
class GANConfig(DictConfig):
    latent: int = 64
    size: int = 64
    g_preset: str = "xs"  # a VAE preset: the generator is that preset's decoder
    d_widths: tuple[int, ...] = (32, 64, 128, 256)  # after each stride-2 stage: 32, 16, 8, 4 px
    spectral_norm: bool = False  # SN on every critic layer; off: the task's R1 penalty regularises
    critic: str = "plain"  # "plain" (strided CNN above) or "projected" (frozen EfficientNet-Lite0 features)

    def vae_config(self) -> VAEConfig:
        base = VAE_PRESETS[self.g_preset].to_dict()
        return VAEConfig.from_dict({**base, "latent": self.latent, "size": self.size})


PRESETS: dict[str, GANConfig] = {
    "tiny": GANConfig(latent=16, size=16, g_preset="tiny", d_widths=(8, 16)),  # tests only
    "xs": GANConfig(),
    # the VAE preset m's decoder (2.2 M parameters, 3.6x xs): with the projected critic a
    # training step costs about the same (the critic's EfficientNet dominates), and the
    # frame budget (16 ms) has room; warm start by growing an xs run (``--init-gan``)
    "m": GANConfig(g_preset="m"),
}


def _conv(cin: int, cout: int, kernel: int, stride: int = 1, sn: bool = False) -> nn.Module:
    conv = nn.Conv2d(cin, cout, kernel, stride, (kernel - 1) // 2 if stride == 1 else 1)
    return spectral_norm(conv) if sn else conv


class Discriminator(nn.Module):
    """Image in [0, 1] -> one logit per image (no sigmoid: the loss takes logits).

    Per stage a 3x3 conv at the current resolution (from the second stage on: the 64 px stage
    is the costliest, so it only has the stride-2 4x4 conv) and a stride-2 4x4 conv; LeakyReLU 0.2.
    """

    def __init__(self, cfg: GANConfig):
        super().__init__()
        layers: list[nn.Module] = []
        cin = 3
        for i, w in enumerate(cfg.d_widths):
            if i > 0:
                layers += [_conv(cin, cin, 3, sn=cfg.spectral_norm), nn.LeakyReLU(0.2, inplace=True)]
            layers += [_conv(cin, w, 4, stride=2, sn=cfg.spectral_norm), nn.LeakyReLU(0.2, inplace=True)]
            cin = w
        self.features = nn.Sequential(*layers)
        cells = cfg.size // 2 ** len(cfg.d_widths)
        head = nn.Linear(cin * cells * cells, 1)
        self.head = spectral_norm(head) if cfg.spectral_norm else head
        if not cfg.spectral_norm:
            self._he_init()

    def _he_init(self) -> None:
        """He initialisation for LeakyReLU(0.2), zero biases, a unit-gain head.

        Why: PyTorch's default init shrinks activations by ~0.57 per layer, so the untrained
        critic's logits were ~0.005 and its input gradients (the generator's only signal) tiny;
        the generator then drifted on noise for 1,000 steps while the critic barely moved. With
        activations kept at unit scale the critic separates real from fake within tens of steps.
        """
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, a=0.2, nonlinearity="leaky_relu")
                nn.init.zeros_(m.bias)
        nn.init.kaiming_normal_(self.head.weight, a=1.0, nonlinearity="leaky_relu")  # gain 1: linear
        nn.init.zeros_(self.head.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x * 2.0 - 1.0).flatten(1)).squeeze(1)


def make_critic(cfg: GANConfig) -> nn.Module:
    """The critic ``cfg.critic`` names; "projected" needs the train extra's pretrained weights."""
    if cfg.critic == "projected":
        from .projected_d import ProjectedDiscriminator

        return ProjectedDiscriminator(pretrained=True)
    if cfg.critic != "plain":
        raise ValueError(f"unknown critic {cfg.critic!r} (plain or projected)")
    return Discriminator(cfg)


class GAN(nn.Module):
    """Generator + discriminator in one module, so one trainer, EMA and checkpoint hold both."""

    def __init__(self, cfg: GANConfig | None = None):
        super().__init__()
        self.cfg = cfg or GANConfig()
        self.generator = Decoder(self.cfg.vae_config())
        self.discriminator = make_critic(self.cfg)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.generator(z)


@torch.no_grad()
def warm_start_from_vae(generator: Decoder, decoder_state: dict, mean: torch.Tensor, cov: torch.Tensor) -> None:
    """Load a VAE decoder's weights and fold ``z_vae = mean + L z`` (``L L^T = cov``) into ``fc``.

    Afterwards ``generator(z)`` with ``z ~ N(0, I)`` equals the VAE decoding a draw from the
    Gaussian fitted to its posterior means: a recognisable-but-blurry start instead of noise.
    """
    generator.load_state_dict(decoder_state)
    chol = torch.linalg.cholesky(cov.double() + 1e-6 * torch.eye(len(cov), dtype=torch.float64))
    w, b = generator.fc.weight.double(), generator.fc.bias.double()
    generator.fc.bias.copy_((b + w @ mean.double()).float())
    generator.fc.weight.copy_((w @ chol).float())


@torch.no_grad()
def widen_into(student: nn.Module, teacher: nn.Module) -> int:
    """Make the wider ``student`` compute exactly what ``teacher`` computes (Net2Net-style growth).

    Both must have the same layers in the same order (e.g. the generators of presets xs and m:
    same structure, twice the channels). Each teacher tensor goes into the leading slice of the
    student's; the student's extra units are switched off so they add nothing yet: a Linear's
    extra output rows are zero (the fc's extra channels start at 0, and SiLU(0) = 0), a
    BatchNorm's extra gamma and beta are zero (its extra channels output 0 whatever the conv
    before them computes). Every other extra weight keeps its random initialisation, so the
    extra channels receive gradients from the first step (through gamma) and grow into use.
    Returns the number of tensors copied. Why: a larger generator trained adversarially from
    noise lost to the projected critic on two CPU cores; grown from the trained one, it starts
    where that one stopped.
    """
    t_modules = dict(teacher.named_modules())
    copied = 0
    for name, s_mod in student.named_modules():
        t_mod = t_modules.get(name)
        if type(t_mod) is not type(s_mod) or not list(s_mod.parameters(recurse=False)):
            continue
        if isinstance(s_mod, nn.Linear):
            s_mod.weight.zero_()
            s_mod.bias.zero_()
        elif isinstance(s_mod, nn.BatchNorm2d):
            s_mod.reset_running_stats()
            s_mod.weight.zero_()
            s_mod.bias.zero_()
        s_state, t_state = s_mod.state_dict(), t_mod.state_dict()
        for key, t_val in t_state.items():
            s_val = s_state[key]
            if t_val.dim() != s_val.dim() or any(a > b for a, b in zip(t_val.shape, s_val.shape, strict=True)):
                raise ValueError(f"{name}.{key}: {tuple(t_val.shape)} does not fit into {tuple(s_val.shape)}")
            s_val[tuple(slice(0, n) for n in t_val.shape)] = t_val
            copied += 1
    return copied


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
