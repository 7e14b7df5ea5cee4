"""The file-system side of "nothing is lost": reading inputs safely, writing outputs atomically.

Why one module: the batch walker, the decoder, the CLI and the model loader must ask the same
questions before they touch a path, and get the same answers in the same words:

* Is it a regular file? A FIFO named ``x.jpg`` blocks ``open()`` forever and ``/dev/zero``
  never ends, so a path is ``stat``-ed first and anything but a regular file is refused
  *without being opened* (opening some devices has side effects too). Files are then opened
  with ``O_NONBLOCK`` and ``fstat``-ed again, so a file swapped for a FIFO in between cannot
  hang us either.
* Is it plausibly a photo? The size is checked before a byte is read (default cap 1 GiB).
* Symlink loops, dangling links and unreadable files get a sentence, not a traceback.

Writers use a hidden temp file in the target folder and ``os.replace``; the temp name is
clipped so it is never longer than the final name may be (a 250-byte name must not fail on
its 276-byte temp name). :func:`probe_writable` lets callers find an unwritable output
folder *before* the first photo is decoded.
"""

from __future__ import annotations

import contextlib
import errno
import os
import stat
import tempfile
from pathlib import Path
from typing import BinaryIO

from desktop_app.core.errors import InputRejected

DEFAULT_MAX_FILE_BYTES = 1 << 30  # 1 GiB: far above any camera file, far below "read /dev/zero"
TEMP_SUFFIX = ".seedtmp"
DEFAULT_NAME_MAX = 255  # bytes per name on ext4, APFS, NTFS (UTF-16 units there), most others
_RANDOM_CHARS = 8  # tempfile.mkstemp's random part


def _read_umask() -> int:
    # mkstemp creates 0600 files; outputs should get the usual permissions (0666 & ~umask).
    # Reading the umask means setting it, so do it once at import, before any threads exist.
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_read_umask()
_OPEN_FLAGS = (
    os.O_RDONLY
    | getattr(os, "O_NONBLOCK", 0)  # a FIFO swapped in after stat must not block open()
    | getattr(os, "O_NOCTTY", 0)
    | getattr(os, "O_CLOEXEC", 0)
    | getattr(os, "O_BINARY", 0)
)


def human_size(n: int) -> str:
    """1536 -> '1.5 KB', 1610612736 -> '1.5 GB' (binary units, as file managers show them)."""
    size = float(n)
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if size < 1024 or unit == "TB":
            return f"{int(size)} bytes" if unit == "bytes" else f"{size:.1f} {unit}"
        size /= 1024
    raise AssertionError("unreachable")


def parse_size(text: str) -> int:
    """'1G', '500M', '64k', '1048576' -> bytes (binary units); ValueError for anything else."""
    t = text.strip().upper().removesuffix("B")
    scale = 1
    if t and t[-1] in "KMGT":
        scale = 1024 ** ("KMGT".index(t[-1]) + 1)
        t = t[:-1]
    try:
        value = float(t)
    except ValueError:
        raise ValueError(f"not a size: {text!r} (use e.g. 500M or 2G)") from None
    if not value > 0 or value != value or value == float("inf"):
        raise ValueError(f"size must be positive, got {text!r}")
    return int(value * scale)


def os_error_text(exc: OSError) -> str:
    """A short human sentence for an OSError (no errno numbers, no repr of the path)."""
    known = {
        errno.ENOSPC: "the disk is full",
        errno.EROFS: "read-only file system",
        errno.EACCES: "permission denied",
        errno.EPERM: "operation not permitted",
        errno.ENAMETOOLONG: "name too long for the file system",
        errno.ENOTDIR: "a file is in the way where a folder is needed",
        errno.EEXIST: "a file is in the way where a folder is needed",
        errno.EISDIR: "is a folder",
        errno.ELOOP: "symlink loop",
        errno.ENOENT: "no such file or folder",
        errno.EDQUOT: "disk quota exceeded",
        errno.EIO: "input/output error (failing disk or lost connection?)",
    }
    return known.get(exc.errno or 0) or (exc.strerror or str(exc)).rstrip(".").lower()


