"""``python -m training clicks train|eval|export``: the click-segmentation model."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn

from desktop_app.core import model_meta as meta
from desktop_app.core.clicks.engine import (
    DEFAULT_EXPANSION,
    DEFAULT_MIN_CROP,
    ClickModelSpec,
    ClickPredictor,
    encode_guidance,
)

from ..data.click_dataset import ClickTrainSet
from ..data.click_sim import next_click
from ..data.folder import load_decoded
from ..export import checkpoint_metrics, credit_training_data, export_onnx, parity, store_file_weights_fp16
from ..losses import PIXEL_LOSSES, deep_supervision_loss, gap_map
from ..models.clicknet import ClickNet, click_config, init_from_segnet
from ..models.efficientnet_lite import IMAGENET_MEAN, IMAGENET_STD, load_pretrained_encoder
from ..models.segnet import PRESETS, SegNetConfig, count_parameters
from ..run_args import add_run_args, run_config
from ..trainer import TrainConfig, Trainer, load_checkpoint
from .config import TRAINING_DATA
from .evaluate import evaluate_clicks, grabcut_predict


def radius_for(size: int) -> float:
    return size / 64


class ClickTask:
    """RITM-style iterative training: some no-grad rounds add clicks at the model's own errors."""

    def __init__(
        self,
        val: str,
        size: int,
        eval_size: int,
        max_iters: int,
        val_limit: int,
        seed: int,
        pixel_loss: str = "bce",
        gap_weight: float = 0.0,
    ):
        """``gap_weight``: extra BCE weight on the background a closing of the object would fill
        (:func:`gap_map`, kernel ~1/16 of the crop): the price of spilling into the grass
        between two legs when a click adds one of them."""
        self.val, self.size, self.eval_size = val, size, eval_size
        self.pixel_loss, self.gap_weight = pixel_loss, gap_weight
        self.max_iters, self.val_limit = max_iters, val_limit
        self.rng = np.random.default_rng(seed + 7)

    def on_epoch_start(self, epoch: int) -> None:
        pass

    def train_loss(self, model, batch):
        x, gt, guidance = batch
        n_iters = int(self.rng.integers(0, self.max_iters + 1))
        if n_iters:
            guidance = guidance.clone()
            gt_np = gt[:, 0].numpy() > 0.5
            with torch.no_grad():
                for _ in range(n_iters):
                    prob = model(x, guidance).float()
                    self._add_error_clicks(prob[:, 0].numpy(), gt_np, guidance)
                    guidance[:, 2] = prob[:, 0]
        outs = model(x, guidance, all_logits=True)
        weight = None
        if self.gap_weight:
            kernel = (gt.shape[-1] // 16) | 1
            weight = 1.0 + self.gap_weight * gap_map(gt, kernel)
        loss, logs = deep_supervision_loss(outs, gt, pixel=self.pixel_loss, weight=weight)
        logs["sim_iters"] = n_iters
        return loss, logs

    def _add_error_clicks(self, prob: np.ndarray, gt: np.ndarray, guidance: torch.Tensor) -> None:
        r = radius_for(guidance.shape[-1])
        for i in range(prob.shape[0]):
            click = next_click(prob[i] > 0.5, gt[i])
            if click is not None:
                maps = encode_guidance([click], guidance.shape[-1], r)
                ch = 0 if click.positive else 1
                guidance[i, ch] = torch.maximum(guidance[i, ch], torch.from_numpy(maps[ch]))

    def evaluate(self, model) -> dict[str, float]:
        return evaluate_clicks(torch_predictor(model, self.eval_size).predict, self.val, self.val_limit)

    def score(self, metrics: dict[str, float]) -> float:
        return -metrics["noc90"] - 0.5 * metrics["noc85"]

    def save_previews(self, model, path: Path) -> None:
        pass  # the NoC curves in val.csv say more than pictures here


def click_spec(size: int, metrics: dict | None = None, name: str = "") -> ClickModelSpec:
    return ClickModelSpec(
        input_size=size,
        mean=IMAGENET_MEAN,
        std=IMAGENET_STD,
        radius=radius_for(size),
        expansion=DEFAULT_EXPANSION,
        min_crop=DEFAULT_MIN_CROP,
        metrics=metrics or {},
        name=name,
    )


def torch_predictor(model: nn.Module, size: int) -> ClickPredictor:
    model.eval()

    @torch.no_grad()
    def run(image: np.ndarray, guidance: np.ndarray) -> np.ndarray:
        return model(torch.from_numpy(image), torch.from_numpy(guidance)).float().numpy()

    return ClickPredictor(click_spec(size), run)


def cmd_train(args) -> int:
    data = load_decoded(args.data, limit=args.limit)
    train_set = ClickTrainSet(
        data,
        args.size,
        seed=args.seed,
        radius=radius_for(args.size),
        object_crop_prob=args.object_crop_prob,
        focus_prob=args.focus_prob,
    )
    base = PRESETS[args.preset]
    seg_ckpt = load_checkpoint(args.init_seg) if args.init_seg else None
    init_ckpt = load_checkpoint(args.init) if args.init else None
    if init_ckpt is not None:
        base = SegNetConfig.from_dict(init_ckpt["model_config"])
    elif seg_ckpt is not None:
        base = SegNetConfig.from_dict(seg_ckpt["model_config"])
    config = click_config(base)
    model = ClickNet(config)
    if config.encoder == "lite0" and seg_ckpt is None and init_ckpt is None:
        load_pretrained_encoder(model.net.encoder)  # ImageNet RGB path; the click branch starts at zero
    cfg = TrainConfig(
        epochs=args.epochs,
        batch_size=args.batch_size,
        lr=args.lr,
        warmup_steps=args.warmup,
        num_workers=args.workers,
        bf16=not args.no_bf16,
        **run_config(args),
    )
    task = ClickTask(
        args.val, args.size, args.eval_size, args.max_iters, args.val_limit, args.seed, args.loss, args.gap_weight
    )
    task_config = {
        "task": "clicks",
        "size": args.size,
        "eval_size": args.eval_size,
        "train_data": str(args.data),
        "val_data": str(args.val),
        "init_seg": args.init_seg,
        "init": args.init,
        "object_crop_prob": args.object_crop_prob,
        "focus_prob": args.focus_prob,
        "loss": args.loss,
        "gap_weight": args.gap_weight,
    }
    task_config["encoder_lr_scale"] = args.encoder_lr_scale
    task_config["guidance_lr_scale"] = args.guidance_lr_scale
    groups = model.net.optimizer_groups(args.encoder_lr_scale, args.guidance_lr_scale)
    trainer = Trainer(model, "clicknet", config.to_dict(), task, train_set, cfg, task_config, param_groups=groups)
    resumed = args.resume and trainer.resume()
    if init_ckpt is not None and not resumed:  # a new phase: weights only, fresh schedule
        model.load_state_dict(init_ckpt["ema"])
        trainer.ema.model.load_state_dict(init_ckpt["ema"])
        trainer.log(f"initialised from {args.init} (step {init_ckpt.get('step')})")
    elif seg_ckpt is not None and not resumed:
        n = init_from_segnet(model, seg_ckpt["ema"])
        trainer.ema.model.load_state_dict(model.state_dict())
        trainer.log(f"initialised {n} tensors from {args.init_seg}")
    trainer.log(f"ClickNet: {count_parameters(model):,} parameters, {len(train_set)} training pairs")
    history = trainer.train()
    if history:
        print(json.dumps(history[-1]))
    return 0


def model_from_checkpoint(ckpt: dict, use_ema: bool = True) -> ClickNet:
    model = ClickNet(SegNetConfig.from_dict(ckpt["model_config"]))
    model.load_state_dict(ckpt["ema" if use_ema else "model"])
    return model.eval()


def cmd_export(args) -> int:
    ckpt = load_checkpoint(args.ckpt)
    model = model_from_checkpoint(ckpt)
    size = args.size or int(ckpt["task_config"].get("eval_size", 320))
    metrics = checkpoint_metrics(ckpt)
    metrics["validation_data"] = Path(str(ckpt["task_config"].get("val_data", "berkeley"))).name
    spec = click_spec(size)
    metadata = {
        meta.KEY_KIND: meta.KIND_CLICKS,
        meta.KEY_NAME: args.name or Path(args.out).stem,
        meta.KEY_VERSION: "1",
        meta.KEY_INPUT_SIZE: f"{size},{size}",
        meta.KEY_CHANNEL_ORDER: "RGB",
        meta.KEY_MEAN: meta.format_floats(IMAGENET_MEAN),
        meta.KEY_STD: meta.format_floats(IMAGENET_STD),
        meta.KEY_OUTPUT_INDEX: "0",
        meta.KEY_ACTIVATION: "none",
        meta.KEY_OUTPUT_MEANING: "object probability in [0,1] for the zoom crop, N x 1 x S x S",
        meta.KEY_TRAINING_DATA: credit_training_data(TRAINING_DATA, model.config.encoder),
        meta.KEY_METRICS: json.dumps(metrics),
        meta.KEY_EXTRA: json.dumps(
            {
                "inputs": {
                    "image": "N x 3 x S x S, RGB /255, ImageNet mean/std",
                    "guidance": "N x 3 x S x S: positive-click disks, negative-click disks, previous mask",
                },
                "test_time_flip": not args.no_flip,
                "click_radius": spec.radius,
                "zoom_expansion": spec.expansion,
                "zoom_min_crop": spec.min_crop,
                "parameters": count_parameters(model),
                "model_config": ckpt["model_config"],
                "trained_steps": ckpt.get("step"),
                "training_hours_cpu2": round(ckpt.get("elapsed", 0) / 3600, 2),
            }
        ),
    }
    inputs = (torch.rand(2, 3, size, size), (torch.rand(2, 3, size, size) > 0.9).float())
    path = export_onnx(model, inputs, args.out, ["image", "guidance"], ["mask"], metadata)
    diff = parity(model, inputs, path)
    print(f"wrote {path} ({path.stat().st_size / 1e6:.2f} MB); parity max abs diff {diff:.2e}")
    if args.fp16_weights:  # parity above is of the float32 file; this is the rounding on top of it
        extra = json.loads(metadata[meta.KEY_EXTRA])
        rounding = store_file_weights_fp16(path, metadata, extra, [[x.numpy() for x in inputs]])
        print(f"weights stored as float16: {path.stat().st_size / 1e6:.2f} MB; rounding max abs diff {rounding:.2e}")
    return 0 if diff < 1e-4 else 1


def cmd_eval(args) -> int:
    from desktop_app.core.clicks.engine import ClickSegmenter, find_click_model
    from desktop_app.core.models import embedded_models

    model_path = args.model or find_click_model(embedded_models())
    if model_path is None:
        sys.exit("no embedded click model in assets/models; pass --model")
    flip = False if args.no_flip else None  # None: as the file's metadata says
    engine = ClickSegmenter(model_path, flip_average=flip, focus=False if args.no_focus else None)

    def predict(rgb, clicks, prev):
        return engine.predict(rgb, clicks, prev, local=args.local)

    ours = evaluate_clicks(predict, args.data, args.limit, worst_png=args.worst)
    ours["test_time_flip"] = engine.spec.flip_average
    ours["focus_fraction"] = engine.spec.focus_fraction
    ours["progressive_merge"] = args.local
    result = {"model": str(model_path), "data": str(args.data), **ours}
    if not args.no_baseline:
        result["baseline"] = {"name": "grabcut-clicks", **evaluate_clicks(grabcut_predict, args.data, args.limit)}
    rows = [("ours: " + Path(model_path).name, result)]
    if "baseline" in result:
        rows.append(("baseline: grabcut seeded by clicks", result["baseline"]))
    print(f"{'method':40s} {'NoC@85':>7s} {'NoC@90':>7s} {'IoU@1':>6s} {'IoU@3':>6s} {'IoU@5':>6s} {'ms/click':>8s}")
    for name, m in rows:
        print(
            f"{name:40s} {m['noc85']:7.2f} {m['noc90']:7.2f} {m['iou_at_1']:6.3f} {m['iou_at_3']:6.3f} "
            f"{m['iou_at_5']:6.3f} {m['ms_per_click']:8.1f}"
        )
    print(f"n={result['n']} images")
    if args.json:
        print(json.dumps(result))
    return 0


def add_commands(sub) -> None:
    p = sub.add_parser("train", help="train a click model")
    p.add_argument("--data", required=True)
    p.add_argument("--val", required=True)
    add_run_args(p, checkpoint_minutes=4.0)
    p.add_argument("--init-seg", help="start from a segmentation checkpoint (recommended)")
    p.add_argument("--init", help="start a new phase from a click checkpoint (its EMA weights)")
    p.add_argument(
        "--object-crop-prob",
        type=float,
        default=0.5,
        help="share of samples cropped around the object, as the zoom-in crops it",
    )
    p.add_argument("--preset", default="m", choices=sorted(PRESETS))
    p.add_argument(
        "--loss",
        default="bce",
        choices=PIXEL_LOSSES,
        help="pixel term next to soft IoU: bce, or RITM's normalized focal loss (nfl)",
    )
    p.add_argument(
        "--gap-weight",
        type=float,
        default=0.0,
        help="extra BCE weight on background between thin parts (what a closing of the object fills)",
    )
    p.add_argument(
        "--encoder-lr-scale",
        type=float,
        default=0.3,
        help="learning-rate factor for the pretrained encoder's RGB path (lite0 presets)",
    )
    p.add_argument(
        "--guidance-lr-scale",
        type=float,
        default=10.0,
        help="learning-rate factor for the zero-initialised click branch (lite0 presets)",
    )
    p.add_argument("--size", type=int, default=256)
    p.add_argument(
        "--focus-prob",
        type=float,
        default=0.0,
        help="share of samples drawn as the editor's focus pass sees a click (zoomed window around it)",
    )
    p.add_argument("--eval-size", type=int, default=256)
    p.add_argument("--epochs", type=int, default=4)
    p.add_argument("--batch-size", type=int, default=16)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--warmup", type=int, default=100)
    p.add_argument("--max-iters", type=int, default=3, help="max no-grad click rounds per batch")
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--limit", type=int, default=0)
    p.add_argument("--val-limit", type=int, default=0)
    p.add_argument("--no-bf16", action="store_true")
    e = sub.add_parser("eval", help="NoC@85/90 on a folder (e.g. berkeley)")
    e.add_argument("--model", help="ONNX click model (default: the embedded one)")
    e.add_argument("--data", required=True)
    e.add_argument("--json", action="store_true")
    e.add_argument("--limit", type=int, default=0)
    e.add_argument("--no-baseline", action="store_true")
    e.add_argument(
        "--no-flip", action="store_true", help="one pass per click, even if the file asks for mirror averaging"
    )
    e.add_argument("--no-focus", action="store_true", help="no focus crop around the newest click (ablation)")
    e.add_argument(
        "--local",
        action="store_true",
        help="progressive merge, as the editor's 'Keep clicks local': only the change under the newest click",
    )
    e.add_argument("--worst", metavar="PNG", help="save a grid of the 6 images that needed the most clicks")
    x = sub.add_parser("export", help="checkpoint -> ONNX with metadata")
    x.add_argument("--ckpt", required=True)
    x.add_argument("--out", required=True)
    x.add_argument("--size", type=int, default=0)
    x.add_argument("--name", default="")
    x.add_argument(
        "--no-flip", action="store_true", help="do not ask the app to average with the mirrored input (on by default)"
    )
    x.add_argument(
        "--fp16-weights", action="store_true", help="store weights as float16 (half the file, float32 arithmetic)"
    )


def run(args) -> int:
    return {"train": cmd_train, "eval": cmd_eval, "export": cmd_export}[args.cmd](args)
