"""Helpers of ``seed-studio remove`` that need no state: argument types, the pre-flight check
of every output path, the progress callback and the stdout fallback. Apart from ``cli`` to keep
that module about the commands themselves."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from desktop_app.core.batch.engine import CANCELLED, BatchItem
from desktop_app.core.files import parse_size, probe_writable
from desktop_app.core.options import parse_background


def fraction(text: str) -> float:
    v = float(text)
    if not 0.0 < v < 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {text}")
    return v


def positive(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 < v < float("inf"):  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be a positive number, got {text}")
    return v


def count(text: str) -> int:
    """A positive whole number (``--workers``)."""
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {text}")
    return v


def engine_problem(args: argparse.Namespace, stdin_mode: bool) -> str:
    """Why the engine flags do not fit together, or "": Ray flags need ``--engine ray``, and
    the Ray engine works on files (its workers read them from a shared file system)."""
    if args.engine != "ray":
        used = [flag for flag, value in (("--ray-address", args.ray_address), ("--workers", args.workers)) if value]
        return f"{' and '.join(used)} need{'s' if len(used) == 1 else ''} --engine ray" if used else ""
    if stdin_mode:
        return "--engine ray works on files and folders, not on stdin ('-')"
    return ""


def size(text: str) -> int:
    try:
        return parse_size(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc


def background(text: str) -> str:
    try:
        parse_background(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from exc
    return text


def output_problem(args: argparse.Namespace, stdin_mode: bool, out_dir: Path | None) -> str:
    """Why the outputs (folder, stdin's file, report) cannot be written, or "" if they can.

    Checked by writing (a probe file): a read-only folder used to be found only after every
    photo had been inferred, and a bad --json-report path after the whole batch.
    """
    if args.json_report:
        report = Path(args.json_report).expanduser()
        if report.is_dir():
            return f"--json-report {report}: is a folder; name a file, e.g. {report / 'report.json'}"
        why = probe_writable(report.parent)
        if why:
            return f"--json-report {report}: cannot write there: {why}"
    if stdin_mode and args.output:
        target = Path(args.output).expanduser()
        if target.is_dir():
            return f"-o {target}: is a folder; from stdin, -o names the output file (e.g. {target / 'cut.png'})"
        why = probe_writable(target.parent)
        return f"-o {target}: cannot write there: {why}" if why else ""
    if out_dir is not None:
        why = probe_writable(out_dir)
        if why:
            return f"cannot write to the output folder {out_dir}: {why}"
    return ""


def silence_stdout() -> None:
    """Point stdout at /dev/null so the interpreter's final flush of the bytes still buffered
    does not fail a second time ("Exception ignored ... OSError") after our clear message."""
    try:
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
    except (OSError, ValueError, AttributeError):  # no real stdout (a test's stand-in)
        pass


class BarProgress:
    """The batch's progress callback for a tqdm bar: it counts photos that really finished.

    Cancelled items are not progress: after Ctrl-C the engine reports every photo it did not
    get to as cancelled, and counting those made the bar jump to 100 % as the batch stopped.
    """

    def __init__(self, bar) -> None:
        self.bar = bar

    def __call__(self, done: int, total: int, item: BatchItem) -> None:
        if self.bar.total != total:
            self.bar.total = total
        if item.status != CANCELLED:
            self.bar.set_postfix_str(item.source.name[-30:], refresh=False)
            self.bar.update(1)
