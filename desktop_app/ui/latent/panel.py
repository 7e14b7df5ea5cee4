"""The latent panel: explore a generator live with direction sliders, seeds and interpolation.

State is one :class:`~desktop_app.core.latent.points.LatentPoint` (a base point plus slider values
in sigmas); every change asks the render worker for the image of ``point.z(space)``. The render
worker is a persistent newest-wins :class:`LatestWinsWorker`: dragging submits a frame per
mouse move, and whatever the decoder has not started yet is simply replaced, so the picture
follows the hand instead of replaying stale positions. Loading, encoding and file writing have
their own workers, so none of them can delay a frame and none runs on the GUI thread.

Dialogs go through ``ask_open`` / ``ask_save`` (see ``dialogs``) so tests can answer them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QSettings, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from desktop_app.core.errors import SeedStudioError
from desktop_app.core.latent.generator import Generator, default_generator_path
from desktop_app.core.latent.points import LatentPoint, load_point, save_point
from desktop_app.ui.latent import jobs
from desktop_app.ui.latent.chooser import GeneratorChooser, describe, encoder_reason, slider_names
from desktop_app.ui.latent.dialogs import LatentDialogsMixin
from desktop_app.ui.latent.interp import InterpolationBox
from desktop_app.ui.latent.seed_row import SeedRow
from desktop_app.ui.latent.sliders import DirectionSliders
from desktop_app.ui.latent.widgets import LatentImage, MessageBar, ThumbStrip
from desktop_app.ui.shared.settings import make_settings, read_list
from desktop_app.ui.shared.workers import LatestWinsWorker

HISTORY = 24
RANDOM_DIRECTIONS = 16


class LatentPanel(LatentDialogsMixin, QWidget):
    """Public API: ``load_model``, ``randomize``, ``set_slider``, ``encode_array``,
    ``encode_file``, ``save_image``, ``save_point_file``, ``load_point_file``, ``keep_point``,
    ``play``, ``export_frames``, ``shutdown``."""

    model_loaded = Signal(object)  # GeneratorInfo
    image_ready = Signal(object)  # H x W x 3 uint8
    status = Signal(str)

    def __init__(
        self,
        parent: QWidget | None = None,
        model_path: Path | None = None,
        settings: QSettings | None = None,
        autoload: bool = True,
    ) -> None:
        super().__init__(parent)
        self.settings = settings or make_settings()
        self.generator: Generator | None = None
        self.point = LatentPoint(np.zeros(0), np.zeros(0))
        self.image: np.ndarray | None = None
        self.last_ms = 0.0
        self.errors: list[str] = []
        self._serial = 0
        self._history_pending = False
        self._pending_path: Path | None = None
        self.renderer = LatestWinsWorker(jobs.render, "latent-render", self)
        self.loader = LatestWinsWorker(jobs.load_generator, "latent-load", self, after_startup=True)
        self.encoder = LatestWinsWorker(jobs.encode, "latent-encode", self)
        self.files = LatestWinsWorker(jobs.run_file_job, "latent-files", self)
        self._build()
        self._connect()
        path = model_path or (default_generator_path() if autoload else None)
        if path is not None and Path(path).is_file():
            self.load_model(path)
        elif model_path is not None:
            self._error(f"{model_path}: no such file")

    # -- layout ------------------------------------------------------------------------------
    def _build(self) -> None:
        self.view = LatentImage()
        self.chooser = GeneratorChooser()
        self.info_label = QLabel("Open a generator (ONNX decoder) to start.")
        self.info_label.setWordWrap(True)
        self.timing = QLabel("")
        self.message = MessageBar()
        self.open_button = QPushButton("Open generator…")
        self.encode_button = QPushButton("Encode image…")
        self.save_button = QPushButton("Save image…")
        self.scale_box = QSpinBox()
        self.scale_box.setRange(1, 16)
        self.scale_box.setValue(4)
        self.scale_box.setPrefix("× ")
        self.scale_box.setToolTip("Integer upscale when saving (nearest neighbour: crisp pixels)")
        self.crisp = QCheckBox("Crisp pixels")
        self.save_point_button = QPushButton("Save point…")
        self.load_point_button = QPushButton("Load point…")
        self.seeds = SeedRow()
        self.history = ThumbStrip(48, HISTORY, captions=False)
        self.history.setToolTip("Recent images: click one to go back to it")
        self.sliders = DirectionSliders()
        self.interp = InterpolationBox()

        file_row = QGridLayout()
        for i, w in enumerate(
            (
                self.open_button,
                self.encode_button,
                self.save_point_button,
                self.load_point_button,
                self.save_button,
                self.scale_box,
            )
        ):
            file_row.addWidget(w, i // 3, i % 3)
        left = QVBoxLayout()
        left.addWidget(self.view, 1)
        row = QHBoxLayout()
        row.addWidget(self.timing, 1)
        row.addWidget(self.crisp)
        left.addLayout(row)
        left.addWidget(self.seeds)
        left.addLayout(file_row)
        left.addWidget(QLabel("History"))
        left.addWidget(self.history)

        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.sliders)
        right = QVBoxLayout()
        right.addWidget(self.chooser)
        right.addWidget(self.info_label)
        right.addWidget(scroll, 1)
        right.addWidget(self.interp)

        body = QHBoxLayout()
        body.addLayout(left, 5)
        body.addLayout(right, 6)
        outer = QVBoxLayout(self)
        outer.addWidget(self.message)
        outer.addLayout(body, 1)

    def _connect(self) -> None:
        self.renderer.finished.connect(self._on_rendered)
        self.renderer.failed.connect(lambda _i, msg: self._error(msg))
        self.loader.finished.connect(self._on_loaded)
        self.loader.failed.connect(lambda _i, msg: self._error(msg))
        self.encoder.finished.connect(self._on_encoded)
        self.encoder.failed.connect(lambda _i, msg: self._error(msg))
        self.files.finished.connect(lambda _i, msg: self._say(msg))
        self.files.failed.connect(lambda _i, msg: self._error(msg))
        self.sliders.value_changed.connect(self._on_slider)
        self.sliders.settled.connect(self._mark_history)
        self.sliders.names_changed.connect(self._save_names)
        self.seeds.random_button.clicked.connect(lambda: self.randomize())
        self.seeds.mean_button.clicked.connect(self.go_to_mean)
        self.seeds.draw_requested.connect(self.set_seed)
        self.history.picked.connect(self.go_to)
        self.interp.picked.connect(self.go_to)
        self.interp.keep_requested.connect(self.keep_point)
        self.interp.export_requested.connect(self._export_clicked)
        self.interp.frame.connect(lambda z: self._render(z=z))
        self.interp.stopped.connect(self._render)  # back to the current point
        self.interp.problem.connect(self._error)
        self.crisp.toggled.connect(lambda on: self.view.set_smooth(not on))
        self.chooser.chosen.connect(self.load_model)
        self.open_button.clicked.connect(self._open_clicked)
        self.encode_button.clicked.connect(self._encode_clicked)
        self.save_button.clicked.connect(self._save_clicked)
        self.save_point_button.clicked.connect(self._save_point_clicked)
        self.load_point_button.clicked.connect(self._load_point_clicked)
        self.message.action.connect(self._explore_random)

    # -- model -------------------------------------------------------------------------------
    def load_model(self, path: str | Path, random_directions: int = 0) -> int:
        """Open a generator off the GUI thread; ``model_loaded`` fires when it is ready."""
        self.info_label.setText(f"Loading {Path(path).name}…")
        return self.loader.submit(jobs.LoadRequest(Path(path), random_directions))

    def _on_loaded(self, _job: int, result: jobs.LoadResult) -> None:
        if result.generator is None:
            self._pending_path = result.path
            action = "Explore with random directions" if result.vector_size else ""
            self.message.show_message(result.message, action)
            self.info_label.setText(f"{result.path.name} is not a Seed Studio generator (see the notice above).")
            return
        self.message.hide()
        gen = self.generator = result.generator
        info = gen.info
        self.interp.reset(info.space)
        self.sliders.set_count(info.space.count, slider_names(self._load_names(), info), info.space.explained)
        self.history.clear_all()
        self.seeds.set_prior_available(info.space.has_fit, info.draw_word)
        self.encode_button.setEnabled(gen.has_encoder)
        self.encode_button.setToolTip(encoder_reason(info))
        self.chooser.set_entries(result.catalog, info)
        metrics = ", ".join(f"{k} {v:.3g}" for k, v in info.metrics.items() if k in ("psnr", "ssim", "kid_x1000"))
        self.info_label.setText(describe(info, metrics))
        if not gen.has_encoder and info.kind == "gan":
            self._say(f"{info.name} loaded: {encoder_reason(info)}")
        self.point = LatentPoint(info.space.mean.copy(), np.zeros(info.space.count), origin="mean")
        self._render(history=True)
        self.model_loaded.emit(info)

    def _explore_random(self) -> None:
        if self._pending_path is not None:
            self.load_model(self._pending_path, RANDOM_DIRECTIONS)

    def _names_key(self) -> str:
        assert self.generator is not None
        return "latent/names/" + self.generator.info.key.replace("/", "_").replace("\\", "_")

    def _load_names(self) -> list[str]:
        return read_list(self.settings, self._names_key())

    def _save_names(self, names: list[str]) -> None:
        if self.generator is not None:
            self.settings.setValue(self._names_key(), names)
            self.settings.sync()

    # -- moving in latent space ----------------------------------------------------------------
    def current_z(self) -> np.ndarray:
        assert self.generator is not None
        return self.point.z(self.generator.info.space)

    def set_slider(self, k: int, v: float) -> None:
        """Move direction ``k`` to exactly ``v`` sigmas from the base point."""
        self.sliders.set_value(k, v)

    def _on_slider(self, k: int, v: float) -> None:
        if self.generator is None:
            return
        self.point.values = self.sliders.values.copy()
        self._render()

    def randomize(self, seed: int | None = None) -> None:
        """A new base point drawn from the prior N(0, T² I); a fresh seed unless one is given."""
        if seed is None:
            seed = int(np.random.default_rng().integers(0, 2**31 - 1))
        self.set_seed(seed)

    def set_seed(self, seed: int) -> None:
        if self.generator is None:
            return
        self.seeds.set_seed(seed)
        t = float(self.seeds.temperature.value())
        space = self.generator.info.space
        fitted = space.has_fit and self.seeds.use_fitted_prior()
        base = space.sample(seed, t, fitted)
        self._set_point(LatentPoint(base, np.zeros(self.sliders.count), seed, t, "seed", fitted))

    def go_to_mean(self) -> None:
        if self.generator is not None:
            space = self.generator.info.space
            self._set_point(LatentPoint(space.mean.copy(), np.zeros(space.count), origin="mean"))

    def go_to(self, point: LatentPoint) -> None:
        """Jump to a point from the history or the kept points (its sliders come back too)."""
        self._set_point(point.copy(), history=False)

    def _set_point(self, point: LatentPoint, history: bool = True) -> None:
        self.interp.stop()
        self.point = point
        self.sliders.set_values(point.values)
        if point.seed is not None:
            self.seeds.set_seed(point.seed)
        self._render(history=history)

    # -- rendering -----------------------------------------------------------------------------
    def _render(self, history: bool = False, z: np.ndarray | None = None) -> int | None:
        if self.generator is None:
            return None
        self._serial += 1
        self._history_pending = self._history_pending or history
        z = self.current_z() if z is None else z
        return self.renderer.submit(jobs.RenderRequest(self.generator, z, self._serial))

    def _on_rendered(self, _job: int, result: jobs.RenderResult) -> None:
        self.image = result.image
        self.last_ms = result.ms
        self.view.set_image(result.image)
        p = self.point
        origin = f"seed {p.seed}" if p.seed is not None and p.origin == "seed" else p.origin
        origin = "interpolation" if self.interp.playing else origin
        self.timing.setText(f"{origin} · decoder {result.ms:.1f} ms · |z| {np.linalg.norm(result.z):.1f}")
        if self._history_pending and result.serial == self._serial and not self.interp.playing:
            self._history_pending = False
            self.history.add(result.image, self.point.copy(), self._describe(self.point))
        self.image_ready.emit(result.image)

    def _mark_history(self) -> None:
        """A change is complete (slider released, reset): the next frame goes to the history."""
        if self.generator is not None:
            self._render(history=True)

    def _describe(self, p: LatentPoint) -> str:
        moved = [f"{self.sliders.label(k)} {v:+.1f}" for k, v in enumerate(p.values) if v]
        prior = "" if p.fitted else " N(0,I)"
        origin = f"seed {p.seed} T {p.temperature:.1f}{prior}" if p.seed is not None else p.origin
        return "; ".join([origin, *moved])

    # -- encoder -------------------------------------------------------------------------------
    def encode_array(self, image: np.ndarray, name: str = "cut-out", mask: np.ndarray | None = None) -> int | None:
        """Start from the latent point of an RGB(A) uint8 image; with ``mask`` (the editor's
        cut-out) the subject's bounding box is encoded, framed like the training images."""
        if self.generator is None or not self.generator.has_encoder:
            self._error(
                f"Cannot encode images: {encoder_reason(self.generator and self.generator.info) or 'no generator'}."
            )
            return None
        return self.encoder.submit(jobs.EncodeRequest(self.generator, image=image, mask=mask, name=name))

    def encode_file(self, path: str | Path) -> int | None:
        if self.generator is None or not self.generator.has_encoder:
            self._error(
                f"Cannot encode images: {encoder_reason(self.generator and self.generator.info) or 'no generator'}."
            )
            return None
        return self.encoder.submit(jobs.EncodeRequest(self.generator, path=Path(path)))

    def _on_encoded(self, _job: int, result: jobs.EncodeResult) -> None:
        self._set_point(LatentPoint(result.mean, np.zeros(self.sliders.count), origin=f"encoded {result.name}"))
        self._say(f"Encoded {result.name}; the sliders now edit it")

    # -- files ---------------------------------------------------------------------------------
    def save_image(self, path: str | Path, factor: int | None = None) -> int | None:
        if self.image is None:
            return None
        return self.files.submit(jobs.save_image_job(self.image.copy(), Path(path), factor or self.scale_box.value()))

    def save_point_file(self, path: str | Path) -> None:
        assert self.generator is not None
        try:
            save_point(path, self.point, self.generator.info)
            self._say(f"Saved point {Path(path).name}")
        except (SeedStudioError, OSError) as exc:
            self._error(str(exc))

    def load_point_file(self, path: str | Path) -> None:
        assert self.generator is not None
        try:
            self._set_point(load_point(path, self.generator.info))
        except SeedStudioError as exc:
            self._error(str(exc))

    # -- interpolation -------------------------------------------------------------------------
    def keep_point(self) -> None:
        """Add the current point to the kept points (the ends of an interpolation)."""
        if self.generator is not None and self.image is not None:
            self.interp.keep(self.image, self.point.copy())

    def play(self) -> None:
        self.interp.play()

    def export_frames(self, target: str | Path) -> int | None:
        """Render the A -> B interpolation and write a folder of PNGs or an animated WebP/GIF."""
        ends = self.interp.ends()
        if ends is None or self.generator is None:
            return None
        box = self.interp
        job = jobs.export_frames_job(
            self.generator,
            *ends,
            box.frames_box.value(),
            Path(target),
            box.fps_box.value(),
            self.scale_box.value(),
            box.bounce.isChecked(),
        )
        self._say(f"Exporting {Path(target).name}…")
        return self.files.submit(job)

    # -- messages and shutdown -----------------------------------------------------------------
    def _say(self, text: str) -> None:
        self.timing.setText(text)
        self.status.emit(text)

    def _error(self, text: str) -> None:
        self.errors.append(text)
        self.message.show_message(text)
        self.status.emit(text)

    def shutdown(self) -> None:
        self.interp.stop()
        for worker in (self.renderer, self.loader, self.encoder, self.files):
            worker.shutdown()