# ----------------------------------------------------------------------------- reading


def _kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def _via_link(path: Path) -> str:
    with contextlib.suppress(OSError):
        if os.path.islink(path):
            return f" (a symlink to {os.readlink(path)})"
    return ""


def _stat_failure(path: Path, exc: OSError) -> InputRejected:
    if exc.errno == errno.ELOOP:
        return InputRejected(path, "symlink loop: the link leads back to itself, there is no file behind it")
    if exc.errno == errno.ENOENT and os.path.islink(path):
        return InputRejected(path, f"broken symlink{_via_link(path)}: its target does not exist")
    if exc.errno == errno.ENOENT:
        return InputRejected(path, "no such file")
    if exc.errno in (errno.EACCES, errno.EPERM):
        return InputRejected(path, "permission denied (cannot read the file)")
    return InputRejected(path, f"cannot read the file ({os_error_text(exc)})")


def stat_input(path: str | os.PathLike[str]) -> os.stat_result:
    """``stat`` a would-be photo (following links) and refuse anything but a regular file.

    Never opens the path. Raises :class:`InputRejected`: ``skip=True`` for FIFOs, devices and
    sockets (not photos; a batch lists them as skipped), ``skip=False`` for loops, missing and
    unreadable files and folders (a batch lists them as failed).
    """
    p = Path(path)
    try:
        st = os.stat(p)
    except OSError as exc:
        raise _stat_failure(p, exc) from exc
    except ValueError as exc:  # embedded NUL byte in the name
        raise InputRejected(p, f"invalid file name ({exc})") from exc
    if stat.S_ISDIR(st.st_mode):
        raise InputRejected(p, "is a folder, not an image file")
    if not stat.S_ISREG(st.st_mode):
        raise InputRejected(p, f"is {_kind(st.st_mode)}{_via_link(p)}, not a regular file", skip=True)
    return st


def _check_size(path: Path, size: int, max_bytes: int | None) -> None:
    if size == 0:
        raise InputRejected(path, "the file is empty (0 bytes)")
    if max_bytes is not None and size > max_bytes:
        raise InputRejected(
            path,
            f"the file is {human_size(size)}, over the {human_size(max_bytes)} limit for a photo "
            "(raise --max-file-size if it is genuine)",
        )


def open_input(path: str | os.PathLike[str], max_bytes: int | None = DEFAULT_MAX_FILE_BYTES) -> BinaryIO:
    """Open a photo for reading after :func:`stat_input` and the size cap; the caller closes it.

    The returned file is read lazily, so a decoder reads the header (and can refuse the file)
    before it reads the pixels: memory never depends on how big a bad file is.
    """
    p = Path(path)
    _check_size(p, stat_input(p).st_size, max_bytes)
    try:
        fd = os.open(p, _OPEN_FLAGS)
    except OSError as exc:
        raise _stat_failure(p, exc) from exc
    try:
        st = os.fstat(fd)  # what we actually opened (the path may have been swapped meanwhile)
        if not stat.S_ISREG(st.st_mode):
            raise InputRejected(p, f"is {_kind(st.st_mode)}, not a regular file", skip=True)
        _check_size(p, st.st_size, max_bytes)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_head(path: str | os.PathLike[str], n: int = 16) -> bytes:
    """The first ``n`` bytes of a regular file, or b'' for anything else (content sniffing)."""
    try:
        with open_input(path, max_bytes=None) as fh:
            return fh.read(n)
    except (InputRejected, OSError):
        return b""


def read_capped(stream: BinaryIO, max_bytes: int | None, name: str) -> bytes:
    """Read a whole stream (stdin) but refuse more than ``max_bytes`` (``/dev/zero | ...``)."""
    data = stream.read() if max_bytes is None else stream.read(max_bytes + 1)
    if max_bytes is not None and len(data) > max_bytes:
        raise InputRejected(Path(name), f"more than {human_size(max_bytes)} of input (raise --max-file-size)")
    return data


