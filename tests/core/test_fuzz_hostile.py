"""Fuzzing the decoder and the batch planner with hypothesis (issue #25), bounded to fit CI.

The ten-minute run of the same strategies is ``benchmarks/fuzz_hostile.py``. Properties and
strategies live in ``tests/helpers/fuzz.py``.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from helpers.fuzz import REAL, build_tree, check_decode, check_report, hostile_bytes, regular_hashes, tree_specs
from helpers.tiny_models import make_seg_model
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from desktop_app.core.batch.engine import run_batch
from desktop_app.core.options import RemoveOptions
from desktop_app.core.segment import Segmenter


def fuzz(max_examples: int) -> settings:
    """Bounded for CI; no example database (no .hypothesis/ folder in the checkout)."""
    return settings(max_examples=max_examples, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


@pytest.fixture(scope="module")
def segmenter(tmp_path_factory: pytest.TempPathFactory) -> Segmenter:
    return Segmenter(make_seg_model(tmp_path_factory.mktemp("fuzz") / "seed.onnx"))


@pytest.fixture(scope="module")
def photo_bytes() -> bytes:
    return REAL[0]  # a small JPEG


def _tiff_with_bad_tag_count() -> bytes:
    """Found by this fuzzer: a TIFF whose tag count is wrong opened fine, then ``n_frames``
    raised a raw TypeError ("Missing dimensions") outside the decoder's error handling."""
    tiff = bytearray(next(f for f in REAL if f.startswith(b"II*\x00")))
    tiff[8] = 16
    return bytes(tiff)


@fuzz(300)
@example(data=_tiff_with_bad_tag_count(), name="x.tif")
@given(data=hostile_bytes(), name=st.sampled_from(["x.jpg", "x.png", "x", "x.webp"]))
def test_decoder_returns_an_image_or_a_clear_error(data: bytes, name: str) -> None:
    folder = Path(tempfile.mkdtemp(prefix="fuzz-dec-"))
    try:
        assert check_decode(data, folder, name) in ("ok", "refused")
    finally:
        shutil.rmtree(folder)


@pytest.mark.timeout(300)
@fuzz(25)
@given(spec=tree_specs, in_place=st.booleans())
def test_batch_over_random_trees_with_links_finishes_and_reports(
    segmenter: Segmenter, photo_bytes: bytes, spec: list[tuple[str, str, str]], in_place: bool
) -> None:
    base = Path(tempfile.mkdtemp(prefix="fuzz-tree-"))
    try:
        root = base / "in"
        build_tree(root, spec, photo_bytes)
        out = root if in_place else base / "out"
        before = regular_hashes(root)
        report = run_batch([root], out, RemoveOptions(foreground_estimation=False), segmenter)
        check_report(report, root, out, before)
        again = run_batch([root], out, RemoveOptions(foreground_estimation=False), segmenter)
        assert again.count("done") == 0, "a rerun found new work: outputs were taken for inputs"
        check_report(again, root, out, before)
    finally:
        shutil.rmtree(base)
