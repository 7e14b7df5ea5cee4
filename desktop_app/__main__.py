"""Entry point of ``seed-studio`` / ``python -m desktop_app``: GUI or command line.

``remove``, ``models`` and ``info`` run the Qt-free CLI. ``-h``/``--help`` describes both the
window's flags and the subcommands (:mod:`desktop_app.gui_args`, no Qt import); ``--version``
and ``--install-desktop-entry`` / ``--uninstall-desktop-entry`` (:mod:`desktop_app.desktop_entry`)
answer without opening a window. Anything else
(no arguments, a photo path, GUI flags such as ``--batch`` or ``--screenshot``) opens the GUI. The GUI module is
imported only then, so the CLI works on machines without Qt. A first argument that is an
existing path always means "open this in the GUI", even if it is named like a subcommand.
"""

from __future__ import annotations

import os
import sys

SUBCOMMANDS = ("remove", "models", "info")
HELP_FLAGS = ("-h", "--help")
DESKTOP_FLAGS = ("--install-desktop-entry", "--uninstall-desktop-entry")


def wants_cli(argv: list[str]) -> bool:
    """True when ``argv`` (without the program name) is a CLI subcommand or a help request."""
    if not argv:
        return False
    first = argv[0]
    if os.path.exists(first):
        return False
    return first in SUBCOMMANDS or first in HELP_FLAGS


def run_gui(argv: list[str]) -> int:
    """Import the GUI lazily and run it; a clear message instead of a traceback if it is missing."""
    try:
        from desktop_app.app import run_gui as gui_main
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing == "desktop_app.app":
            print("seed-studio: the GUI is not available in this build (desktop_app/app.py is missing); "
                  "use the command line: seed-studio remove --help", file=sys.stderr)  # fmt: skip
        else:
            print(f"seed-studio: cannot start the GUI: module {missing!r} is not installed ({exc}); "
                  "the command line still works: seed-studio remove --help", file=sys.stderr)  # fmt: skip
        return 2
    result = gui_main(argv)
    return int(result or 0)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; returns the exit status."""
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] and args[0] in HELP_FLAGS:  # the whole program: GUI flags and subcommands, no Qt
        from desktop_app.gui_args import build_gui_parser

        build_gui_parser().print_help()
        return 0
    if args[:1] == ["--version"]:
        from desktop_app.core.resources import app_version

        print(f"seed-studio {app_version()}")
        return 0
    if args[:1] and args[0] in DESKTOP_FLAGS:
        if len(args) > 1:
            print(f"seed-studio: {args[0]} takes no other arguments", file=sys.stderr)
            return 2
        from desktop_app.desktop_entry import main as desktop_main

        return desktop_main(args[0])
    if wants_cli(args):
        from desktop_app.cli import main as cli_main

        return cli_main(args)
    return run_gui(args)


if __name__ == "__main__":
    sys.exit(main())
