"""``gen quality``: KID and FID-style distance of several exported generators in one run.

Each model is sampled exactly as the app samples it (its *natural* prior through
``desktop_app.core.latent``: the VAE's fitted mixture, the GAN's N(0, I)), seeds 0..n-1, via
its ONNX file. The data are split into two disjoint random halves A and B: every model is
compared with B using n = |B| samples, and A against B gives the floor (what a perfect model
would score with this many images). Same feature extractor, same B, same n for every row, so
the rows compare; they do not compare with published Inception FIDs (see ``training.fid``).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from ..data.emoji import load_emoji
from ..data.folder import default_cache_dir
from ..fid import FEATURE_NOTE, FeatureExtractor, distances, halves


def natural_samples(model: str, n: int, temperature: float = 1.0, seed: int = 0) -> tuple[np.ndarray, str]:
    """(n uint8 samples, prior description) of a generator ONNX file, as the app draws them."""
    from desktop_app.core.latent.generator import Generator, find_generator

    gen = Generator(find_generator(model))
    space = gen.info.space
    z = np.stack([space.sample(seed + i, temperature, True) for i in range(n)]).astype(np.float32)
    images = np.concatenate([gen.decode_batch(z[i : i + 256]) for i in range(0, n, 256)])
    prior = (
        "mixture fit" if space.mixture is not None else ("Gaussian fit" if space.fit_sigmas is not None else "N(0, I)")
    )
    return images, f"{gen.info.name} ({gen.info.kind_label}, {prior}, {gen.info.draw_word} {temperature})"


def _cached_features(extractor: FeatureExtractor, images: np.ndarray, tag: str) -> np.ndarray:
    key = hashlib.sha1(images.tobytes()).hexdigest()[:16]
    path = default_cache_dir() / f"features-{tag}-{key}.npy"
    if path.is_file():
        return np.load(path)
    feats = extractor(images)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.save(path, feats)
    return feats


def quality_table(
    models: list[str], data: str, size: int = 64, seed: int = 0, temperature: float = 1.0, feature_size: int = 128
) -> dict:
    """The rows of the comparison (see module docstring) and the settings that produced them."""
    t0 = time.time()
    images, _ = load_emoji(data, size)
    a_idx, b_idx = halves(len(images), seed)
    extractor = FeatureExtractor(size=feature_size)
    real = _cached_features(extractor, images, f"real{feature_size}")
    feats_a, feats_b = real[a_idx], real[b_idx]
    n = len(b_idx)
    rows = [{"model": "real half A (floor)", "n": len(a_idx), **distances(feats_a, feats_b)}]
    for model in models:
        samples, prior = natural_samples(model, n, temperature, seed)
        rows.append({"model": prior, "n": n, **distances(extractor(samples), feats_b)})
    return {
        "reference": f"real half B, {n} images of {Path(data).name} at {size}px",
        "features": FEATURE_NOTE.replace("224", str(feature_size)),
        "rows": rows,
        "seconds": round(time.time() - t0, 1),
    }


def add_quality_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("--model", action="append", required=True, help="generator ONNX or NAME (repeat)")
    p.add_argument("--data", required=True, help="the training images (e.g. fluent-emoji-3d)")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--seed", type=int, default=0, help="split of the halves and first sample seed")
    p.add_argument("--temperature", type=float, default=1.0, help="temperature / truncation of every prior")
    p.add_argument("--feature-size", type=int, default=128, help="images are upsampled to this for the features")
    p.add_argument("--json", help="also write the table as JSON here")


def cmd_quality(args: argparse.Namespace) -> int:
    report = quality_table(args.model, args.data, args.size, args.seed, args.temperature, args.feature_size)
    print(f"reference: {report['reference']}")
    print(f"features:  {report['features']}")
    print(f"{'model':<58} {'n':>5} {'KID x1e3':>14} {'FD':>9}")
    for r in report["rows"]:
        kid = f"{r['kid_x1000']:.2f} +- {r['kid_std_x1000']:.2f}"
        print(f"{r['model']:<58} {r['n']:>5} {kid:>14} {r['fd']:>9.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1))
    print(json.dumps(report))
    return 0
