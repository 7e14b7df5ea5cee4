"""One photo of a batch: decode, infer, then compose + encode + atomic write.

Both engines call these three functions, so they make byte-identical outputs and give the same
failure reasons. The in-process engine (:mod:`~desktop_app.core.batch.engine`) runs the stages
on three threads to overlap photos on one machine; a Ray worker
(:mod:`~desktop_app.core.batch.worker`) chains them with :func:`process_photo`, one photo per
call, because there the parallelism comes from many worker processes instead.

Failures are values, not exceptions: a bad file must be reported once and the batch must go
on; on Ray an exception would also look like a crashed task to retry.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from desktop_app.core.batch.plan import DONE, FAILED, BatchItem
from desktop_app.core.clicks.engine import ClickPredictor
from desktop_app.core.errors import SeedStudioError
from desktop_app.core.files import os_error_text
from desktop_app.core.imageio import LoadedImage, encode_image, load_image, write_bytes_atomic
from desktop_app.core.options import RemoveOptions
from desktop_app.core.pipeline import model_input, predict_alpha, render
from desktop_app.core.segment import Segmenter

# What each stage was doing, for the report's reason when it fails on something that is not
# one of our own errors (an OSError, a decoder bug).
READ_CONTEXT, INFER_CONTEXT, WRITE_CONTEXT = "cannot read the image", "inference failed", "cannot write the output"


def read_photo(item: BatchItem, options: RemoveOptions) -> LoadedImage:
    """Decode ``item.source`` within the options' size limits (raises on a bad file)."""
    return load_image(item.source, max_pixels=options.max_pixels, max_bytes=options.max_file_bytes)


def infer_photo(
    segmenter: Segmenter, loaded: LoadedImage, options: RemoveOptions, clicker: ClickPredictor | None
) -> np.ndarray:
    """The alpha matte of a decoded photo (model, optional second pass, refinement, threshold)."""
    return predict_alpha(segmenter, model_input(loaded), options, clicker)


def write_photo(item: BatchItem, loaded: LoadedImage, alpha: np.ndarray, options: RemoveOptions) -> list[str]:
    """Compose, encode and write ``item.output`` atomically (temp file + rename, so a kill at any
    moment leaves the old file or the whole new one); returns the render's warnings."""
    assert item.output is not None
    result = render(loaded.rgb, alpha, options, source_alpha=loaded.alpha)
    data = encode_image(result.image, options.format, quality=options.quality, background=options.jpg_background)
    write_bytes_atomic(item.output, data)
    return result.warnings


def failure_reason(exc: BaseException, context: str, source: Path | None = None) -> str:
    """The sentence for a report: the path is in the item's ``source`` already, so a message
    that starts with it is not repeated ("failed: X: X: reason" was the result)."""
    if isinstance(exc, SeedStudioError):
        text = str(exc)
        prefix = f"{source}: " if source is not None else ""
        return text[len(prefix) :] if prefix and text.startswith(prefix) else text
    if isinstance(exc, OSError):
        return f"{context}: {os_error_text(exc)}"
    return f"{context}: {type(exc).__name__}: {exc}"


def process_photo(
    item: BatchItem, options: RemoveOptions, segmenter: Segmenter, clicker: ClickPredictor | None = None
) -> BatchItem:
    """Run one planned item through all three stages; sets its status, reason, seconds and
    warnings (the same fields, in the same order, as the threaded engine) and returns it.
    Never raises for the photo's own problems; only ``BaseException``s (a cancel) escape."""
    t0 = time.perf_counter()
    stage = READ_CONTEXT
    try:
        loaded = read_photo(item, options)
        stage = INFER_CONTEXT
        item.warnings.extend(loaded.warnings)
        alpha = infer_photo(segmenter, loaded, options, clicker)
        stage = WRITE_CONTEXT
        item.warnings.extend(write_photo(item, loaded, alpha, options))
        item.status, item.reason = DONE, ""
    except Exception as exc:
        item.status, item.reason = FAILED, failure_reason(exc, stage, item.source)
    item.seconds = time.perf_counter() - t0
    return item
