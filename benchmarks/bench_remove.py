"""End-to-end background-removal timing: Seed Studio's CLI against rembg on the same ONNX file.

What is timed is what a user waits for: a fresh process that decodes the photo(s), runs the
model, composes and encodes PNG cut-outs. Two scenarios:

* one photo (a 12 MP JPEG made by enlarging a data-set image: phone-sized decode/encode);
* a folder of N photos (default 20) taken read-only from ../shared/datasets/sod/images.

Seed Studio runs twice: with its default foreground-colour estimation, and with
``--no-fg-estimation``, which is the same work rembg does (naive colours). rembg, when
importable (``--rembg-path`` adds a folder to its PYTHONPATH), runs through its library the
way ``rembg i`` / ``rembg p`` do with ``-m u2net_custom -x '{"model_path": ...}'``: a new
session per ``i`` call, one session for ``p``. (Its click CLI needs extras such as gradio; the
calls below are the bodies of those commands.)

The model is ``--model``, else the embedded default, else a generated U2-Net-convention
stand-in (a few 3x3 convolutions at 320x320, ~4 GMAC) -- the output says which.
Prints a table and one JSON line. Run: ``.venv/bin/python benchmarks/bench_remove.py``.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
SOD = REPO.parent / "shared" / "datasets" / "sod" / "images"

REMBG_DRIVER = r"""
import pathlib, sys
from rembg import new_session, remove
mode, model, src, dst = sys.argv[1:5]
if mode == "i":  # body of `rembg i -m u2net_custom -x '{"model_path": ...}' src dst`
    data = pathlib.Path(src).read_bytes()
    pathlib.Path(dst).parent.mkdir(parents=True, exist_ok=True)
    pathlib.Path(dst).write_bytes(remove(data, session=new_session("u2net_custom", model_path=model)))
else:  # body of `rembg p -m u2net_custom -x ... src dst`
    session = new_session("u2net_custom", model_path=model)
    out = pathlib.Path(dst)
    out.mkdir(parents=True, exist_ok=True)
    for each in sorted(pathlib.Path(src).glob("**/*")):
        if each.is_file():
            (out / each.name).with_suffix(".png").write_bytes(remove(each.read_bytes(), session=session))
