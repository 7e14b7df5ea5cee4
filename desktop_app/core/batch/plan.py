"""Planning a batch: which files are inputs, and where each output goes.

Separate from the runners (:mod:`desktop_app.core.batch.engine` in process,
:mod:`desktop_app.core.batch.ray_engine` on a cluster) so the GUI can show the plan (how many
photos, what will be skipped, name collisions) before anything runs, and so both runners decide
outputs and skips identically: they only differ in who does the per-photo work.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

from desktop_app.core.batch.manifest import MANIFEST_NAME, REPORT_NAME, inside, listed_outputs, real, record_outputs
from desktop_app.core.errors import InputRejected
from desktop_app.core.files import name_max, os_error_text, probe_writable, remove_stale_temps, stat_input
from desktop_app.core.imageio import IMAGE_EXTENSIONS, UNSUPPORTED_EXTENSIONS, looks_like_image
from desktop_app.core.options import RemoveOptions

DONE, SKIPPED, FAILED, CANCELLED, PENDING = "done", "skipped", "failed", "cancelled", "pending"
PathInputs = str | os.PathLike[str] | Iterable[str | os.PathLike[str]]


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


@dataclass(frozen=True)
class InputEntry:
    """One path the walk found: a photo to try (``PENDING``), or one refused with a reason.

    ``photo`` is False for visible files that are neither named nor sniffed as photos (listed
    only when the caller asks, as the GUI does to show "unsupported file type" rows).
    """

    path: Path
    rel: Path = field(default_factory=Path)
    status: str = PENDING
    reason: str = ""
    photo: bool = True


def as_path_list(inputs: PathInputs) -> list[Path]:
    """One path (str or PathLike) or an iterable of them -> a list of Paths; TypeError otherwise.

    A plain string is one path: iterating it would walk each character (and "/" for an
    absolute path). bytes are refused rather than guessed at.
    """
    if isinstance(inputs, str | os.PathLike):
        items: Iterable[object] = [inputs]
    elif isinstance(inputs, bytes | bytearray) or not isinstance(inputs, Iterable):
        raise TypeError(f"inputs must be a path or an iterable of paths, not {type(inputs).__name__}")
    else:
        items = inputs
    paths = []
    for raw in items:
        if not isinstance(raw, str | os.PathLike) or isinstance(os.fspath(raw), bytes):
            raise TypeError(f"each input must be a str or os.PathLike path, not {type(raw).__name__} ({raw!r})")
        paths.append(Path(raw).expanduser())
    return paths


def _rejected(path: Path, rel: Path, exc: InputRejected) -> InputEntry:
    return InputEntry(path, rel, SKIPPED if exc.skip else FAILED, exc.reason)


def _photo_entry(path: Path, rel: Path, regular: bool, others: bool) -> InputEntry | None:
    """Classify one walked name without ever opening a non-regular file."""
    suffix = path.suffix.lower()
    if suffix in IMAGE_EXTENSIONS or (not suffix and regular and looks_like_image(path)):
        if regular:
            return InputEntry(path, rel)
        try:  # not a regular file: find out why (loop, dangling link, FIFO, device...)
            stat_input(path)
        except InputRejected as exc:
            return _rejected(path, rel, exc)
        return InputEntry(path, rel)  # it became a regular file in the meantime
    if suffix in UNSUPPORTED_EXTENSIONS:
        fmt = UNSUPPORTED_EXTENSIONS[suffix]
        return InputEntry(path, rel, SKIPPED, f"{fmt} images are not supported by this build (convert to JPEG or PNG)")
    return InputEntry(path, rel, SKIPPED, "", photo=False) if others else None


def _walk(root: Path, exclude: str | None, others: bool, found: list[InputEntry]) -> None:
    """Depth-first, sorted, hidden entries skipped, folder links not followed (no loops)."""
    ours: set[str] = set()
    stack = [(root, Path())]
    while stack:
        folder, rel = stack.pop()
        try:
            with os.scandir(folder) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            found.append(InputEntry(folder, rel, FAILED, f"cannot read this folder ({os_error_text(exc)})"))
            continue
        ours |= listed_outputs(folder, {e.name for e in entries})
        folder_real = real(folder) if ours else ""
        subfolders = []
        for e in entries:
            if e.name.startswith("."):
                continue
            path = folder / e.name
            try:
                is_dir, regular = e.is_dir(follow_symlinks=False), e.is_file()
            except OSError:
                is_dir, regular = False, False
            if is_dir:
                if exclude is None or real(path) != exclude:
                    subfolders.append((path, rel / e.name))
                continue
            if e.is_symlink() and os.path.isdir(path):
                continue  # a link to a folder: not followed (that is how loops and duplicates start)
            if ours and os.path.join(folder_real, e.name) in ours:
                continue  # an output of an earlier run: outputs are never inputs
            entry = _photo_entry(path, rel, regular, others)
            if entry is not None:
                found.append(entry)
        stack.extend(reversed(subfolders))


def scan_inputs(paths: PathInputs, exclude: Path | None = None, others: bool = False) -> list[InputEntry]:
    """Expand files and folders into :class:`InputEntry` rows, in a stable order; never raises
    for what it finds on disk.

    Folders are walked recursively (sorted, hidden entries skipped, links to folders not
    followed) keeping image files by extension or, for extension-less regular files, by
    content. ``exclude`` (the output folder) is never walked, and files that a manifest or
    batch report in their folder lists as our outputs are left out. Nothing that is not a
    regular file is ever opened: symlink loops and dangling links become failed entries,
    FIFOs, devices and sockets skipped ones, each with its reason. Files named explicitly are
    kept whatever their name (a non-image then fails with a clear reason when decoded).
    """
    excl = real(exclude) if exclude is not None else None
    found: list[InputEntry] = []
    listed: dict[str, set[str]] = {}
    for p in as_path_list(paths):
        if os.path.isdir(p):
            _walk(p, excl, others, found)
            continue
        try:
            stat_input(p)
        except InputRejected as exc:
            found.append(_rejected(p, Path(), exc))
            continue
        owner = real(p.parent)
        if owner not in listed:  # one read per folder: the GUI passes thousands of files of one folder
            listed[owner] = listed_outputs(p.parent, {MANIFEST_NAME, REPORT_NAME})
        if real(p) in listed[owner]:
            found.append(InputEntry(p, Path(), SKIPPED, "an output of an earlier seed-studio run: never an input"))
            continue
        found.append(InputEntry(p, Path()))
    return found


def collect_inputs(paths: PathInputs, exclude: Path | None = None) -> list[tuple[Path, Path]]:
    """(file, relative output folder) pairs of every entry :func:`scan_inputs` reports."""
    return [(e.path, e.rel) for e in scan_inputs(paths, exclude)]


def plan_outputs(
    inputs: Sequence[tuple[Path, Path] | InputEntry],
    output_dir: Path,
    options: RemoveOptions,
    explicit_output: Path | None = None,
) -> list[BatchItem]:
    """Choose every output path, resolving collisions and refusing to overwrite inputs.

    ``inputs`` are (file, relative folder) pairs or :class:`InputEntry` rows; rows the walk
    already refused keep their status and reason and get no output. Names follow
    ``options.name_pattern``. When several inputs would share an output (a.jpg and a.png ->
    a.png) all of them get their source extension (a.jpg.png, a.png.png); if that still
    collides a counter is added (a-2.png). A name longer than the file system allows fails
    here, before any decoding. Existing outputs are marked skipped unless ``options.overwrite``.
    """
    entries = [e if isinstance(e, InputEntry) else InputEntry(e[0], e[1]) for e in inputs]
    items = [BatchItem(source=e.path, status=e.status, reason=e.reason) for e in entries]
    todo = [(item, e.path, e.rel) for item, e in zip(items, entries, strict=True) if e.status == PENDING]
    if explicit_output is not None:
        if len(items) != 1:
            raise ValueError("an explicit output file name needs exactly one input")
        for item, _src, _rel in todo:
            item.output = explicit_output
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

        keys = [str(output_dir / rel / name_for(src, False)).lower() for _item, src, rel in todo]
        dupes = {k for k, n in Counter(keys).items() if n > 1}  # case-insensitive: NTFS/APFS/exFAT
        taken: set[str] = set()
        for (item, src, rel), key in zip(todo, keys, strict=True):
            out = output_dir / rel / name_for(src, key in dupes)
            counter = 1
            while str(out).lower() in taken:
                counter += 1
                out = output_dir / rel / name_for(src, key in dupes, counter)
            taken.add(str(out).lower())
            item.output = out
    input_paths = {real(e.path): e.path for e in entries}
    limits: dict[Path, int] = {}
    for item, _src, _rel in todo:
        assert item.output is not None
        out_real = real(item.output)
        limit = limits.setdefault(item.output.parent, name_max(item.output.parent))
        size = len(item.output.name.encode("utf-8"))
        if out_real in input_paths:
            item.status, item.reason = (
                FAILED,
                (
                    f"output {item.output} would overwrite the input {input_paths[out_real]}; "
                    "choose another output folder or name pattern"
                ),
            )
        elif size > limit:
            item.status, item.reason = (
                FAILED,
                (
                    f"output name too long: {size} bytes, the file system allows {limit}; "
                    "use a shorter name pattern (--name-pattern) or rename the photo"
                ),
            )
        elif os.path.exists(item.output) and not options.overwrite:
            item.status, item.reason = SKIPPED, "output exists (use overwrite to redo it)"
    return items


def _check_output_folders(items: list[BatchItem]) -> None:
    """Create and probe every output folder now; the photos of one that cannot be written fail
    here, before a single one of them is decoded or inferred."""
    problems: dict[Path, str | None] = {}
    for it in items:
        if it.status != PENDING or it.output is None:
            continue
        folder = it.output.parent
        if folder not in problems:
            problems[folder] = probe_writable(folder)
        if problems[folder]:
            it.status, it.reason = FAILED, f"cannot write to the output folder {folder}: {problems[folder]}"


def _record_if_overlapping(roots: list[Path], out_dir: Path, items: list[BatchItem]) -> None:
    """When an input lies in the output tree (``-o`` = the input folder), list our outputs in the
    manifest first, so no later walk takes them for photos (see ``manifest``)."""
    out_real = real(out_dir)
    if any(inside(real(r if os.path.isdir(r) else r.parent), out_real) for r in roots):
        record_outputs(out_dir, [it.output for it in items if it.status == PENDING and it.output is not None])


def output_folders(items: Iterable[BatchItem]) -> set[Path]:
    """The folders the pending items will write into (where stray temp files may lie)."""
    return {it.output.parent for it in items if it.output is not None and it.status == PENDING}


def prepare_batch(
    roots: list[Path], out_dir: Path, options: RemoveOptions, explicit_output: Path | None = None
) -> list[BatchItem]:
    """Everything a run decides before the first photo is decoded, for either engine: walk the
    inputs, choose outputs and skips, record our outputs when the trees overlap, probe every
    output folder, and delete temp files a killed earlier run left there."""
    items = plan_outputs(scan_inputs(roots, exclude=out_dir), out_dir, options, explicit_output)
    _record_if_overlapping(roots, out_dir, items)
    _check_output_folders(items)
    for folder in output_folders(items):
        remove_stale_temps(folder)
    return items
