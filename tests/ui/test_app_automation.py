"""``seed-studio PHOTO --remove --view V --screenshot OUT --quit`` run in-process."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from helpers.tiny_models import make_seg_model
from PIL import Image
from ui_helpers import write_photo

from desktop_app.app import run_gui


def test_screenshot_run_exits_zero(qapp, tmp_path: Path, models_env: Path) -> None:
    photo = write_photo(tmp_path / "p.png")
    model = make_seg_model(tmp_path / "tiny.onnx", fn="red")
    out = tmp_path / "shots" / "cutout.png"
    code = run_gui(
        [str(photo), "--model", str(model), "--remove", "--view", "cutout", "--background", "#00ff00",
         "--screenshot", str(out), "--size", "800x600", "--quit", "--timeout", "60"]
    )  # fmt: skip
    assert code == 0
    shot = Image.open(out)
    assert shot.size[0] >= 800 and shot.size[1] >= 600
    # The cut-out on green is what the window showed: the photo's blue background half became
    # green, its red subject half stayed, and no pixel of the blue background is left.
    pixels = np.asarray(shot.convert("RGB")).reshape(-1, 3)
    counts = {name: int((pixels == colour).all(axis=1).sum()) for name, colour in
              (("green", (0, 255, 0)), ("subject", (255, 0, 200)), ("blue", (0, 0, 200)))}  # fmt: skip
    assert counts["blue"] == 0, counts
    assert counts["green"] > 20_000 and counts["subject"] > 20_000, counts  # each ~half the shown photo
    assert 0.8 < counts["green"] / counts["subject"] < 1.25, counts


def test_missing_photo_is_an_error(qapp, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run_gui([str(tmp_path / "nope.png"), "--quit"]) == 2
    assert "no such file" in capsys.readouterr().err


def test_remove_without_any_model_fails_with_message(
    qapp, tmp_path: Path, models_env: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photo = write_photo(tmp_path / "p.png")
    code = run_gui([str(photo), "--remove", "--screenshot", str(tmp_path / "x.png"), "--quit", "--timeout", "60"])
    assert code == 1
    assert "model" in capsys.readouterr().err.lower()
    assert not (tmp_path / "x.png").exists()


def test_bad_view_name_is_rejected() -> None:
    with pytest.raises(SystemExit):
        run_gui(["--view", "sideways"])
