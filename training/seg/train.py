"""The segmentation (background removal) task: training, evaluation and export wiring."""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import torch
from torch import nn

from ..data.folder import DecodedSet, load_decoded
from ..data.seg_dataset import SegEvalSet, SegTrainSet
from ..losses import deep_supervision_loss
from ..metrics import SalientMetrics
from ..models.efficientnet_lite import IMAGENET_MEAN, IMAGENET_STD, load_pretrained_encoder
from ..models.segnet import PRESETS, SegNet, SegNetConfig, count_parameters
from ..run_args import add_run_args, run_config
from ..trainer import TrainConfig, Trainer

PREVIEW_COUNT = 8


def parse_schedule(text: str) -> list[tuple[int, int]]:
    """ "192:7,256:4" -> [(192, 7), (256, 4)]: train size and how many epochs at it."""
    out = []
    for part in text.split(","):
        size, epochs = part.split(":")
        out.append((int(size), int(epochs)))
    return out


def size_for_epoch(schedule: list[tuple[int, int]], epoch: int) -> int:
    for size, epochs in schedule:
        if epoch < epochs:
            return size
        epoch -= epochs
    return schedule[-1][0]


@torch.no_grad()
def predict_probs(
    model: nn.Module,
    data: DecodedSet,
    size: int,
    indices=None,
    batch: int = 8,
    keep_aspect: bool = True,
    flip: bool = False,
):
    """Yield (index, probability at original size) for validation images; ``flip`` averages
    with the mirrored input's map, as the app does for files exported with ``--flip-average``."""
    model.eval()
    dataset = SegEvalSet(data, size, keep_aspect)
    indices = list(range(len(data))) if indices is None else list(indices)
    for chunk in _same_size_chunks(dataset, indices, batch):
        x = torch.stack([dataset[i][0] for i in chunk])
        probs = model(x).float()
        if flip:
            probs = (probs + model(x.flip(-1)).float().flip(-1)) / 2
        probs = probs.numpy()[:, 0]
        for i, prob in zip(chunk, probs, strict=True):
            h, w = data.mask(i).shape
            yield i, np.clip(cv2.resize(prob, (w, h), interpolation=cv2.INTER_LINEAR), 0, 1)


def _same_size_chunks(dataset: SegEvalSet, indices: list[int], batch: int):
    """Runs of consecutive indices whose network inputs share a size, at most ``batch`` long."""
    chunk: list[int] = []
    for i in indices:
        if chunk and (len(chunk) == batch or dataset.network_size(i) != dataset.network_size(chunk[0])):
            yield chunk
            chunk = []
        chunk.append(i)
    if chunk:
        yield chunk


def evaluate_torch(
    model: nn.Module, data: DecodedSet, size: int, keep_aspect: bool = True, flip: bool = False
) -> dict[str, float]:
    metrics = SalientMetrics()
    t = time.time()
    for i, prob in predict_probs(model, data, size, keep_aspect=keep_aspect, flip=flip):
        metrics.add(prob, np.asarray(data.mask(i), np.float32) / 255.0)
    out = metrics.summary()
    out["eval_s"] = round(time.time() - t, 1)
    return out


def preview_grid(rows: list[list[np.ndarray]], cell: int = 160) -> np.ndarray:
    """Tile RGB/grey arrays into one image: one row per sample."""
    tiles = []
    for row in rows:
        cells = []
        for arr in row:
            if arr.ndim == 2:
                arr = np.repeat(arr[..., None], 3, axis=2)
            cells.append(cv2.resize(arr, (cell, cell), interpolation=cv2.INTER_AREA))
        tiles.append(np.hstack(cells))
    return np.vstack(tiles)


class SegTask:
    def __init__(
        self,
        train_set: SegTrainSet,
        val: DecodedSet,
        schedule,
        eval_size: int,
        side_weight: float,
        mae_weight: float = 0.0,
    ):
        self.train_set, self.val, self.schedule = train_set, val, schedule
        self.eval_size, self.side_weight, self.mae_weight = eval_size, side_weight, mae_weight
        self.preview_ids = list(np.linspace(0, len(val) - 1, min(PREVIEW_COUNT, len(val))).astype(int))

    def on_epoch_start(self, epoch: int) -> None:
        self.train_set.size = size_for_epoch(self.schedule, epoch)

    def train_loss(self, model, batch):
        x, y = batch
        outs = model(x, all_logits=True)
        return deep_supervision_loss(outs, y, self.side_weight, mae_weight=self.mae_weight)

    def evaluate(self, model) -> dict[str, float]:
        return evaluate_torch(model, self.val, self.eval_size)

    def score(self, metrics: dict[str, float]) -> float:
        return metrics["max_f"] - metrics["mae"]

    def save_previews(self, model, path: Path) -> None:
        rows = []
        for i, prob in predict_probs(model, self.val, self.eval_size, self.preview_ids):
            img = np.asarray(self.val.image(i))
            rows.append([img, np.asarray(self.val.mask(i)), (prob * 255).astype(np.uint8)])
        cv2.imwrite(str(path), cv2.cvtColor(preview_grid(rows), cv2.COLOR_RGB2BGR))


