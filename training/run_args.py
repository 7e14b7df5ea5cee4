"""The command-line flags every training command shares: how a run is run, not what it learns.

Segmentation, clicks and generators each declared these themselves, and they drifted (one
had ``--epoch-steps``, another not; help texts differed). Declared once here, every trainer
gets the same controls, and :func:`run_config` hands them to :class:`~training.trainer.TrainConfig`.
"""

from __future__ import annotations

import argparse


def add_run_args(p: argparse.ArgumentParser, checkpoint_minutes: float) -> None:
    """Run folder, resume, seed, threads, step caps, checkpoint and snapshot cadence."""
    p.add_argument("--out", required=True, help="run folder (checkpoints, logs, previews)")
    p.add_argument("--resume", action="store_true", help="continue from OUT/last.pt")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--threads", type=int, default=0, help="torch threads (0 = cores / processes)")
    p.add_argument("--max-steps", type=int, default=0, help="stop after N steps (smoke runs)")
    p.add_argument(
        "--epoch-steps", type=int, default=0, help="cap an epoch at N batches of a fresh shuffle (short phases)"
    )
    p.add_argument("--checkpoint-minutes", type=float, default=checkpoint_minutes)
    p.add_argument(
        "--snapshot-every",
        type=int,
        default=0,
        help="also keep the EMA weights every N steps (OUT/snap-stepN.pt) for weight averaging",
    )


def run_config(args: argparse.Namespace) -> dict:
    """The :class:`~training.trainer.TrainConfig` fields :func:`add_run_args` declared."""
    return {
        "out": args.out,
        "seed": args.seed,
        "threads": args.threads,
        "max_steps": args.max_steps,
        "epoch_steps": args.epoch_steps,
        "checkpoint_minutes": args.checkpoint_minutes,
        "snapshot_every": args.snapshot_every,
    }
