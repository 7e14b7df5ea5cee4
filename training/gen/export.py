"""``gen export``: PCA directions of the latent space, ONNX decoder + encoder, and figures.

Directions follow GANSpace (Härkönen et al., 2020) and CodeParade's FaceEditor: encode the
training set, take the posterior means, and run PCA. Component k gets its unit vector d_k and
the standard deviation sigma_k of the data along it, so a slider value v (in sigmas) moves a
latent point by ``v * sigma_k * d_k`` and "+-3" spans the data on every slider alike. The
latent mean is stored too: it is the centre of the data, a better "neutral" point than 0.

Both files carry the same latent description in ``extra`` (metadata keys of
``desktop_app.core.model_meta``), so either one alone tells the app how to use it.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import onnxruntime as ort
import torch
from torch import nn

from desktop_app.core import model_meta as meta
from desktop_app.core.latent.mixture import MixturePrior

from ..data.emoji import load_emoji, split
from ..export import export_onnx, parity
from ..models.vae import VAE, Directions, VAEConfig, count_parameters
from ..trainer import load_checkpoint
from .config import TRAINING_DATA
from .figures import onnx_decoder, recon_grid, sample_grid, save_png, tile, write_sweeps
from .train import evaluate_vae, reconstruct

VERSION = "1"
PARITY_TOLERANCE = 1e-4


def model_from_checkpoint(ckpt: dict, use_ema: bool = True) -> VAE:
    model = VAE(VAEConfig.from_dict(ckpt["model_config"]))
    model.load_state_dict(ckpt["ema" if use_ema else "model"])
    return model.eval()


def pca_directions(means: np.ndarray, k: int) -> Directions:
    """Top-``k`` principal directions of ``means`` (N x D), signs fixed for reproducibility."""
    centre = means.mean(axis=0)
    _, s, vt = np.linalg.svd(means - centre, full_matrices=False)
    sigmas = s / np.sqrt(max(1, len(means) - 1))
    var = sigmas**2
    vt = vt * np.sign(vt[np.arange(len(vt)), np.abs(vt).argmax(axis=1)])[:, None]  # largest entry > 0
    k = min(k, len(vt))
    return Directions(
        mean=centre.tolist(),
        vectors=vt[:k].tolist(),
        sigmas=sigmas[:k].tolist(),
        explained=(var[:k] / var.sum()).tolist(),
    )


MIXTURE_CANDIDATES = (1, 5, 10, 20)


def fit_mixture(
    train_means: np.ndarray, val_means: np.ndarray, candidates=MIXTURE_CANDIDATES, seed: int = 0
) -> tuple[MixturePrior, dict[str, float]]:
    """Full-covariance Gaussian mixture of the posterior means (scikit-learn's EM), with the
    number of components chosen by mean log-likelihood of the held-out images' means: more
    components than the data supports start to memorise training images, which the held-out
    score catches. Returns the prior and the score per candidate."""
    from sklearn.mixture import GaussianMixture

    scores: dict[str, float] = {}
    best, best_score = None, -np.inf
    for k in candidates:
        if k > len(train_means) // 10:
            continue
        gm = GaussianMixture(k, covariance_type="full", reg_covar=1e-3, n_init=2, random_state=seed)
        gm.fit(train_means)
        scores[str(k)] = round(float(gm.score(val_means)), 3)
        if scores[str(k)] > best_score:
            best, best_score = gm, scores[str(k)]
    assert best is not None, "need at least 10 training images per mixture component"
    chol = np.linalg.cholesky(best.covariances_)
    return MixturePrior(best.weights_ / best.weights_.sum(), best.means_, chol), scores


class EncoderGraph(nn.Module):
    """The encoder alone, returning (mean, log-variance) for ONNX."""

    def __init__(self, vae: VAE):
        super().__init__()
        self.encoder = vae.encoder

    def forward(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.encoder(image)


def _round(values, digits: int = 6):
    """Shorter JSON: 6 significant digits is far below what a slider can show."""
    if isinstance(values, list):
        return [_round(v, digits) for v in values]
    return float(f"{values:.{digits}g}")


def latent_extra(
    ckpt: dict,
    model: VAE,
    dirs: Directions,
    fit: Directions,
    pair: dict[str, str],
    mixture: MixturePrior,
    mixture_scores: dict[str, float],
) -> dict:
    cfg = model.cfg
    task = ckpt.get("task_config", {})
    return {
        "latent_size": cfg.latent,
        "image_size": [cfg.size, cfg.size],
        "output_range": [0.0, 1.0],
        "background": task.get("background", "white"),
        "prior": "standard normal N(0, I)",
        "latent_mean": _round(dirs.mean),
        "directions": _round(dirs.vectors),
        "sigmas": _round(dirs.sigmas),
        "explained_variance": _round(dirs.explained, 4),
        "direction_source": "PCA of posterior means over the training split",
        "fit_directions": _round(fit.vectors, 5),  # all components: a Gaussian fit of the data for sampling
        "fit_sigmas": _round(fit.sigmas),
        "mixture": mixture.to_extra(),  # Gaussian mixture of the posterior means: what "Randomize" draws from
        "mixture_selection": {
            "held_out_loglik_per_components": mixture_scores,
            "chosen_components": mixture.components,
        },
        **pair,
        "architecture": "convolutional VAE (residual conv-BN-SiLU, nearest upsampling)",
        "parameters": count_parameters(model),
        "model_config": ckpt["model_config"],
        "loss": task.get("loss", {}),
        "trained_steps": ckpt.get("step"),
        "training_minutes_cpu": round(ckpt.get("elapsed", 0.0) / 60, 1),
    }


def export_vae(
    ckpt_path: str,
    out: str,
    data: str | None = None,
    k: int = 24,
    figures: str | None = None,
    use_ema: bool = True,
    name: str = "",
) -> dict:
    """Write ``OUT-decoder.onnx`` and ``OUT-encoder.onnx`` (+ figures); returns a report dict."""
    t0 = time.time()
    ckpt = load_checkpoint(ckpt_path)
    model = model_from_checkpoint(ckpt, use_ema)
    task = ckpt.get("task_config", {})
    images, stems = load_emoji(data or task["data"], model.cfg.size, limit=task.get("limit", 0))
    train_idx, val_idx = split(stems, task.get("val_fraction", 0.1))
    _, train_means = reconstruct(model, images[train_idx])
    fit = pca_directions(train_means, model.cfg.latent)
    dirs = Directions(fit.mean, fit.vectors[:k], fit.sigmas[:k], fit.explained[:k])
    _, val_means = reconstruct(model, images[val_idx])
    mixture, mixture_scores = fit_mixture(train_means, val_means)
    metrics = {key: round(v, 4) for key, v in evaluate_vae(model, images[val_idx]).items()}
    metrics["validation_images"] = len(val_idx)

    prefix = Path(out)
    name = name or prefix.name
    dec_path = prefix.with_name(f"{prefix.name}-decoder.onnx")
    enc_path = prefix.with_name(f"{prefix.name}-encoder.onnx")
    common = {
        meta.KEY_NAME: name,
        meta.KEY_VERSION: VERSION,
        meta.KEY_INPUT_SIZE: f"{model.cfg.size},{model.cfg.size}",
        meta.KEY_CHANNEL_ORDER: "RGB",
        meta.KEY_MEAN: "0.0,0.0,0.0",
        meta.KEY_STD: "1.0,1.0,1.0",
        meta.KEY_OUTPUT_INDEX: "0",
        meta.KEY_ACTIVATION: "none",
        meta.KEY_TRAINING_DATA: TRAINING_DATA,
        meta.KEY_METRICS: json.dumps(metrics),
    }

    def extra(pair: dict[str, str]) -> str:
        return json.dumps(latent_extra(ckpt, model, dirs, fit, pair, mixture, mixture_scores))

    dec_meta = {
        **common,
        meta.KEY_KIND: meta.KIND_GENERATOR_DECODER,
        meta.KEY_OUTPUT_MEANING: "RGB image in [0,1], N x 3 x H x W, on a white background",
        meta.KEY_EXTRA: extra({"encoder": enc_path.name}),
    }
    enc_meta = {
        **common,
        meta.KEY_KIND: meta.KIND_GENERATOR_ENCODER,
        meta.KEY_OUTPUT_MEANING: "posterior mean and log-variance of z, N x latent each; input RGB in [0,1]",
        meta.KEY_EXTRA: extra({"decoder": dec_path.name}),
    }
    z = torch.randn(2, model.cfg.latent)
    x = torch.rand(2, 3, model.cfg.size, model.cfg.size)
    export_onnx(model.decoder, (z,), dec_path, ["z"], ["image"], dec_meta)
    encoder = EncoderGraph(model).eval()
    export_onnx(encoder, (x,), enc_path, ["image"], ["mean", "logvar"], enc_meta)
    diff_dec = parity(model.decoder, (z,), dec_path)
    diff_enc = max(parity(encoder, (x,), enc_path), _logvar_parity(encoder, x, enc_path))

    report = {
        "decoder": str(dec_path),
        "encoder": str(enc_path),
        "decoder_mb": round(dec_path.stat().st_size / 1e6, 2),
        "encoder_mb": round(enc_path.stat().st_size / 1e6, 2),
        "parity_decoder": diff_dec,
        "parity_encoder": diff_enc,
        "metrics": metrics,
        "explained_top": _round(dirs.explained[:8], 3),
        "sigmas_top": _round(dirs.sigmas[:8], 3),
        "mixture_components": mixture.components,
        "mixture_held_out_loglik": mixture_scores,
    }
    fig_dir = Path(figures) if figures else Path(ckpt_path).parent / "figures"
    report["figures"] = str(write_figures(dec_path, fig_dir, images[val_idx], model, dirs, fit, mixture))
    report["seconds"] = round(time.time() - t0, 1)
    return report


def _logvar_parity(encoder: nn.Module, x: torch.Tensor, path: Path) -> float:
    with torch.no_grad():
        expected = encoder(x)[1].numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return float(np.abs(session.run(["logvar"], {"image": x.numpy()})[0] - expected).max())


def write_figures(
    dec_path: Path,
    out_dir: Path,
    val_images: np.ndarray,
    model: VAE,
    dirs: Directions,
    fit: Directions,
    mixture: MixturePrior,
) -> Path:
    """samples.png (the mixture fit, seeds 0-63 as the app's seed box draws them),
    samples-gaussian.png (single Gaussian fit), samples-prior.png (N(0, I)), reconstructions.png
    (validation) and sweep-NN.png / sweeps.png, all decoded by the exported ONNX file."""
    decode = onnx_decoder(dec_path)
    latent = model.cfg.latent
    gauss = (np.asarray(fit.mean), np.asarray(fit.vectors), np.asarray(fit.sigmas))
    mix_z = np.stack([mixture.sample(seed) for seed in range(64)]).astype(np.float32)
    save_png(tile(decode(mix_z), cols=8), out_dir / "samples.png")
    save_png(sample_grid(decode, latent, 64, seed=0, fit=gauss), out_dir / "samples-gaussian.png")
    save_png(sample_grid(decode, latent, 64, seed=0), out_dir / "samples-prior.png")
    pick = np.linspace(0, len(val_images) - 1, min(32, len(val_images))).astype(int)
    recons, val_means = reconstruct(model, val_images[pick])
    save_png(recon_grid(val_images[pick], recons, cols=8), out_dir / "reconstructions.png")
    bases = np.stack([np.asarray(dirs.mean), val_means[0], val_means[len(val_means) // 2]]).astype(np.float32)
    write_sweeps(decode, out_dir, bases, np.asarray(dirs.vectors, np.float32), np.asarray(dirs.sigmas), dirs.explained)
    return out_dir


def add_export_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--ckpt", required=True, help="training checkpoint (runs/gen-NAME/last.pt)")
    p.add_argument("--out", required=True, help="prefix: assets/models/NAME -> NAME-decoder.onnx, NAME-encoder.onnx")
    p.add_argument("--data", help="training images (default: the folder recorded in the checkpoint)")
    p.add_argument("--k", type=int, default=24, help="number of PCA directions (sliders) to keep")
    p.add_argument("--figures", help="folder for the PNGs (default: next to the checkpoint, figures/)")
    p.add_argument("--raw-weights", action="store_true", help="export raw instead of EMA weights")
    p.add_argument("--name", default="", help="model name in the metadata (default: the prefix's name)")
    p.add_argument("--kind", choices=("vae", "gan"), help="checked against the checkpoint (default: detected from it)")
    p.add_argument(
        "--names", default="", help="GAN: comma-separated names of the first directions (after their sweeps)"
    )
    p.add_argument("--metrics", help="GAN: a JSON file of metrics to store in the metadata (e.g. from gen quality)")
    p.add_argument(
        "--average",
        nargs="+",
        default=[],
        metavar="CKPT",
        help="GAN: more checkpoints of the same run; the file gets the mean of all their EMA weights",
    )
    p.add_argument(
        "--standing-stats",
        type=int,
        default=300,
        metavar="BATCHES",
        help="GAN: re-estimate BatchNorm statistics from this many prior batches at the training batch size "
        "(0: keep the running statistics)",
    )


def cmd_export(args: argparse.Namespace) -> int:
    kind = load_checkpoint(args.ckpt).get("model_kind", "vae")
    if args.kind and args.kind != kind:
        raise SystemExit(f"{args.ckpt} is a {kind} checkpoint, not {args.kind}")
    if kind == "gan":
        return _cmd_export_gan(args)
    report = export_vae(args.ckpt, args.out, args.data, args.k, args.figures, not args.raw_weights, args.name)
    for key in ("decoder", "encoder"):
        print(f"wrote {report[key]} ({report[key + '_mb']:.2f} MB); parity max abs diff {report['parity_' + key]:.2e}")
    m = report["metrics"]
    print(
        f"validation (n={m['validation_images']}): PSNR {m['psnr']:.2f} dB, SSIM {m['ssim']:.4f}, KL {m['kl']:.1f} nats"
    )
    print(f"top directions explain {report['explained_top']} of the variance; figures in {report['figures']}")
    print(json.dumps(report))
    ok = max(report["parity_decoder"], report["parity_encoder"]) < PARITY_TOLERANCE
    return 0 if ok else 1


def _cmd_export_gan(args: argparse.Namespace) -> int:
    from .gan_export import export_gan

    names = [n.strip() for n in args.names.split(",")] if args.names else []
    metrics = json.loads(Path(args.metrics).read_text()) if args.metrics else None
    report = export_gan(
        args.ckpt,
        args.out,
        args.k,
        args.figures,
        not args.raw_weights,
        args.name,
        names,
        metrics,
        average=args.average,
        standing_batches=args.standing_stats,
    )
    print(f"wrote {report['generator']} ({report['generator_mb']:.2f} MB); parity max abs diff {report['parity']:.2e}")
    print(
        f"SeFa: the top directions carry {report['sefa_share_top']} of the first layer's response; "
        f"figures in {report['figures']}"
    )
    print(json.dumps(report))
    return 0 if report["parity"] < PARITY_TOLERANCE else 1
