"""The batch and latent pages as a person meets them in the main window: reached from the menus,
driven by button clicks and keys, read from what the widgets show."""

from __future__ import annotations

import itertools
import re
import time
from pathlib import Path

import numpy as np
import pytest
from core.test_generator import make_tiny_generator
from helpers.corpus import photo
from helpers.tiny_models import make_click_model, make_seg_model
from PIL import Image
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QStyle, QStyleOptionSpinBox
from ui_helpers import choose, click, click_image, drop, menu_action, press, show_main_window, write_photo

from desktop_app.core.segment import Segmenter
from desktop_app.ui.main_window import MainWindow

WAIT = 60_000


class SlowSegmenter(Segmenter):
    """The real tiny model, 60 ms slower per photo, so a person can look while it runs."""

    def predict(self, *args, **kwargs):
        time.sleep(0.06)
        return super().predict(*args, **kwargs)


@pytest.fixture()
def window(qtbot, models_env: Path) -> MainWindow:
    make_seg_model(models_env / "tiny-red.onnx", fn="red")
    make_click_model(models_env / "tiny-clicks.onnx", size=32, radius=4.0)
    make_tiny_generator(models_env, "emoji-vae")  # the embedded default generator's name
    win = show_main_window(qtbot)
    win.resize(1280, 820)
    return win


def button_rows(page) -> tuple[int, int, int]:
    """Where Start, Pause and Cancel are, in window coordinates (after pending layouts)."""
    page.layout().activate()
    return tuple(b.mapTo(page.window(), QPoint(0, 0)).y() for b in (page.start_button, page.pause_button,
                                                                     page.cancel_button))  # fmt: skip


def test_batch_page_progress_reads_k_of_5_and_the_buttons_stay_put(qtbot, window: MainWindow, tmp_path: Path) -> None:
    choose(window, "File", "Batch remove…")
    page = window.batch_page
    assert window.pages.currentWidget() is page and not window.side_dock.isVisible()
    page.make_segmenter = lambda options: SlowSegmenter(options.model_path)
    photos = []
    for i in range(5):
        photos.append(tmp_path / "in" / f"p{i}.png")
        photos[-1].parent.mkdir(exist_ok=True)
        Image.fromarray(photo(seed=i)).save(photos[-1])
    with qtbot.waitSignal(page.scan_finished, timeout=WAIT):
        assert drop(page, photos)
    assert page.progress.text() == "0 / 5"
    rows = {"idle": button_rows(page)}

    shown: list[str] = []
    page.progress.valueChanged.connect(lambda _v: shown.append(page.progress.text()))
    with qtbot.waitSignal(page.run_finished, timeout=WAIT):
        click(qtbot, page.start_button)
        qtbot.waitUntil(lambda: page.progress.value() >= 1, timeout=WAIT)
        rows["running"] = button_rows(page)
        click(qtbot, page.pause_button)
        qtbot.wait(50)
        rows["paused"] = button_rows(page)
        assert re.fullmatch(r"[1-4] / 5", page.progress.text())
        click(qtbot, page.pause_button)  # Resume
        shown.append(page.progress.text())
    qtbot.wait(50)
    rows["finished"] = button_rows(page)
    assert page.banner.isVisible()  # the summary appeared above the buttons, not under them
    assert shown and all(re.fullmatch(r"[0-5] / 5", text) for text in shown), shown
    assert page.progress.text() == "5 / 5" and "5 of 5" in page.progress_label.text()
    assert len(set(rows.values())) == 1, rows


def test_latent_seed_typed_with_enter_arrows_and_up_key_each_redraw(
    qtbot, window: MainWindow, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # clicks in progress on the editor page: Enter would accept them there, not on the latent page
    monkeypatch.setattr(window, "ask_open_file", lambda *_a: str(write_photo(tmp_path / "p.png")))
    with qtbot.waitSignal(window.editor.photo_changed, timeout=WAIT):
        press(qtbot, window, "Ctrl+O")
    press(qtbot, window, "C")
    with qtbot.waitSignal(window.editor.mask_changed, timeout=WAIT):
        click_image(qtbot, window, 70, 30)

    choose(window, "View", "Pages", "Latent sliders")
    panel = window.latent_panel
    assert window.pages.currentWidget() is panel
    assert not window.side_dock.isVisible()  # the editor's tool panel belongs to the editor
    qtbot.waitUntil(lambda: panel.image is not None, timeout=WAIT)
    box = panel.seeds.seed_box
    qtbot.mouseClick(box, Qt.MouseButton.LeftButton)
    press(qtbot, window, "Ctrl+A")
    qtbot.keyClicks(window.focusWidget(), "42")
    images = [panel.image.copy()]
    with qtbot.waitSignal(panel.image_ready, timeout=WAIT):
        press(qtbot, window, "Return")
    images.append(panel.image.copy())
    assert box.value() == 42 and panel.point.seed == 42 and "seed 42" in panel.timing.text()

    option = QStyleOptionSpinBox()
    box.initStyleOption(option)
    up = box.style().subControlRect(QStyle.ComplexControl.CC_SpinBox, option, QStyle.SubControl.SC_SpinBoxUp, box)
    with qtbot.waitSignal(panel.image_ready, timeout=WAIT):
        qtbot.mouseClick(box, Qt.MouseButton.LeftButton, pos=up.center())
    images.append(panel.image.copy())
    assert panel.point.seed == 43
    with qtbot.waitSignal(panel.image_ready, timeout=WAIT):
        press(qtbot, window, "Up")
    images.append(panel.image.copy())
    assert panel.point.seed == 44 and "seed 44" in panel.timing.text()
    for a, b in itertools.pairwise(images):
        assert not np.array_equal(a, b)  # every change of the seed drew a new image

    choose(window, "View", "Pages", "Editor")
    assert window.side_dock.isVisible() and len(window.click_controller.clicks) == 1  # untouched
    assert menu_action(window, "Tools", "Accept click selection").isEnabled()
    press(qtbot, window, "Return")
    assert window.click_controller.clicks == []
