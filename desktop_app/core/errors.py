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
