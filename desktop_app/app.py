"""GUI entry point: ``seed-studio [PHOTO] [--remove] [--view MODE] [--screenshot OUT] [--quit]``,
or ``seed-studio --batch [PATHS...]`` for the batch queue.

``desktop_app.__main__`` calls :func:`run_gui` with the arguments after the program name when
no CLI subcommand is given. The automation flags drive the real window (see
``desktop_app.ui.automation``) so docs screenshots and smoke checks exercise the same paths as
a person's clicks.
"""

from __future__ import annotations

import argparse
import sys

from desktop_app.gui_args import build_gui_parser


def build_parser() -> argparse.ArgumentParser:
    """The GUI's parser (Qt-free, in :mod:`desktop_app.gui_args`, so ``--help`` needs no Qt)."""
    return build_gui_parser()


def _parse_size(text: str) -> tuple[int, int]:
    try:
        w, h = (int(v) for v in text.lower().split("x"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"--size must look like 1280x820, got {text!r}") from exc
    return max(w, 400), max(h, 300)


def _release_startup_work_when_shown(window, waits_for_photo: bool) -> None:
    """Open the start-up gate once the window is up, or once the photo given on the command
    line is shown (or failed to open): a person waits for those, not for warm-ups."""
    from PySide6.QtCore import QTimer

    from desktop_app.ui.shared.workers import release_startup_work

    if waits_for_photo:
        window.editor.photo_changed.connect(release_startup_work)
        window.editor.loader.failed.connect(release_startup_work)
        QTimer.singleShot(5000, release_startup_work)  # a slow decode must not hold them forever
    else:
        QTimer.singleShot(0, release_startup_work)  # after the first pass of the event loop


def run_gui(argv: list[str]) -> int:
    """Run the GUI; returns the process exit status."""
    args = build_parser().parse_args(argv)
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        print("seed-studio: the desktop-entry flags take no other arguments", file=sys.stderr)
        return 2
    if args.remove and args.photo is None:
        print("seed-studio: --remove needs a PHOTO", file=sys.stderr)
        return 2
    for photo in [args.photo, *args.more]:
        if photo is not None and not photo.exists():
            print(f"seed-studio: {photo}: no such file", file=sys.stderr)
            return 2
    if args.more:  # "Open with" on several photos: the batch queue does the same to each
        if args.remove or args.screenshot or args.view:
            print("seed-studio: --remove, --view and --screenshot work on one PHOTO", file=sys.stderr)
            return 2
        args.batch = [*(args.batch or []), args.photo, *args.more]
        args.photo = None
    background = None
    if args.background is not None:
        from desktop_app.core.options import parse_background

        try:
            background = parse_background(args.background)
        except ValueError as exc:
            print(f"seed-studio: {exc}", file=sys.stderr)
            return 2
    try:
        size = _parse_size(args.size)
    except argparse.ArgumentTypeError as exc:
        print(f"seed-studio: {exc}", file=sys.stderr)
        return 2

    from PySide6.QtWidgets import QApplication

    from desktop_app.ui.shared.icon import app_icon
    from desktop_app.ui.shared.settings import APPLICATION, ORGANISATION
    from desktop_app.ui.shared.workers import hold_startup_work, release_startup_work

    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "seed-studio"])
    app.setOrganizationName(ORGANISATION)
    app.setApplicationName(APPLICATION)
    app.setApplicationDisplayName(APPLICATION)
    app.setDesktopFileName("seed-studio")  # Wayland/X11: the window belongs to seed-studio.desktop
    app.setWindowIcon(app_icon())
    hold_startup_work()  # model sessions and warm-ups wait until the window (and photo) are up
    try:
        return _run_window(app, args, background, size)
    finally:
        release_startup_work()  # an early exit must not leave the gate shut for a later window


def _run_window(app, args: argparse.Namespace, background, size: tuple[int, int]) -> int:
    """Build, show and run the main window for parsed ``args``; returns the exit status."""
    from desktop_app.core.errors import SeedStudioError
    from desktop_app.ui.automation import Automation, Script
    from desktop_app.ui.editor.canvas import ViewMode
    from desktop_app.ui.main_window import MainWindow

    window = MainWindow()
    if args.model is not None:
        try:
            window.model_chooser.use_transient(args.model)
            window.batch_page.options_panel.model_chooser.use_transient(args.model)
        except SeedStudioError as exc:
            print(f"seed-studio: {exc}", file=sys.stderr)
            window.close()
            return 2
    script = Script(
        photo=args.photo,
        remove=args.remove,
        view=ViewMode(args.view) if args.view else None,
        screenshot=args.screenshot,
        quit=args.quit,
        grab_canvas=args.grab == "canvas",
        timeout_s=args.timeout,
    )
    if background is not None:
        window.apply_background(background)
    if script.needed:
        window.resize(*size)
    window.show()
    if args.batch is not None:
        window.show_batch(args.batch)
    _release_startup_work_when_shown(window, waits_for_photo=args.photo is not None)
    automation = Automation(window, script)
    if script.needed:
        automation.start()
    elif args.photo is not None:
        window.open_path(args.photo)
    if script.quit and automation.done:
        return automation.exit_code
    quit_on_close = app.quitOnLastWindowClosed()
    try:
        code = app.exec()
    finally:
        app.setQuitOnLastWindowClosed(quit_on_close)
    return automation.exit_code if automation.done else int(code)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(run_gui(sys.argv[1:]))
