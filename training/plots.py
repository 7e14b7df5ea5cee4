"""PNG plots of training curves from the trainer's CSV logs (matplotlib, no display)."""

from __future__ import annotations

import csv
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt


def _read(path: Path) -> list[dict]:
    if not path.is_file():
        return []
    with open(path) as fh:
        return list(csv.DictReader(fh))


def plot_curves(run_dir: Path) -> Path:
    """Write ``curves.png``: training loss and every numeric validation metric."""
    train, val = _read(run_dir / "log.csv"), _read(run_dir / "val.csv")
    keys = [k for k in (val[0] if val else {}) if k not in ("epoch", "step", "elapsed_s", "n")]
    fig, axes = plt.subplots(1, 1 + max(1, len(keys)), figsize=(4 * (1 + max(1, len(keys))), 3.2))
    if train:
        axes[0].plot([int(r["step"]) for r in train], [float(r["loss"]) for r in train], lw=0.8)
    axes[0].set_title("training loss")
    axes[0].set_xlabel("step")
    for ax, key in zip(axes[1:], keys, strict=False):
        ax.plot([int(r["epoch"]) for r in val], [float(r[key]) for r in val], marker="o")
        ax.set_title(key)
        ax.set_xlabel("epoch")
    fig.tight_layout()
    out = run_dir / "curves.png"
    fig.savefig(out, dpi=90)
    plt.close(fig)
    return out
