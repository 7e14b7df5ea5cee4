"""``seed-studio remove | models | info``: the command line over desktop_app.core (no Qt).

Exit codes: 0 all good, 1 some inputs failed (the others were still processed), 2 usage or
model problem (nothing processed), 130 interrupted.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from desktop_app.cli_support import (
    BarProgress,
    background,
    count,
    engine_problem,
    fraction,
    output_problem,
    positive,
    silence_stdout,
    size,
)
from desktop_app.core.batch.engine import FAILED, SKIPPED, BatchControl, BatchReport, batch_segmenter, run_batch
from desktop_app.core.errors import ImageLoadError, ModelError, SeedStudioError
from desktop_app.core.files import DEFAULT_MAX_FILE_BYTES, os_error_text, read_capped
from desktop_app.core.imageio import IMAGE_EXTENSIONS, encode_image, load_image, write_bytes_atomic
from desktop_app.core.models import (
    convention_names,
    default_model_path,
    embedded_models,
    find_model,
    inspect_model,
    load_spec,
    models_dir,
    user_models,
    user_models_dir,
)
from desktop_app.core.onnx_inspect import read_header
from desktop_app.core.options import RemoveOptions
from desktop_app.core.pipeline import check_background, remove_background
from desktop_app.core.second_pass import default_clicker
from desktop_app.core.segment import Segmenter
from desktop_app.core.session import check_providers, parse_providers

SUBCOMMANDS = ("remove", "models", "info")
EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130


def build_parser() -> argparse.ArgumentParser:
    """The argument parser (exposed so the GUI's help and the docs can reuse it)."""
    parser = argparse.ArgumentParser(
        prog="seed-studio",
        description="Offline background removal. Without a command (or with a photo path) the GUI opens.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    rm = sub.add_parser("remove", help="cut out the subject of photos (files, folders, or - for stdin)")
    rm.add_argument("inputs", nargs="+", metavar="INPUT", help="image files, folders (recursive) or -")
    rm.add_argument("-o", "--output", metavar="OUT", help="output folder (or a file name for one input file)")
    rm.add_argument("--model", metavar="PATH", help="ONNX model file or model name (default: embedded)")
    rm.add_argument("--convention", metavar="NAME", help=f"force preprocessing: {', '.join(convention_names())}")
    rm.add_argument(
        "--bg",
        default="transparent",
        type=background,
        metavar="BG",
        help="transparent | #rrggbb | blur | IMAGE",
    )
    rm.add_argument("--mask-only", action="store_true", help="write the grey mask instead of a cut-out")
    rm.add_argument("--refine", action="store_true", help="snap mask edges to the photo (guided filter)")
    rm.add_argument(
        "--second-pass",
        action="store_true",
        help="re-predict the subject with the click model (better edges and fewer holes, ~2x time)",
    )
    rm.add_argument("--threshold", type=fraction, metavar="T", help="hard mask: alpha >= T becomes opaque")
    rm.add_argument("--crop", action="store_true", help="crop to the subject with a margin")
    rm.add_argument("--margin", type=float, default=0.03, help="crop margin, fraction of the subject size")
    rm.add_argument("--format", choices=("png", "webp", "jpg"), help="output format (default png)")
    rm.add_argument("--quality", type=int, default=95, help="JPEG/WebP quality 1-100")
    rm.add_argument("--name-pattern", default="{stem}.{ext}", help="output names: {stem}, {ext}, {srcext}")
    rm.add_argument("--no-fg-estimation", action="store_true", help="keep the photo's colours in soft edges")
    rm.add_argument("--overwrite", action="store_true", help="redo outputs that already exist")
    rm.add_argument("--max-megapixels", type=positive, default=150.0, help="refuse larger images (bomb guard)")
    rm.add_argument("--max-file-size", type=size, default=DEFAULT_MAX_FILE_BYTES, metavar="SIZE",
                    help="refuse larger files, e.g. 500M or 2G (default 1G)")  # fmt: skip
    rm.add_argument("--json-report", metavar="PATH", help="write a per-file JSON report")
    rm.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    rm.add_argument(
        "--providers",
        metavar="LIST",
        help="onnxruntime execution providers: cpu, cuda, coreml, dml or a comma list (default: best here)",
    )
    rm.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: this process (default); ray: Ray workers, one model each (the 'ray' extra)",
    )
    rm.add_argument(
        "--ray-address",
        metavar="ADDR",
        help="join this Ray cluster (auto, HOST:6379, ray://HOST:10001); default: a local Ray here",
    )
    rm.add_argument("--workers", type=count, metavar="N", help="Ray workers (default: one per CPU of the cluster)")
    sub.add_parser("models", help="list embedded and user models with their detected conventions")
    info = sub.add_parser("info", help="print a model's spec and metadata")
    info.add_argument("model", metavar="MODEL", help="model file or name")
    info.add_argument("--convention", metavar="NAME", help="show the spec as if forced to this convention")
    info.add_argument("--json", action="store_true", help="machine-readable output")
    return parser


def _err(msg: str) -> None:
    print(f"seed-studio: {msg}", file=sys.stderr)


def _resolve_model(arg: str | None) -> Path:
    return find_model(arg) if arg else default_model_path()


def _options(args: argparse.Namespace, model: Path, fmt: str) -> RemoveOptions:
    return RemoveOptions(
        model_path=model, convention=args.convention, background=args.bg, refine=args.refine,
        second_pass=args.second_pass, threshold=args.threshold, crop=args.crop, crop_margin=args.margin, format=fmt,
        mask_only=args.mask_only, overwrite=args.overwrite, name_pattern=args.name_pattern,
        foreground_estimation=not args.no_fg_estimation, quality=args.quality,
        max_pixels=max(1, int(args.max_megapixels * 1e6)), max_file_bytes=args.max_file_size,
    )  # fmt: skip


def cmd_remove(args: argparse.Namespace) -> int:
    stdin_mode = "-" in args.inputs
    if stdin_mode and len(args.inputs) > 1:
        _err("'-' (stdin) cannot be mixed with other inputs")
        return EXIT_USAGE
    if not stdin_mode and not args.output:
        _err("-o/--output is required (except when reading '-' from stdin)")
        return EXIT_USAGE
    if problem := engine_problem(args, stdin_mode):
        _err(problem)
        return EXIT_USAGE
    explicit = None
    out_dir = Path(args.output).expanduser() if args.output else None
    fmt = args.format
    if (
        out_dir is not None
        and len(args.inputs) == 1
        and Path(args.inputs[0]).is_file()
        and out_dir.suffix.lower() in IMAGE_EXTENSIONS
        and not out_dir.is_dir()
    ):
        explicit, out_dir = out_dir, out_dir.parent
        fmt = fmt or explicit.suffix
    elif stdin_mode and out_dir is not None and out_dir.suffix.lower() in IMAGE_EXTENSIONS:
        fmt = fmt or out_dir.suffix  # `-o cut.jpg` from stdin writes a JPEG, not PNG bytes named .jpg
    try:
        model = _resolve_model(args.model)
        options = _options(args, model, fmt or "png")
        providers = parse_providers(args.providers) if args.providers else None
        segmenter: Segmenter | None = None
        if args.engine == "ray":  # the workers load the model and check providers where they run
            load_spec(model, args.convention)
        else:
            chosen = check_providers(providers) if providers else None
            segmenter = (Segmenter(model, spec_override=args.convention, providers=chosen) if stdin_mode
                         else batch_segmenter(options, chosen))  # fmt: skip
        if options.second_pass:
            default_clicker()  # no click model is a usage error, reported before any work
    except (ModelError, ValueError) as exc:
        _err(str(exc))
        return EXIT_USAGE
    try:  # everything that can be known before the first photo is decoded
        check_background(options)
    except ImageLoadError as exc:
        _err(f"--bg: {exc}")
        return EXIT_USAGE
    problem = output_problem(args, stdin_mode, out_dir)
    if problem:
        _err(problem)
        return EXIT_USAGE
    if stdin_mode:
        assert segmenter is not None
        return _remove_stdin(args, options, segmenter)
    assert out_dir is not None
    return _remove_batch(args, options, segmenter, providers, out_dir, explicit)


def _remove_stdin(args: argparse.Namespace, options: RemoveOptions, segmenter: Segmenter) -> int:
    try:
        data = read_capped(sys.stdin.buffer, options.max_file_bytes, "stdin")
        loaded = load_image(data, max_pixels=options.max_pixels, max_bytes=options.max_file_bytes)
        result = remove_background(loaded, segmenter, options)
        encoded = encode_image(result.image, options.format, options.jpg_background, options.quality)
    except SeedStudioError as exc:
        _err(str(exc))
        return EXIT_FAILED
    for w in result.warnings:
        _err(f"warning: {w}")
    if args.output:
        try:
            write_bytes_atomic(Path(args.output).expanduser(), encoded)
        except OSError as exc:
            _err(f"cannot write {args.output}: {os_error_text(exc)}")
            return EXIT_FAILED
        return EXIT_OK
    try:
        sys.stdout.buffer.write(encoded)
        sys.stdout.buffer.flush()
    except OSError as exc:  # /dev/full, a closed pipe (`| head -c 10`)
        silence_stdout()
        _err(f"cannot write to stdout: {os_error_text(exc)}")
        return EXIT_FAILED
    return EXIT_OK


def _remove_batch(
    args: argparse.Namespace,
    options: RemoveOptions,
    segmenter: Segmenter | None,
    providers: list[str] | None,
    out_dir: Path,
    explicit: Path | None,
) -> int:
    from tqdm import tqdm

    show_bar = not args.quiet and (len(args.inputs) > 1 or any(Path(p).is_dir() for p in args.inputs))
    bar = tqdm(total=0, unit="img", disable=None if show_bar else True, file=sys.stderr, dynamic_ncols=True)
    progress = BarProgress(bar)
    control = BatchControl()
    try:
        if segmenter is None:
            report = _run_on_ray(args, options, providers, out_dir, explicit, progress, control, bar)
            if report is None:
                return EXIT_USAGE
            described = f"{report.model} on {len(report.engine.get('workers', []))} Ray workers, {report.provider}"
        else:
            report = run_batch(args.inputs, out_dir, options, segmenter, progress, control, explicit)
            described = segmenter.describe()
    except KeyboardInterrupt:
        bar.close()
        _err("interrupted; finished outputs are complete, no partial files were left")
        return EXIT_INTERRUPTED
    finally:
        bar.close()
    for it in report.items:
        if it.status == FAILED:
            _err(f"failed: {it.source}: {it.reason}")
        elif it.status == SKIPPED and not it.reason.startswith("output exists"):
            _err(f"skipped: {it.source}: {it.reason}")
        for w in it.warnings:
            _err(f"warning: {it.source}: {w}")
    if not report.items:
        looked = ", ".join(sorted(IMAGE_EXTENSIONS))
        _err(f"no photos found in {', '.join(args.inputs)} (looked for {looked}, and for images by content)")
    print(f"{report.summary()} -> {out_dir}  [model {described}]", file=sys.stderr)
    if args.json_report:
        try:
            write_bytes_atomic(Path(args.json_report).expanduser(), report.to_json().encode("utf-8"))
        except OSError as exc:
            _err(f"cannot write the report {args.json_report}: {os_error_text(exc)}")
            return EXIT_FAILED
    return EXIT_FAILED if report.failed else EXIT_OK


def _run_on_ray(
    args: argparse.Namespace, options: RemoveOptions, providers: list[str] | None, out_dir: Path,
    explicit: Path | None, progress: BarProgress, control: BatchControl, bar: Any,
) -> BatchReport | None:  # fmt: skip
    """The batch on Ray (imported only here, so other commands start fast); None after printing
    why it could not start (no ray installed, a provider missing on the workers, no cluster)."""
    from desktop_app.core.batch.ray_engine import RaySettings, run_batch_ray

    settings = RaySettings(address=args.ray_address, workers=args.workers,
                           providers=tuple(providers) if providers else None)  # fmt: skip

    def started(info: dict) -> None:
        workers = info["workers"]
        times = f"cluster {info['cluster_start_s']:.1f} s, workers {info['workers_start_s']:.1f} s"
        where = f"{len(workers)} workers on {info['nodes']} node(s), {workers[0]['provider']}"
        bar.write(f"ray: {where}; {times}", file=sys.stderr)

    try:
        return run_batch_ray(args.inputs, out_dir, options, settings, progress, control, explicit, started)
    except SeedStudioError as exc:
        bar.close()
        _err(str(exc))
        return None


def _model_rows() -> list[tuple[str, Path]]:
    return [("embedded", p) for p in embedded_models()] + [("user", p) for p in user_models()]


def cmd_models(args: argparse.Namespace) -> int:
    rows = _model_rows()
    print(f"embedded models: {models_dir()}")
    print(f"user models:     {user_models_dir()}")
    if not rows:
        print("no models found (no embedded default model yet; use --model PATH)")
        return EXIT_OK
    try:
        default = default_model_path()
    except ModelError:
        default = None
    for where, path in rows:
        mark = "*" if default is not None and path == default else " "
        try:
            _, spec = inspect_model(path)
            desc = (
                f"{spec.kind}, {spec.convention} convention ({spec.source}), "
                f"{spec.describe_size()}, activation {spec.activation}"
            )
        except ModelError as exc:
            desc = f"not usable for background removal: {str(exc).removeprefix(str(path) + ': ')}"
        print(f"{mark} [{where}] {path.name}: {desc}")
    if default is not None:
        print("* = default")
    return EXIT_OK


def cmd_info(args: argparse.Namespace) -> int:
    try:
        path = find_model(args.model)
        header = read_header(path)
    except ModelError as exc:
        _err(str(exc))
        return EXIT_USAGE
    spec, problem = None, ""
    try:
        _, spec = inspect_model(path, args.convention)
    except ModelError as exc:
        problem = str(exc).removeprefix(f"{path}: ")
    if args.json:
        doc = {"path": str(path), "spec": spec.to_dict() if spec else None, "metadata": header.metadata}
        if problem:
            doc["not_usable_for_removal"] = problem
        print(json.dumps(doc, indent=2))
        return EXIT_OK
    print(f"model: {path}")
    if spec is None:
        print(f"  not usable for background removal: {problem}")
    else:
        for key, value in spec.to_dict().items():
            if key in ("metrics", "extra", "notes") and not value:
                continue
            print(f"  {key}: {value}")
    inputs = ", ".join(f"{t.name} {list(t.shape or [])}" for t in header.inputs)
    outputs = ", ".join(f"{t.name} {list(t.shape or [])}" for t in header.outputs)
    print(f"  graph inputs: {inputs}\n  graph outputs: {outputs}")
    if header.metadata:
        print("metadata:")
        for k, v in sorted(header.metadata.items()):
            print(f"  {k} = {v}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    """Run a subcommand; returns the exit status (does not call sys.exit)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    handlers = {"remove": cmd_remove, "models": cmd_models, "info": cmd_info}
    if args.command not in handlers:
        parser.print_help()
        return EXIT_USAGE
    try:
        return handlers[args.command](args)
    except KeyboardInterrupt:
        _err("interrupted")
        return EXIT_INTERRUPTED
