"""Planning a batch: which files are inputs, and where each output goes.

Separate from the runner (:mod:`desktop_app.core.batch.engine`) so the GUI can show the plan (how
many photos, what will be skipped, name collisions) before anything runs.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path

from desktop_app.core.imageio import IMAGE_EXTENSIONS, looks_like_image
from desktop_app.core.options import RemoveOptions

DONE, SKIPPED, FAILED, CANCELLED, PENDING = "done", "skipped", "failed", "cancelled", "pending"


@dataclass
class BatchItem:
    """One input file and what happened to it."""

    source: Path
    output: Path | None = None
    status: str = PENDING
    reason: str = ""
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["source"] = str(self.source)
        d["output"] = str(self.output) if self.output else None
        d["seconds"] = round(self.seconds, 4)
        return d


def _is_image_file(path: Path) -> bool:
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return True
    return not path.suffix and looks_like_image(path)


def collect_inputs(paths: Iterable[str | os.PathLike[str]], exclude: Path | None = None) -> list[tuple[Path, Path]]:
    """Expand files and folders into (file, relative output folder) pairs, in a stable order.

    Folders are walked recursively (sorted, hidden entries skipped) keeping image files by
    extension or, for extension-less files, by content; ``exclude`` (the output folder) is
    never walked so a rerun does not eat its own outputs. Files named explicitly are always
    kept (a non-image then fails with a clear reason); missing paths too, to be reported.
    """
    excl = exclude.resolve() if exclude is not None else None
    found: list[tuple[Path, Path]] = []
    for raw in paths:
        p = Path(raw).expanduser()
        if not p.is_dir():
            found.append((p, Path()))
            continue
        for dirpath, dirnames, filenames in os.walk(p):
            d = Path(dirpath)
            dirnames[:] = sorted(
                n for n in dirnames if not n.startswith(".") and (excl is None or (d / n).resolve() != excl)
            )
            rel = d.relative_to(p)
            for name in sorted(filenames):
                f = d / name
                if not name.startswith(".") and _is_image_file(f):
                    found.append((f, rel))
    return found


def plan_outputs(
    inputs: list[tuple[Path, Path]],
    output_dir: Path,
    options: RemoveOptions,
    explicit_output: Path | None = None,
) -> list[BatchItem]:
    """Choose every output path, resolving collisions and refusing to overwrite inputs.

    Names follow ``options.name_pattern``. When several inputs would share an output
    (a.jpg and a.png -> a.png) all of them get their source extension (a.jpg.png, a.png.png);
    if that still collides a counter is added (a-2.png). Existing outputs are marked skipped
    unless ``options.overwrite``.
    """
    items = [BatchItem(source=src) for src, _ in inputs]
    if explicit_output is not None:
        if len(items) != 1:
            raise ValueError("an explicit output file name needs exactly one input")
        items[0].output = explicit_output
    else:
        ext = options.extension

        def name_for(src: Path, with_srcext: bool, counter: int = 0) -> str:
            stem = src.stem if src.suffix else src.name
            srcext = src.suffix.lstrip(".")
            base = options.name_pattern.format(stem=stem, ext=ext, srcext=srcext)
            if with_srcext and srcext:
                head, dot, tail = base.rpartition(".")
                base = f"{head}.{srcext}.{tail}" if dot else f"{base}.{srcext}"
            if counter:
                head, dot, tail = base.partition(".")
                base = f"{head}-{counter}.{tail}" if dot else f"{base}-{counter}"
            return base

        wanted = [output_dir / rel / name_for(src, False) for src, rel in inputs]
        keys = [str(w).lower() for w in wanted]  # case-insensitive: outputs may land on NTFS/APFS/exFAT
        dupes = {k for k, n in Counter(keys).items() if n > 1}
        taken: set[str] = set()
        for item, (src, rel), key in zip(items, inputs, keys, strict=True):
            out = output_dir / rel / name_for(src, key in dupes)
            counter = 1
            while str(out).lower() in taken:
                counter += 1
                out = output_dir / rel / name_for(src, key in dupes, counter)
            taken.add(str(out).lower())
            item.output = out
    input_paths = {}
    for src, _ in inputs:
        try:
            input_paths[src.resolve()] = src
        except OSError:
            continue
    for item in items:
        assert item.output is not None
        out_resolved = item.output.resolve()
        if out_resolved in input_paths:
            item.status, item.reason = (
                FAILED,
                (
                    f"output {item.output} would overwrite the input {input_paths[out_resolved]}; "
                    "choose another output folder or name pattern"
                ),
            )
        elif item.output.exists() and not options.overwrite:
            item.status, item.reason = SKIPPED, "output exists (use overwrite to redo it)"
    return items
