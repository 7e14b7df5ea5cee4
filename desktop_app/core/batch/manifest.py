"""Which files are ours: outputs of this tool are never inputs (issue #25).

When ``-o`` is the input folder (or contains it), a rerun used to take the previous run's
cut-outs for new photos (5 -> 9 -> 15 files). Output *folders* inside an input tree are simply
not walked, but an output folder equal to the input cannot be skipped. So the engine then
records the outputs it is about to write in a hidden manifest at the output root, and the
folder walk leaves out every file a manifest lists; it also honours the GUI's batch report
(``seed-studio-report.json``), which lists a run's outputs too.
"""

from __future__ import annotations

import contextlib
import json
import os
from pathlib import Path

from desktop_app.core.files import write_bytes_atomic

MANIFEST_NAME = ".seed-studio-outputs.json"
REPORT_NAME = "seed-studio-report.json"  # the GUI's batch report, written next to its outputs
_MAX_BYTES = 64 * 1024 * 1024  # a manifest bigger than this is not ours: ignore it


def real(path: str | os.PathLike[str]) -> str:
    """``os.path.realpath`` that never raises (symlink loops, bad names): for comparing paths."""
    try:
        return os.path.realpath(path)
    except (OSError, RuntimeError, ValueError):
        return os.path.abspath(path)


def inside(path: str, folder: str) -> bool:
    """``path`` is ``folder`` or below it (both already :func:`real`)."""
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def _load_json(path: Path) -> object:
    try:
        if path.stat().st_size > _MAX_BYTES or not path.is_file():
            return None
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def listed_outputs(folder: Path, names: set[str]) -> set[str]:
    """Real paths of the outputs that the manifest or batch report in ``folder`` lists.

    ``names`` is the folder's listing (the walker has it already, so a folder without either
    file costs nothing). Unreadable or foreign files count as listing nothing.
    """
    ours: set[str] = set()
    base = real(folder)
    if MANIFEST_NAME in names:
        doc = _load_json(folder / MANIFEST_NAME)
        if isinstance(doc, dict) and isinstance(doc.get("outputs"), list):
            ours.update(real(os.path.join(base, r)) for r in doc["outputs"] if isinstance(r, str))
    if REPORT_NAME in names:
        doc = _load_json(folder / REPORT_NAME)
        items = doc.get("items") if isinstance(doc, dict) else None
        for it in items if isinstance(items, list) else []:
            out = it.get("output") if isinstance(it, dict) else None
            if isinstance(out, str) and os.path.isabs(out) and it.get("status") == "done":
                ours.add(real(out))
    return ours


def record_outputs(out_dir: Path, outputs: list[Path]) -> None:
    """Add ``outputs`` (files under ``out_dir``) to its manifest, before they are written.

    Written first so a killed run's outputs are still known as ours; entries whose file is
    gone are dropped so the manifest does not grow forever. Best effort: a folder where the
    manifest cannot be written cannot take the outputs either, and those fail on their own.
    """
    base = real(out_dir)
    doc = _load_json(out_dir / MANIFEST_NAME)
    old = doc.get("outputs", []) if isinstance(doc, dict) else []
    keep = {r for r in old if isinstance(r, str) and os.path.lexists(os.path.join(base, r))}
    for p in outputs:
        rp = real(p)
        if inside(rp, base) and rp != base:
            keep.add(Path(os.path.relpath(rp, base)).as_posix())
    body = {"tool": "seed-studio", "note": "outputs of seed-studio: never taken as inputs", "outputs": sorted(keep)}
    with contextlib.suppress(OSError):
        write_bytes_atomic(out_dir / MANIFEST_NAME, json.dumps(body, indent=1).encode("utf-8"))
