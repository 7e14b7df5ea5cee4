"""Every training command takes the same run controls and hands them to TrainConfig alike."""

from __future__ import annotations

import pytest

from training.__main__ import build_parser
from training.run_args import run_config
from training.trainer import TrainConfig

REQUIRED = {
    "seg": ["--data", "d", "--val", "v"],
    "clicks": ["--data", "d", "--val", "v"],
    "gen": ["--data", "d"],
}


@pytest.mark.parametrize("task", sorted(REQUIRED))
def test_each_trainer_accepts_the_shared_run_controls(task: str) -> None:
    controls = ["--out", "runs/x", "--resume", "--seed", "7", "--threads", "1", "--max-steps", "9"]
    controls += ["--epoch-steps", "5", "--checkpoint-minutes", "2.5", "--snapshot-every", "4"]
    args = build_parser().parse_args([task, "train", *REQUIRED[task], *controls])
    assert args.resume
    cfg = TrainConfig(**run_config(args))
    assert (cfg.out, cfg.seed, cfg.threads, cfg.max_steps) == ("runs/x", 7, 1, 9)
    assert (cfg.epoch_steps, cfg.checkpoint_minutes, cfg.snapshot_every) == (5, 2.5, 4)


def test_defaults_keep_each_tasks_checkpoint_cadence_and_take_no_snapshots() -> None:
    minutes = {}
    for task, required in REQUIRED.items():
        args = build_parser().parse_args([task, "train", *required, "--out", "o"])
        assert (args.snapshot_every, args.epoch_steps, args.max_steps, args.resume) == (0, 0, 0, False)
        minutes[task] = args.checkpoint_minutes
    assert minutes == {"seg": 5.0, "clicks": 4.0, "gen": 3.0}
