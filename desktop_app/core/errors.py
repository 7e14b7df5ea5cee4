"""Typed errors of the core.

The CLI, the batch engine and the GUI must tell a user *what* is wrong with *which* file
without showing a traceback, so every expected failure is one of these, carrying a message
written for people. Anything else escaping the core is a bug.
"""

from __future__ import annotations


class SeedStudioError(Exception):
    """Base class: an expected, user-facing failure with a readable message."""


class ImageLoadError(SeedStudioError):
    """An input could not be read as an image (missing, not an image, truncated, too big...)."""


class ImageSaveError(SeedStudioError):
    """An output could not be encoded or written."""


class ModelError(SeedStudioError):
    """A model file is missing, not ONNX, or not a usable segmentation model."""


class NoDefaultModelError(ModelError):
    """No embedded default segmentation model is shipped (yet)."""


class InputRejected(ImageLoadError):
    """A path that is not a regular, readable file of sane size, refused before it is opened.

    ``reason`` is the sentence without the path (a report's ``source`` field already names the
    file). ``skip`` is True for things that are simply not photos (FIFOs, devices, sockets):
    a batch lists those as skipped, while loops, missing or unreadable files count as failed.
    """

    def __init__(self, path: object, reason: str, skip: bool = False) -> None:
        super().__init__(f"{path}: {reason}")
        self.path = path
        self.reason = reason
        self.skip = skip


class OutputError(SeedStudioError):
    """The output folder or report path cannot be written: found before any photo is decoded."""
