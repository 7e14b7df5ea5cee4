"""The GUI's command-line flags, in a module without Qt.

Why apart from :mod:`desktop_app.app`: ``seed-studio --help`` must describe the whole program
(how to open the window, its flags, and the command-line subcommands) on machines where Qt is
missing or slow to import, and the GUI's own ``-h`` prints the same text. Subcommand summaries
come from the CLI's parser when help is formatted, so they cannot drift from it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from desktop_app.core.resources import app_version

# The editor's view modes (ui.editor.canvas_draw.ViewMode values; a test keeps them equal).
VIEW_MODES = ("original", "overlay", "cutout", "mask", "split")

USAGE = """seed-studio [PHOTO ...] [--remove] [--view MODE] [--background BG] [--screenshot OUT.png] [--quit] ...
       seed-studio --batch [PATH ...]
       seed-studio COMMAND ...   (remove | models | info; no window)
       seed-studio --version | --install-desktop-entry | --uninstall-desktop-entry"""

DESCRIPTION = """Seed Studio: remove photo backgrounds offline and touch up the mask.

Without a command the window (GUI) opens: `seed-studio` alone, `seed-studio photo.jpg` to open
a photo (several photos go to the batch queue, as "Open with" on a selection passes them),
`seed-studio --batch FOLDER` for the batch queue. The flags below drive the window;
--remove, --view, --screenshot and --quit script it (docs screenshots, smoke checks)."""

EXAMPLES = """examples:
  seed-studio photo.jpg --remove --view cutout
  seed-studio --batch ~/Pictures/shoot
  seed-studio remove photos/ -o cutouts/          (no window)
  seed-studio remove --help"""


class _GuiParser(argparse.ArgumentParser):
    def format_help(self) -> str:
        """The GUI's flags, then the subcommands, then examples; always newline-terminated."""
        text = super().format_help().rstrip("\n")
        commands = "\n".join(f"  {name:8s}  {summary}" for name, summary in command_summaries())
        return f"{text}\n\ncommands (command line, no window; each has --help):\n{commands}\n\n{EXAMPLES}\n"


def command_summaries() -> list[tuple[str, str]]:
    """(name, one-line help) of each CLI subcommand, read from the CLI's own parser."""
    from desktop_app.cli import build_parser

    for action in build_parser()._actions:
        if isinstance(action, argparse._SubParsersAction):
            return [(choice.dest, choice.help or "") for choice in action._choices_actions]
    return []


def build_gui_parser() -> argparse.ArgumentParser:
    """``seed-studio [PHOTO] [flags]`` and ``seed-studio --batch [PATHS...]``."""
    p = _GuiParser(
        prog="seed-studio",
        usage=USAGE,
        description=DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("photo", nargs="?", type=Path, help="photo to open")
    p.add_argument("more", nargs="*", type=Path, metavar="PHOTO", help="more photos: all go to the batch queue")
    p.add_argument("--version", action="version", version=f"seed-studio {app_version()}")
    p.add_argument(
        "--install-desktop-entry",
        action="store_true",
        help='add Seed Studio to this user\'s application menu and "Open with" for images (Linux, XDG)',
    )
    p.add_argument("--uninstall-desktop-entry", action="store_true", help="remove what --install-desktop-entry wrote")
    p.add_argument(
        "--batch", nargs="*", type=Path, metavar="PATH", help="open the batch queue with these photos and folders"
    )
    p.add_argument("--model", type=Path, help="ONNX model to use for this run (not saved as the choice)")
    p.add_argument("--remove", action="store_true", help="run background removal after opening")
    p.add_argument("--view", choices=VIEW_MODES, help="view mode to switch to")
    p.add_argument(
        "--background",
        metavar="BG",
        help="background behind the cut-out: transparent, a #rrggbb colour, blur, or an image path",
    )
    p.add_argument("--screenshot", type=Path, metavar="OUT.png", help="save a grab of the window")
    p.add_argument("--grab", choices=["window", "canvas"], default="window", help="what --screenshot captures")
    p.add_argument("--quit", action="store_true", help="exit once the steps above are done")
    p.add_argument("--size", default="1280x820", metavar="WxH", help="window size (default %(default)s)")
    p.add_argument("--timeout", type=float, default=300.0, help="give up on automation after N seconds")
    return p
