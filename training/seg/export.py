"""Rebuild a SegNet from its checkpoint and export it with the app's metadata."""

from __future__ import annotations

import json
from pathlib import Path

import torch

from desktop_app.core import model_meta as meta
from desktop_app.core.models import keep_aspect_size

from ..export import checkpoint_metrics, credit_training_data, export_onnx, parity, store_file_weights_fp16
from ..models.segnet import SegNet, SegNetConfig, count_parameters
from ..trainer import load_checkpoint
from .config import ARCHITECTURES, TRAINING_DATA

VERSION = "1"


def model_from_checkpoint(ckpt: dict, use_ema: bool = True) -> SegNet:
    model = SegNet(SegNetConfig.from_dict(ckpt["model_config"]))
    model.load_state_dict(ckpt["ema" if use_ema else "model"])
    return model.eval()


def export_checkpoint(
    ckpt_path: str,
    out: str,
    size: int = 0,
    rembg: bool = False,
    use_ema: bool = True,
    name: str = "",
    keep_aspect: bool = True,
    revalidate: bool = False,
    flip_average: bool = False,
    fp16_weights: bool = False,
) -> tuple[Path, float, float | None]:
    """Write the ONNX file; returns it, the max abs PyTorch/onnxruntime difference and, with
    ``fp16_weights``, the max abs change that storing the weights as float16 causes.

    Our own files take any height and width and say "keep-aspect" (shorter side ``size``), so
    the app never squashes a photo; ``rembg`` files are the fixed 320x320 rembg expects. Parity
    is checked on a square and on both orientations of a 3:2 input. ``revalidate`` measures the
    exported weights on the run's validation set again, resized as this file will be (for a
    checkpoint whose recorded metrics came from another input size or resize mode).
    ``flip_average`` asks the app to average each map with its mirror image's (metadata
    "test_time_flip"); ``revalidate`` then measures it that way. ``fp16_weights`` checks
    parity on the float32 file first, then stores its weights as float16 (half the bytes,
    float32 arithmetic; see :func:`store_weights_fp16`). Metadata metrics stay those of the
    float32 weights; ``seg eval`` measures the file itself.
    """
    ckpt = load_checkpoint(ckpt_path)
    model = model_from_checkpoint(ckpt, use_ema)
    task = ckpt.get("task_config", {})
    size = 320 if rembg else (size or int(task.get("eval_size", 320)))
    mean = task.get("mean", (0.485, 0.456, 0.406))
    std = task.get("std", (0.229, 0.224, 0.225))
    name = name or Path(out).stem
    keep_aspect = keep_aspect and not rembg
    metrics = checkpoint_metrics(ckpt)
    if revalidate and not rembg:
        val_dir = str(task.get("val_data", ""))
        metrics = _measure(model, val_dir, size, keep_aspect, flip_average) | {"step": ckpt.get("step")}
    metrics["validation_data"] = Path(str(task.get("val_data", "sod"))).name
    encoder = model.config.encoder
    training_data = credit_training_data(TRAINING_DATA, encoder)
    metadata = {
        meta.KEY_KIND: meta.KIND_SEGMENTATION,
        meta.KEY_NAME: name,
        meta.KEY_VERSION: VERSION,
        meta.KEY_INPUT_SIZE: f"{size},{size}",
        meta.KEY_CHANNEL_ORDER: "RGB",
        meta.KEY_MEAN: meta.format_floats(mean),
        meta.KEY_STD: meta.format_floats(std),
        meta.KEY_OUTPUT_INDEX: "0",
        meta.KEY_ACTIVATION: "none",
        meta.KEY_OUTPUT_MEANING: "foreground probability in [0,1], N x 1 x H x W at the input size",
        meta.KEY_TRAINING_DATA: training_data,
        meta.KEY_METRICS: json.dumps(metrics),
        meta.KEY_RESIZE: meta.RESIZE_KEEP_ASPECT if keep_aspect else meta.RESIZE_STRETCH,
        meta.KEY_SIZE_MULTIPLE: str(meta.DEFAULT_SIZE_MULTIPLE),
        meta.KEY_MAX_ASPECT: repr(meta.DEFAULT_MAX_ASPECT),
    }
    extra = {
        "architecture": ARCHITECTURES[encoder],
        "parameters": count_parameters(model),
        "model_config": ckpt["model_config"],
        "trained_steps": ckpt.get("step"),
        "training_hours_cpu2": round(ckpt.get("elapsed", 0.0) / 3600, 2),
        "rembg_compatible": rembg,
        "test_time_flip": flip_average and not rembg,
        "weight_storage": "float16, cast to float32 when loaded" if fp16_weights else "float32",
    }
    metadata[meta.KEY_EXTRA] = json.dumps(extra)
    x = torch.rand(2 if not rembg else 1, 3, size, size)
    path = export_onnx(
        model, (x,), out, ["image"], ["alpha"], metadata, dynamic_batch=not rembg, dynamic_hw=keep_aspect
    )
    shapes = [x.shape]
    if keep_aspect:  # a 3:2 landscape and portrait, sized as the app will size them
        shapes += [(1, 3, *keep_aspect_size(2, 3, size)), (1, 3, *keep_aspect_size(3, 2, size))]
    probes = [torch.rand(*s) for s in shapes]
    diff = max(parity(model, (x,), path) for x in probes)
    rounding = None
    if fp16_weights:  # parity above is of the float32 file; this is the rounding on top of it
        rounding = store_file_weights_fp16(path, metadata, extra, [x.numpy() for x in probes])
    return path, diff, rounding


def _measure(model: SegNet, val_dir: str, size: int, keep_aspect: bool, flip: bool = False) -> dict:
    from ..data.folder import load_decoded
    from .train import evaluate_torch

    if not Path(val_dir).is_dir():
        raise FileNotFoundError(f"--revalidate: the run's validation folder {val_dir!r} is not here")
    out = evaluate_torch(model, load_decoded(val_dir), size, keep_aspect=keep_aspect, flip=flip)
    resize = meta.RESIZE_KEEP_ASPECT if keep_aspect else meta.RESIZE_STRETCH
    return out | {"eval_size": size, "resize": resize, "test_time_flip": flip}
