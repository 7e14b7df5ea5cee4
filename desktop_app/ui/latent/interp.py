"""Kept points and the interpolation between two of them (playback and frame export).

Playback is a QTimer that emits ``frame(z)`` per tick; the panel sends each z to its
newest-wins render worker, so a decoder slower than the frame rate skips frames instead of
falling behind. Exporting renders every frame on the panel's file worker instead.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QTimer, Signal
from PySide6.QtWidgets import QCheckBox, QComboBox, QGridLayout, QGroupBox, QLabel, QPushButton, QSpinBox, QWidget

from desktop_app.core.latent.generator import LatentSpace
from desktop_app.core.latent.points import LatentPoint, interpolate
from desktop_app.ui.latent.widgets import ThumbStrip


class InterpolationBox(QGroupBox):
    """Signals: ``keep_requested``, ``export_requested``, ``frame(z)``, ``picked(point)``,
    ``problem(text)`` (e.g. fewer than two kept points)."""

    keep_requested = Signal()
    export_requested = Signal()
    frame = Signal(object)
    picked = Signal(object)
    problem = Signal(str)
    stopped = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__("Interpolate between kept points", parent)
        self.space: LatentSpace | None = None
        self._frames: np.ndarray | None = None
        self._index = 0
        self.timer = QTimer(self)
        self.timer.timeout.connect(self._tick)
        self.keep_button = QPushButton("Keep this point")
        self.kept = ThumbStrip(40)
        self.kept.setToolTip("Kept points: click one to go to it")
        self.a_box, self.b_box = QComboBox(), QComboBox()
        self.frames_box = QSpinBox()
        self.frames_box.setRange(2, 240)
        self.frames_box.setValue(24)
        self.frames_box.setSuffix(" frames")
        self.fps_box = QSpinBox()
        self.fps_box.setRange(1, 60)
        self.fps_box.setValue(12)
        self.fps_box.setSuffix(" fps")
        self.bounce = QCheckBox("There and back")
        self.bounce.setChecked(True)
        self.play_button = QPushButton("Play")
        self.play_button.setCheckable(True)
        self.export_button = QPushButton("Export frames…")
        self.export_button.setToolTip("A folder of PNGs, or an animated .webp / .gif")
        grid = QGridLayout(self)
        grid.addWidget(self.keep_button, 0, 0, 1, 2)
        grid.addWidget(self.kept, 1, 0, 1, 4)
        for col, w in enumerate((QLabel("From"), self.a_box, QLabel("to"), self.b_box)):
            grid.addWidget(w, 2, col)
        for col, w in enumerate((self.frames_box, self.fps_box, self.bounce)):
            grid.addWidget(w, 3, col)
        grid.addWidget(self.play_button, 4, 0, 1, 2)
        grid.addWidget(self.export_button, 4, 2, 1, 2)
        self.keep_button.clicked.connect(self.keep_requested)
        self.export_button.clicked.connect(self.export_requested)
        self.kept.picked.connect(self.picked)
        self.play_button.toggled.connect(lambda on: self.play() if on else self.stop())

    def reset(self, space: LatentSpace | None) -> None:
        """A new model: forget kept points (they belong to the old latent space)."""
        self.stop()
        self.space = space
        self.kept.clear_all()
        self.a_box.clear()
        self.b_box.clear()

    def keep(self, image: np.ndarray, point: LatentPoint) -> None:
        n = len(self.kept.payloads) + 1
        self.kept.add(image, point, f"point {n}", newest_first=False)
        for box in (self.a_box, self.b_box):
            box.addItem(f"point {n}")
        self.a_box.setCurrentIndex(max(0, n - 2))
        self.b_box.setCurrentIndex(n - 1)

    def ends(self) -> tuple[np.ndarray, np.ndarray] | None:
        """(z_A, z_B), or None (and ``problem``) with fewer than two kept points."""
        if self.space is None or len(self.kept.payloads) < 2:
            self.problem.emit("Keep at least two points to interpolate between them.")
            return None
        a, b = self.kept.payloads[self.a_box.currentIndex()], self.kept.payloads[self.b_box.currentIndex()]
        return a.z(self.space), b.z(self.space)

    def frames(self) -> np.ndarray | None:
        ends = self.ends()
        if ends is None:
            return None
        zs = interpolate(*ends, self.frames_box.value())
        return np.concatenate([zs, zs[-2:0:-1]]) if self.bounce.isChecked() else zs

    @property
    def playing(self) -> bool:
        return self.timer.isActive()

    def play(self) -> None:
        self._frames = self.frames()
        if self._frames is None:
            self.play_button.setChecked(False)
            return
        self._index = 0
        self.timer.start(max(15, round(1000 / self.fps_box.value())))
        self.play_button.setText("Stop")
        self.play_button.setChecked(True)

    def stop(self) -> None:
        was_playing = self.timer.isActive()
        self.timer.stop()
        self.play_button.setChecked(False)
        self.play_button.setText("Play")
        if was_playing:
            self.stopped.emit()

    def _tick(self) -> None:
        assert self._frames is not None
        self.frame.emit(self._frames[self._index % len(self._frames)])
        self._index += 1