# ----------------------------------------------------------------------------- writing


def name_max(folder: str | os.PathLike[str]) -> int:
    """Longest file name (bytes) the file system of ``folder`` (or its nearest existing parent) allows."""
    p = Path(folder).absolute()
    while not p.exists() and p != p.parent:
        p = p.parent
    try:
        return int(os.pathconf(p, "PC_NAME_MAX"))
    except (OSError, ValueError, AttributeError):
        return DEFAULT_NAME_MAX


def clip_utf8(text: str, max_bytes: int) -> str:
    """``text`` cut to at most ``max_bytes`` UTF-8 bytes without splitting a character."""
    return text.encode("utf-8")[: max(0, max_bytes)].decode("utf-8", "ignore")


def _temp_prefix(path: Path) -> str:
    tail = f".{os.getpid()}-"
    room = name_max(path.parent) - len(tail.encode()) - _RANDOM_CHARS - len(TEMP_SUFFIX) - 1  # 1: leading dot
    return f".{clip_utf8(path.name, room)}{tail}"


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes, fsync: bool = False) -> None:
    """Write ``data`` to ``path`` via a hidden temp file in the same folder and ``os.replace``.

    A crash or cancel therefore leaves either the old file or the complete new one, never a
    truncated file under the final name. Stray temp files end in ``TEMP_SUFFIX`` (see
    :func:`remove_stale_temps`). Raises OSError (ENAMETOOLONG before anything is created when
    the final name itself is too long).
    """
    path = Path(path)
    if len(path.name.encode("utf-8")) > name_max(path.parent):
        raise OSError(errno.ENAMETOOLONG, os.strerror(errno.ENAMETOOLONG), str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=_temp_prefix(path), suffix=TEMP_SUFFIX, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            if os.name == "posix":
                os.fchmod(fh.fileno(), _FILE_MODE)
            fh.write(data)
            if fsync:
                fh.flush()
                os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def _in_the_way(folder: Path) -> Path | None:
    """The first existing ancestor-or-self of ``folder`` that is not a folder, if any."""
    p = Path(folder).absolute()
    for candidate in [p, *p.parents]:
        if candidate.exists():
            return None if candidate.is_dir() else candidate
    return None


def probe_writable(folder: str | os.PathLike[str]) -> str | None:
    """Create ``folder`` (with parents) and a temp file in it; None if that worked, else why not.

    A real write is the only honest test (``os.access`` is wrong for root, ACLs and network
    file systems). The probe file is removed at once and named like our temp files, so
    :func:`remove_stale_temps` cleans it up after a kill.
    """
    f = Path(folder)
    blocker = _in_the_way(f)
    if blocker is not None:
        return f"{blocker} is a file, not a folder"
    try:
        f.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".seed-studio-probe.{os.getpid()}-", suffix=TEMP_SUFFIX, dir=f)
        os.close(fd)
        os.unlink(tmp)
    except OSError as exc:
        return os_error_text(exc)
    return None


def remove_stale_temps(folder: str | os.PathLike[str]) -> int:
    """Delete temp files left in ``folder`` by a killed writer whose process is gone.

    Only names we create (``.NAME.PID-xxxx.seedtmp``) are touched, and only when that PID no
    longer runs, so a concurrent writer is never disturbed. Returns how many were removed.
    """
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        if not (entry.name.startswith(".") and entry.name.endswith(TEMP_SUFFIX)):
            continue
        pid_part = entry.name[: -len(TEMP_SUFFIX)].rsplit(".", 1)[-1].split("-", 1)[0]
        if pid_part.isdigit() and _pid_alive(int(pid_part)):
            continue
        with contextlib.suppress(OSError):
            os.unlink(entry.path)
            removed += 1
    return removed


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    if os.name != "posix":
        return True  # be conservative where signal 0 means something else
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return True