def build_model(args) -> tuple[SegNet, SegNetConfig]:
    """The preset's network; a pretrained encoder starts from its ImageNet weights unless the
    run warm-starts or resumes from a checkpoint of its own."""
    config = PRESETS[args.preset]
    if getattr(args, "freeze_bn_stages", None) is not None:
        config = replace(config, freeze_bn_stages=args.freeze_bn_stages)
    model = SegNet(config)
    if config.encoder == "lite0" and not args.init:
        load_pretrained_encoder(model.encoder)
    return model, config


def cmd_train(args: argparse.Namespace) -> int:
    schedule = parse_schedule(args.schedule)
    train_data = load_decoded(args.data, limit=args.limit)
    val_data = load_decoded(args.val, limit=args.val_limit)
    train_set = SegTrainSet(train_data, schedule[0][0], seed=args.seed, keep_aspect=args.keep_aspect)
    model, config = build_model(args)
    cfg = TrainConfig(
        epochs=sum(e for _, e in schedule),
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=args.warmup,
        bf16=not args.no_bf16,
        channels_last=not args.no_channels_last,
        compile=args.compile,
        num_workers=args.workers,
        **run_config(args),
    )
    task = SegTask(train_set, val_data, schedule, args.eval_size, args.side_weight, args.mae_weight)
    task_config = {
        "task": "seg",
        "schedule": args.schedule,
        "eval_size": args.eval_size,
        "train_crops": "keep-aspect" if args.keep_aspect else "square",
        "mae_weight": args.mae_weight,
        "train_data": str(args.data),
        "val_data": str(args.val),
        "mean": IMAGENET_MEAN,
        "std": IMAGENET_STD,
    }
    task_config["encoder_lr_scale"] = args.encoder_lr_scale
    groups = model.optimizer_groups(args.encoder_lr_scale)
    trainer = Trainer(model, "segnet", config.to_dict(), task, train_set, cfg, task_config, param_groups=groups)
    if args.init and not (args.resume and (Path(args.out) / "last.pt").is_file()):
        init_from(model, args.init)
        trainer.ema.model.load_state_dict(model.state_dict())
    if args.resume:
        trainer.resume()
    trainer.log(
        f"SegNet-{args.preset}: {count_parameters(model):,} parameters, "
        f"{len(train_set)} training pairs, schedule {schedule}"
    )
    history = trainer.train()
    if history:
        print(json.dumps(history[-1]))
    return 0


def init_from(model: nn.Module, ckpt_path: str) -> None:
    """Copy every tensor whose name and shape match (warm start from another run)."""
    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=False)
    source = ckpt.get("ema", ckpt.get("model"))
    own = model.state_dict()
    matched = {k: v for k, v in source.items() if k in own and own[k].shape == v.shape}
    model.load_state_dict(matched, strict=False)


def add_train_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--data", required=True, help="folder with images/ and masks/ (e.g. duts-tr)")
    p.add_argument("--val", required=True, help="validation folder (e.g. sod)")
    add_run_args(p, checkpoint_minutes=5.0)
    p.add_argument("--init", help="warm-start weights from another checkpoint")
    p.add_argument("--preset", default="m", choices=sorted(PRESETS))
    p.add_argument("--schedule", default="192:7,256:4,320:1", help="SIZE:EPOCHS,... progressive resizing")
    p.add_argument(
        "--keep-aspect",
        action="store_true",
        help="train on crops at each photo's own shape (short side = SIZE), batched by shape, "
        "as the app feeds photos; default: square crops",
    )
    p.add_argument(
        "--encoder-lr-scale",
        type=float,
        default=0.3,
        help="learning-rate factor for a pretrained encoder (its ImageNet features move slower than the decoder)",
    )
    p.add_argument(
        "--freeze-bn-stages",
        type=int,
        help="pretrained encoder: keep BatchNorm statistics of the stem and the first N-1 stages (default: preset)",
    )
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--warmup", type=int, default=300)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--eval-size", type=int, default=320)
    p.add_argument("--side-weight", type=float, default=0.4)
    p.add_argument(
        "--mae-weight", type=float, default=0.0, help="add this times the final map's MAE to the loss (firmer maps)"
    )
    p.add_argument("--limit", type=int, default=0, help="use only the first N training pairs")
    p.add_argument("--val-limit", type=int, default=0)
    p.add_argument("--no-bf16", action="store_true")
    p.add_argument("--no-channels-last", action="store_true")
    p.add_argument("--compile", action="store_true")
