"""onnxruntime sessions: provider choice, threading, and a small cache.

Creating a session costs 0.1-2 s (graph optimisation), so the CLI, batch engine and GUI all go
through :func:`get_session`, which keeps the last few sessions keyed by file identity
(path, mtime, size): replacing a model file on disk is picked up, reusing it is free.
"""

from __future__ import annotations

import functools
import os
import threading
from collections import OrderedDict
from pathlib import Path

import onnxruntime as ort

from desktop_app.core.errors import ModelError

# Best first. Only providers present in this onnxruntime build are requested.
PREFERRED_PROVIDERS = (
    "CUDAExecutionProvider",
    "DmlExecutionProvider",
    "CoreMLExecutionProvider",
    "CPUExecutionProvider",
)
# ``--providers`` names -> onnxruntime's. What the user types is short; what ORT wants is not.
PROVIDER_NAMES = {
    "cpu": "CPUExecutionProvider",
    "cuda": "CUDAExecutionProvider",
    "coreml": "CoreMLExecutionProvider",
    "dml": "DmlExecutionProvider",
}
_CACHE_SIZE = 4
_cache: OrderedDict[tuple, ort.InferenceSession] = OrderedDict()
_lock = threading.Lock()


@functools.cache
def physical_cores() -> int:
    """Physical core count (hyper-threads make ORT slower, not faster), at least 1.

    Read once per process (the click engine asks on every click; the count does not change).
    Linux's sysfs topology first, the same source psutil reads there, without psutil's 20 ms
    import in every batch process; psutil (optional, a dev dependency) elsewhere."""
    try:  # Linux: count distinct (package, core) pairs
        cores = set()
        base = Path("/sys/devices/system/cpu")
        for cpu in base.glob("cpu[0-9]*/topology"):
            pkg = (cpu / "physical_package_id").read_text().strip()
            core = (cpu / "core_id").read_text().strip()
            cores.add((pkg, core))
        if cores:
            return len(cores)
    except OSError:
        pass
    try:
        import psutil

        n = psutil.cpu_count(logical=False)
        if n:
            return int(n)
    except ImportError:
        pass
    return max(1, (os.cpu_count() or 2) // 2)


def available_providers(preferred: tuple[str, ...] = PREFERRED_PROVIDERS) -> list[str]:
    """``preferred`` filtered to what this onnxruntime build offers, CPU always last."""
    have = set(ort.get_available_providers())
    chosen = [p for p in preferred if p in have and p != "CPUExecutionProvider"]
    return [*chosen, "CPUExecutionProvider"]


def parse_providers(text: str) -> list[str]:
    """``"cuda,cpu"`` -> onnxruntime provider names, in the order given; ValueError for a name
    we do not know (checked before any model loads, so a typo never runs a batch on the CPU)."""
    names = [t.strip().lower() for t in text.split(",") if t.strip()]
    if not names:
        raise ValueError("no execution provider named (use cpu, cuda, coreml, dml or a comma list)")
    unknown = [n for n in names if n not in PROVIDER_NAMES]
    if unknown:
        raise ValueError(f"unknown execution provider {', '.join(unknown)} (use {', '.join(PROVIDER_NAMES)})")
    return list(dict.fromkeys(PROVIDER_NAMES[n] for n in names))


def check_providers(providers: list[str]) -> list[str]:
    """``providers`` if this onnxruntime build has them all (CPU appended as the fallback ORT
    uses for operators an accelerator lacks); ModelError naming what is missing otherwise.

    Checked on the machine that runs the model: on a cluster, a GPU worker's onnxruntime may
    offer CUDA while the driver's does not.
    """
    have = ort.get_available_providers()
    missing = [p for p in providers if p not in have]
    if missing:
        short = {v: k for k, v in PROVIDER_NAMES.items()}
        offered = ", ".join(short.get(p, p) for p in have)
        raise ModelError(
            f"execution provider {', '.join(short.get(p, p) for p in missing)} is not available in this "
            f"onnxruntime build (onnxruntime {ort.__version__} offers: {offered}); for cuda install "
            "onnxruntime-gpu, for dml onnxruntime-directml, coreml needs macOS"
        )
    return providers if "CPUExecutionProvider" in providers else [*providers, "CPUExecutionProvider"]


def session_options(threads: int | None = None) -> ort.SessionOptions:
    """Full graph optimisation, sequential execution, intra-op threads = physical cores, no spinning."""
    so = ort.SessionOptions()
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    so.intra_op_num_threads = threads or physical_cores()
    so.inter_op_num_threads = 1
    # Idle ORT workers spin by default; with our reader/writer threads (and anything else) on
    # the same cores that burnt the CPU they needed: a 20-photo batch took 2.3 s spinning and
    # 1.05 s not, on 2 cores.
    so.add_session_config_entry("session.intra_op.allow_spinning", "0")
    so.log_severity_level = 3  # errors only: ORT's warnings about unused initializers mean nothing to users
    return so


def get_session(
    path: str | os.PathLike[str], providers: list[str] | None = None, threads: int | None = None
) -> ort.InferenceSession:
    """A cached :class:`onnxruntime.InferenceSession` for ``path``.

    If an accelerator provider fails to initialise (missing driver...) the session is built
    on the CPU instead of failing: a slower result beats none. Raises :class:`ModelError`.
    """
    p = Path(path).expanduser()
    try:
        st = p.stat()
    except OSError as exc:
        raise ModelError(f"{p}: model file not found") from exc
    provs = tuple(providers or available_providers())
    key = (str(p.resolve()), st.st_mtime_ns, st.st_size, provs, threads)
    with _lock:
        sess = _cache.get(key)
        if sess is not None:
            _cache.move_to_end(key)
            return sess
    try:
        sess = ort.InferenceSession(str(p), sess_options=session_options(threads), providers=list(provs))
    except Exception as exc:
        if provs != ("CPUExecutionProvider",):
            try:
                sess = ort.InferenceSession(
                    str(p), sess_options=session_options(threads), providers=["CPUExecutionProvider"]
                )
            except Exception as exc2:
                raise ModelError(f"{p}: onnxruntime cannot load the model: {exc2}") from exc2
        else:
            raise ModelError(f"{p}: onnxruntime cannot load the model: {exc}") from exc
    with _lock:
        _cache[key] = sess
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return sess


def active_provider(session: ort.InferenceSession) -> str:
    """The provider actually running the graph (first of ``session.get_providers()``)."""
    return session.get_providers()[0]


def clear_cache() -> None:
    """Forget cached sessions (tests; freeing memory after switching models)."""
    with _lock:
        _cache.clear()
