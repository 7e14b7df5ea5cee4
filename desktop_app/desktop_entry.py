"""``seed-studio --install-desktop-entry`` / ``--uninstall-desktop-entry``: Linux menus and "Open with".

Why the app writes its own entry: ``pip``/``pipx`` install console scripts only, so without
this a person has no menu item, no icon and no "Open with Seed Studio" for photos. Files go
to the per-user XDG folders (no root needed; a packager can point ``XDG_DATA_HOME`` at a
staging tree instead): ``applications/seed-studio.desktop`` (``Exec=seed-studio %F``, the
image MIME types) and the icon under ``icons/hicolor`` (the SVG as ``scalable``, PNG sizes
rendered from it with Qt; without Qt only the SVG is written).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from desktop_app.core.resources import icon_svg

APP_ID = "seed-studio"
MIME_TYPES = ("image/jpeg", "image/png", "image/webp")
PNG_SIZES = (16, 22, 24, 32, 48, 64, 128, 256)
_PLAIN = re.compile(r"[A-Za-z0-9_./+-]+")


def data_home() -> Path:
    """``$XDG_DATA_HOME`` if set and absolute (the spec says to ignore a relative one), else ~/.local/share."""
    env = os.environ.get("XDG_DATA_HOME", "")
    return Path(env) if env and os.path.isabs(env) else Path.home() / ".local" / "share"


def _quote(arg: str) -> str:
    """One Exec argument, quoted as the Desktop Entry spec asks (then the string-escape of ``\\``)."""
    if _PLAIN.fullmatch(arg):
        return arg
    inner = re.sub(r'(["`$\\])', r"\\\1", arg)
    return f'"{inner}"'.replace("\\", "\\\\")


def launcher() -> list[str]:
    """How the menu should start this very installation: the bare name when ``seed-studio`` on
    PATH is the running launcher (menus then survive upgrades), else the launcher's absolute
    path (a venv or pipx bin folder the desktop session's PATH may lack), else ``python -m``."""
    script = Path(sys.argv[0]) if sys.argv and Path(sys.argv[0]).name == APP_ID else None
    on_path = shutil.which(APP_ID)
    if on_path and (script is None or Path(on_path).resolve() == script.resolve()):
        return [APP_ID]
    if script is not None and script.is_file():
        return [str(script.resolve())]
    return [sys.executable, "-m", "desktop_app"]


def desktop_entry_text(command: list[str]) -> str:
    """The ``.desktop`` file for ``command`` (%F: the files chosen in "Open with", several allowed)."""
    exec_line = " ".join(_quote(a) for a in command)
    return "\n".join([
        "[Desktop Entry]",
        "Type=Application",
        "Version=1.4",
        "Name=Seed Studio",
        "GenericName=Background Remover",
        "Comment=Remove photo backgrounds offline and touch up the mask",
        f"Exec={exec_line} %F",
        f"Icon={APP_ID}",
        "Terminal=false",
        "Categories=Graphics;2DGraphics;RasterGraphics;Photography;",
        f"MimeType={';'.join(MIME_TYPES)};",
        "Keywords=background;remove;cutout;mask;transparent;",
        "",
    ])  # fmt: skip


def entry_paths(root: Path) -> list[Path]:
    """Every file install writes under the data folder ``root`` (uninstall removes these only)."""
    icons = root / "icons" / "hicolor"
    pngs = [icons / f"{n}x{n}" / "apps" / f"{APP_ID}.png" for n in PNG_SIZES]
    return [root / "applications" / f"{APP_ID}.desktop", icons / "scalable" / "apps" / f"{APP_ID}.svg", *pngs]


def _write_pngs(root: Path) -> list[Path]:
    try:
        from desktop_app.ui.shared.icon import render_icon
    except ImportError as exc:  # Qt missing or its libraries absent: the SVG alone still works
        print(f"seed-studio: PNG icons skipped (Qt not usable: {exc}); the SVG icon was installed", file=sys.stderr)
        return []
    written = []
    for size, path in zip(PNG_SIZES, entry_paths(root)[2:], strict=True):
        path.parent.mkdir(parents=True, exist_ok=True)
        if render_icon(size).save(str(path), "PNG"):
            written.append(path)
    return written


def _refresh_caches(root: Path) -> None:
    """Best effort, as packages' post-install scripts do: the MIME cache makes "Open with" list
    the app at once, the icon cache makes the icon appear without a new login."""
    for tool, arg in (("update-desktop-database", root / "applications"), ("gtk-update-icon-cache", None)):
        exe = shutil.which(tool)
        if exe is None:
            continue
        args = [exe, "-q", str(arg)] if arg else [exe, "-q", "-t", "-f", str(root / "icons" / "hicolor")]
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            subprocess.run(args, check=False, capture_output=True, timeout=60)


def install(root: Path | None = None, command: list[str] | None = None) -> list[Path]:
    """Write the desktop entry and icons under ``root`` (default :func:`data_home`); returns them."""
    root = data_home() if root is None else root
    desktop, svg = entry_paths(root)[:2]
    desktop.parent.mkdir(parents=True, exist_ok=True)
    desktop.write_text(desktop_entry_text(command or launcher()), encoding="utf-8")
    svg.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(icon_svg(), svg)
    written = [desktop, svg, *_write_pngs(root)]
    _refresh_caches(root)
    return written


def uninstall(root: Path | None = None) -> list[Path]:
    """Remove what :func:`install` wrote (nothing else); returns the files removed."""
    root = data_home() if root is None else root
    removed = []
    for path in entry_paths(root):
        if path.is_file():
            path.unlink()
            removed.append(path)
    if removed:
        _refresh_caches(root)
    return removed


def main(flag: str) -> int:
    """Run ``--install-desktop-entry`` or ``--uninstall-desktop-entry``; returns the exit status."""
    try:
        paths = install() if flag == "--install-desktop-entry" else uninstall()
    except OSError as exc:
        print(f"seed-studio: {exc}", file=sys.stderr)
        return 1
    verb = "installed" if flag == "--install-desktop-entry" else "removed"
    if not paths:
        print(f"seed-studio: no desktop entry to remove under {data_home()}")
    for path in paths:
        print(f"{verb} {path}")
    return 0
