"""A batch worker: one model session held for many photos, for engines that fan out processes.

A plain class, importable without Ray: :mod:`~desktop_app.core.batch.ray_engine` turns it into
a Ray actor at run time (``ray.remote(PhotoWorker)``), so Ray is imported only when that engine
runs, and the class can be tested in process. It holds the onnxruntime session for its whole
life (the model is loaded once per worker, not per photo), and reads and writes photos itself
(paths in, a small record out), so photo bytes never cross the object store.
"""

from __future__ import annotations

import hashlib
import os
import socket
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from desktop_app.core.batch.photo import process_photo
from desktop_app.core.batch.plan import BatchItem
from desktop_app.core.files import write_bytes_atomic
from desktop_app.core.options import RemoveOptions
from desktop_app.core.second_pass import default_clicker
from desktop_app.core.segment import Segmenter
from desktop_app.core.session import check_providers


class PhotoWorker:
    """Loads the model of ``options`` once; :meth:`process` then handles one planned photo.

    ``providers`` are onnxruntime provider names (None: the best this machine has); they are
    checked here, on the node that runs the model, and a missing one raises ModelError at
    start-up rather than silently running on the CPU. ``threads`` is the session's intra-op
    thread count: the CPUs the scheduler gave this worker (one by default, so N workers on an
    N-core node do not fight over cores). ``model_bytes``, when given, is the model file's
    content (the driver's copy): it is kept in a per-node cache and loaded from there, so the
    nodes of a cluster need no shared model path.
    """

    def __init__(
        self,
        options: RemoveOptions,
        providers: list[str] | None = None,
        threads: int | None = None,
        model_bytes: bytes | None = None,
    ) -> None:
        t0 = time.perf_counter()
        if options.model_path is None:
            raise ValueError("the worker needs options.model_path (the driver resolves the default model)")
        chosen = check_providers(providers) if providers else None
        if model_bytes is not None:
            options = replace(options, model_path=node_copy(options.model_path, model_bytes))
        self.options = options
        self.segmenter = Segmenter(options.model_path, spec_override=options.convention, providers=chosen,
                                   threads=threads)  # fmt: skip
        self.clicker = default_clicker() if options.second_pass else None
        self.load_seconds = time.perf_counter() - t0
        self.photos = 0

    def info(self) -> dict:
        """Where and how this worker runs (for the report, the start-up figures and tests)."""
        return {
            "pid": os.getpid(), "host": socket.gethostname(), "model": self.segmenter.spec.name,
            "provider": self.segmenter.provider, "describe": self.segmenter.describe(),
            "load_seconds": round(self.load_seconds, 4), "photos": self.photos,
        }  # fmt: skip

    def process(self, item: BatchItem) -> BatchItem:
        """Decode, infer and write one photo; its status, reason, seconds and warnings come back
        in the returned item. A bad photo is a FAILED item, never an exception: an exception
        would be retried like a crash, and a corrupt file must be reported once."""
        self.photos += 1
        return process_photo(item, self.options, self.segmenter, self.clicker)


def node_copy(path: Path, data: bytes) -> Path:
    """The model's bytes as a file on this node, named by content hash (written once per node
    and version, atomically, so concurrent workers starting together never read half a file)."""
    digest = hashlib.sha256(data).hexdigest()[:16]
    target = Path(tempfile.gettempdir()) / "seed-studio-models" / f"{digest}-{Path(path).name}"
    try:
        if target.stat().st_size == len(data):
            return target
    except OSError:
        pass
    write_bytes_atomic(target, data)
    return target
