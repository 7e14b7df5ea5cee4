"""``seed-studio --help`` describes the whole program: how to open the window, its flags, and
the command-line subcommands, without importing Qt."""

from __future__ import annotations

import subprocess
import sys

from desktop_app.gui_args import VIEW_MODES, build_gui_parser, command_summaries


def test_top_level_help_lists_gui_flags_and_commands_without_qt() -> None:
    code = (
        "import sys\n"
        "from desktop_app.__main__ import main\n"
        "code = main(['--help'])\n"
        "print('QT-IMPORTED' if any(m.startswith('PySide6') for m in sys.modules) else 'NO-QT', code)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    help_text, last = out.rsplit("\n", 2)[0], out.rsplit("\n", 2)[1]
    assert last == "NO-QT 0"
    for flag in ("--batch", "--remove", "--view", "--screenshot", "--quit", "--background", "--model"):
        assert flag in help_text, flag
    for command in ("remove", "models", "info"):
        assert f"\n  {command} " in help_text, command
    assert "GUI" in help_text and "seed-studio photo.jpg" in help_text


def test_help_text_ends_with_a_newline_and_matches_the_gui_parser() -> None:
    proc = subprocess.run([sys.executable, "-m", "desktop_app", "--help"], capture_output=True, text=True, check=True)
    assert proc.stdout.endswith("\n") and not proc.stdout.endswith("\n\n")
    assert proc.stdout == build_gui_parser().format_help()
    assert [name for name, _ in command_summaries()] == ["remove", "models", "info"]


def test_gui_parser_accepts_the_documented_flags() -> None:
    args = build_gui_parser().parse_args(["p.jpg", "--remove", "--view", "cutout", "--screenshot", "o.png", "--quit"])
    assert args.remove and args.view == "cutout" and args.quit and str(args.photo) == "p.jpg"
    assert build_gui_parser().parse_args(["--batch", "a", "b"]).batch is not None


def test_view_modes_match_the_editor() -> None:
    from desktop_app.ui.editor.canvas_draw import ViewMode

    assert tuple(m.value for m in ViewMode) == VIEW_MODES
