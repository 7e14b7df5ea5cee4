"""``python -m training gen train|export|sample``: the command line of the generator task.

``add_gen_commands(subparsers)`` registers the ``gen`` task on ``python -m training`` and
``run(args)`` dispatches it; training and sampling live in :mod:`training.gen.train`, export in
:mod:`training.gen.export` (imported here only, so neither needs the other's command line).
"""

from __future__ import annotations

import argparse
import sys

from ..models.vae import PRESETS
from ..run_args import add_run_args
from .losses import LossConfig
from .train import cmd_sample, cmd_train


def add_gen_commands(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    """Register ``gen train|export|sample`` on the top-level task subparsers."""
    gen = subparsers.add_parser("gen", help="latent-slider generators (VAE, GAN)")
    cmds = gen.add_subparsers(dest="cmd", required=True)

    p = cmds.add_parser("train", help="train a VAE or a GAN on an image folder")
    p.add_argument("--kind", choices=("vae", "gan"), default="vae")
    p.add_argument("--data", required=True, help="folder of images (or with images/), e.g. fluent-emoji-3d")
    add_run_args(p, checkpoint_minutes=3.0)
    p.add_argument(
        "--preset", default="", choices=["", *sorted(PRESETS)], help="VAE preset (default m); GAN: xs, m or tiny"
    )
    p.add_argument("--latent", type=int, default=0, help="latent size (default: the preset's)")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--epochs", type=int, default=20, help="upper bound; --minutes usually ends sooner")
    p.add_argument("--minutes", type=float, default=0, help="wall-time budget (schedule re-planned to fit)")
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--ema", type=float, default=0.998)
    p.add_argument("--l1", type=float, default=1.0)
    p.add_argument("--ssim", type=float, default=0.5)
    p.add_argument("--grad", type=float, default=0.5)
    p.add_argument("--kl", type=float, default=LossConfig.kl)
    p.add_argument("--kl-warmup", type=int, default=LossConfig.kl_warmup)
    p.add_argument("--free-bits", type=float, default=LossConfig.free_bits)
    p.add_argument("--flip", action="store_true", help="random horizontal flips")
    p.add_argument("--bf16", action="store_true", help="bf16 autocast (off: fp32 is as fast here)")
    p.add_argument("--val-fraction", type=float, default=0.1)
    p.add_argument("--limit", type=int, default=0, help="use only the first N images (smoke runs)")
    g = p.add_argument_group("GAN (--kind gan)")
    warm = g.add_mutually_exclusive_group()  # two warm starts would silently overwrite each other
    warm.add_argument("--init-vae", default="", help="warm start: a VAE checkpoint whose decoder starts the generator")
    warm.add_argument(
        "--init-gan",
        default="",
        help="warm start: a GAN checkpoint; its critic is loaded and its EMA generator grown exactly into this "
        "run's (a wider preset, e.g. xs -> m, starts where the smaller one stopped)",
    )
    g.add_argument("--r1", type=float, default=0.1, help="R1 penalty weight gamma (lazy, every 8 steps)")
    g.add_argument(
        "--critic",
        default="plain",
        choices=["plain", "projected"],
        help="plain: a strided CNN from scratch; projected: frozen ImageNet EfficientNet-Lite0 features "
        "with small heads (Projected GAN; learns from step one)",
    )
    g.add_argument(
        "--diffaug",
        default="color,translation,cutout",
        help="DiffAugment policy on reals and fakes (comma-separated; a resumed run may change it)",
    )
    g.add_argument("--d-lr-ratio", type=float, default=1.0, help="critic learning rate / generator learning rate")

    from .export import add_export_args

    add_export_args(
        cmds.add_parser(
            "export", help="checkpoint -> VAE: NAME-decoder.onnx + NAME-encoder.onnx; GAN: NAME-generator.onnx"
        )
    )

    from .quality import add_quality_args

    add_quality_args(cmds.add_parser("quality", help="KID / FID-style distance of generators vs the data"))

    p = cmds.add_parser("sample", help="sample grid from an exported generator (VAE or GAN)")
    p.add_argument("--model", required=True, help="decoder/generator ONNX (or the NAME given to export)")
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--out", required=True, help="PNG path")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--temperature", type=float, default=1.0)
    p.add_argument("--scale", type=int, default=1, help="integer upscale of each cell")
    p.add_argument(
        "--prior",
        choices=("fitted", "standard"),
        default="fitted",
        help="sample from the fit to the data (default; a VAE's) or from N(0, I) (a GAN's only prior)",
    )
    return gen


def run(args: argparse.Namespace) -> int:
    if args.cmd == "train":
        if args.kind == "gan":
            from .adversarial import cmd_train_gan

            return cmd_train_gan(args)
        args.preset = args.preset or "m"
        return cmd_train(args)
    if args.cmd == "export":
        from .export import cmd_export

        return cmd_export(args)
    if args.cmd == "quality":
        from .quality import cmd_quality

        return cmd_quality(args)
    if args.cmd == "sample":
        return cmd_sample(args)
    raise SystemExit(f"unknown gen command {args.cmd}")


def main(argv: list[str] | None = None) -> int:
    """Stand-alone entry, ``python -m training.gen ...`` (the same as ``python -m training gen ...``)."""
    parser = argparse.ArgumentParser(prog="python -m training.gen")
    add_gen_commands(parser.add_subparsers(dest="task", required=True))
    return run(parser.parse_args(["gen", *(sys.argv[1:] if argv is None else argv)]))