"""


def build_standin(path: Path, width: int = 32) -> Path:
    """A U2-Net-convention model (320x320 in, 7 sigmoid outputs) with realistic compute."""
    import onnx
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(0)
    nodes, inits = [], []
    prev, cin = "input.1", 3
    for i in range(4):
        w = (rng.standard_normal((width, cin, 3, 3)) * np.sqrt(2.0 / (cin * 9))).astype(np.float32)
        inits.append(numpy_helper.from_array(w, f"w{i}"))
        nodes.append(helper.make_node("Conv", [prev, f"w{i}"], [f"c{i}"], pads=[1, 1, 1, 1]))
        nodes.append(helper.make_node("Relu", [f"c{i}"], [f"r{i}"]))
        prev, cin = f"r{i}", width
    inits.append(numpy_helper.from_array((rng.standard_normal((1, width, 1, 1)) * 0.2).astype(np.float32), "wo"))
    nodes.append(helper.make_node("Conv", [prev, "wo"], ["features"]))
    # A centred subject prior so the mask looks like a real model's: saturated inside and outside,
    # a soft band a few pixels wide at the silhouette (wobbly, from the features).
    yy, xx = np.mgrid[0:320, 0:320]
    dist = np.hypot(yy - 160, xx - 160) / 110.0
    inits.append(numpy_helper.from_array((200.0 * (1.0 - dist)).astype(np.float32)[None, None], "prior"))
    nodes.append(helper.make_node("Add", ["features", "prior"], ["logit"]))
    outputs = []
    for k in range(7):
        nodes.append(helper.make_node("Sigmoid", ["logit"], [f"d{k}"]))
        outputs.append(helper.make_tensor_value_info(f"d{k}", TensorProto.FLOAT, [1, 1, 320, 320]))
    graph = helper.make_graph(
        nodes, "u2net_standin",
        [helper.make_tensor_value_info("input.1", TensorProto.FLOAT, [1, 3, 320, 320])],
        outputs, initializer=inits,
    )  # fmt: skip
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, str(path))
    return path


def rembg_compatible_copy(src: Path, work: Path, size: int = 320) -> Path:
    """``src`` (one of our dynamic-size exports) as rembg's ``u2net_custom`` session expects a
    file: a fixed 1x3x320x320 input and no Seed Studio metadata, named ``u2net_*`` so both
    tools preprocess it the same way (U2-Net convention: / max, ImageNet mean/std, min-max).
    The same weights as ``seg export --rembg-compatible`` writes, without needing the checkpoint."""
    import onnx

    model = onnx.load(str(src))
    for value in (*model.graph.input, *model.graph.output):
        dims = value.type.tensor_type.shape.dim
        if len(dims) == 4:
            for dim, fixed in zip(dims, (1, 3 if value in model.graph.input else 1, size, size), strict=True):
                dim.Clear()
                dim.dim_value = fixed
    del model.metadata_props[:]
    out = work / f"u2net_{src.stem}-{size}.onnx"
    onnx.save(model, str(out))
    return out


def pick_model(arg: str | None, work: Path) -> tuple[Path, str]:
    if arg:
        return Path(arg), "given"
    sys.path.insert(0, str(REPO))
    from desktop_app.core.errors import ModelError
    from desktop_app.core.models import default_model_path

    try:
        return default_model_path(), "embedded default"
    except ModelError:
        return build_standin(work / "u2net_standin.onnx"), "generated U2-Net-convention stand-in (4 convs @320)"


def prepare_photos(work: Path, n: int) -> tuple[Path, Path]:
    """A folder of n read-only data-set photos (symlinked, never copied) and one 12 MP JPEG."""
    from PIL import Image

    folder = work / "photos"
    folder.mkdir()
    sources = sorted(SOD.glob("*.webp"))[:n] if SOD.is_dir() else []
    for src in sources:
        (folder / src.name).symlink_to(src)
    if not sources:  # no data set: synthetic photos
        rng = np.random.default_rng(0)
        for i in range(n):
            img = rng.integers(0, 255, (320, 480, 3), dtype=np.uint8)
            Image.fromarray(img).save(folder / f"synthetic{i:02d}.jpg", quality=90)
    first = sorted(folder.iterdir())[0]
    big = work / "single" / "photo12mp.jpg"
    big.parent.mkdir()
    Image.open(first).convert("RGB").resize((4000, 3000), Image.Resampling.BICUBIC).save(big, quality=92)
    return folder, big


def timed(cmd: list[str], env: dict | None = None) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, env={**os.environ, **(env or {})}, cwd=REPO)
    elapsed = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{cmd[:4]} failed ({proc.returncode}): {proc.stderr.decode()[-800:]}")
    return elapsed


def rembg_available(extra_path: str | None) -> tuple[bool, dict]:
    env = {"PYTHONPATH": os.pathsep.join(p for p in (extra_path, os.environ.get("PYTHONPATH")) if p)}
    ok = subprocess.run([sys.executable, "-c", "import rembg"], capture_output=True, env={**os.environ, **env})
    return ok.returncode == 0, env


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", help="ONNX model (default: embedded default, else a stand-in)")
    ap.add_argument("--photos", type=int, default=20, help="folder size")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds (best of)")
    ap.add_argument("--rembg-path", help="folder to add to PYTHONPATH for rembg (e.g. a pip --target dir)")
    ap.add_argument("--no-rembg", action="store_true")
    args = ap.parse_args(argv)
    work = Path(tempfile.mkdtemp(prefix="bench_remove_"))
    try:
        model, model_note = pick_model(args.model, work)
        folder, single = prepare_photos(work, args.photos)
        n = len(list(folder.iterdir()))
        seed = [sys.executable, "-m", "desktop_app", "remove"]
        have_rembg, env = (False, {}) if args.no_rembg else rembg_available(args.rembg_path)
        runners: dict[str, tuple[list[str], list[str], dict]] = {}  # label -> (single cmd, folder cmd, env)
        for label, extra in (("seed-studio (default: fg estimation)", []),
                             ("seed-studio --no-fg-estimation", ["--no-fg-estimation"])):  # fmt: skip
            runners[label] = (
                [*seed, str(single), "--model", str(model), *extra, "-o"],
                [*seed, str(folder), "--model", str(model), "-q", *extra, "-o"],
                {},
            )
        if have_rembg:
            env["U2NET_HOME"] = str(model.resolve().parent)  # rembg >= 2.0.7x wants custom models there
            driver = work / "rembg_driver.py"
            driver.write_text(REMBG_DRIVER)
            runners["rembg (u2net_custom)"] = (
                [sys.executable, str(driver), "i", str(model), str(single)],
                [sys.executable, str(driver), "p", str(model), str(folder)],
                env,
            )
        # Interleaved rounds, best of each: the machine is shared (e.g. with a training run), so
        # the minimum is the least-disturbed measurement and every tool sees the same conditions.
        times: dict[str, dict[str, list[float]]] = {k: {"single": [], "folder": []} for k in runners}
        for rnd in range(args.repeats):
            for idx, (label, (one, many, run_env)) in enumerate(runners.items()):
                out = work / f"out_{rnd}_{idx}"
                times[label]["single"].append(timed([*one, str(out / "single.png")], run_env))
                times[label]["folder"].append(timed([*many, str(out / "folder")], run_env))
        rows = {k: {kind: min(v) for kind, v in t.items()} for k, t in times.items()}
        print(f"model: {model} ({model_note})")
        print(
            f"single: 12 MP JPEG -> PNG; best of {args.repeats} interleaved rounds, each a fresh process; "
            f"folder: {n} photos from {SOD if SOD.is_dir() else 'synthetic'}"
        )
        print(f"{'tool':42s} {'single s':>9s} {'folder s':>9s} {'s/photo':>8s}")
        for label, r in rows.items():
            print(f"{label:42s} {r['single']:9.2f} {r['folder']:9.2f} {r['folder'] / n:8.3f}")
        result = {"bench": "bench_remove", "model": str(model), "model_note": model_note, "photos": n,
                  "cpu_count": os.cpu_count(), "rows": rows}  # fmt: skip
        if have_rembg:
            base = rows["rembg (u2net_custom)"]
            same = rows["seed-studio --no-fg-estimation"]
            dflt = rows["seed-studio (default: fg estimation)"]
            result["speedup_same_work"] = {k: round(base[k] / same[k], 2) for k in ("single", "folder")}
            result["speedup_default"] = {k: round(base[k] / dflt[k], 2) for k in ("single", "folder")}
            print(
                f"speed-up vs rembg, same work: single x{result['speedup_same_work']['single']}, "
                f"folder x{result['speedup_same_work']['folder']}; with fg estimation: single "
                f"x{result['speedup_default']['single']}, folder x{result['speedup_default']['folder']}"
            )
        else:
            print("rembg not importable: comparison skipped (pip install rembg, or --rembg-path DIR)")
        print(json.dumps(result))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
