"""File-related behaviour of the main window: open, drop, paste, recent files, export,
background images and adding models.

A mixin so that main_window.py stays about layout; it relies on attributes the window sets
(editor, canvas, settings, panels, show_error, confirm) and on ``proceed_if_saved``
(``unsaved``): every way a person replaces the photo asks first when edits would be lost.
File dialogs go through ``ask_open_file`` / ``ask_save_file`` so tests can answer them.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QMimeData, QTimer
from PySide6.QtGui import QColor, QDragEnterEvent, QDropEvent, QGuiApplication, QImage
from PySide6.QtWidgets import QFileDialog

from desktop_app.core.imageio import OUTPUT_FORMATS, normalise_format
from desktop_app.core.options import Background
from desktop_app.ui.editor import jobs
from desktop_app.ui.editor.canvas import BackgroundKind, ViewMode
from desktop_app.ui.shared.qimage import qimage_to_rgb
from desktop_app.ui.shared.settings import add_recent_file, recent_files, remove_recent_file
from desktop_app.ui.shared.widgets import IMAGE_FILTER
from desktop_app.ui.shared.workers import LatestWinsWorker

EXPORT_FILTERS = {
    "png": "PNG with alpha (*.png)",
    "webp": "WebP with alpha (*.webp)",
    "jpg": "JPEG, flattened (*.jpg)",
}


def _local_image_paths(mime: QMimeData) -> list[Path]:
    return [Path(u.toLocalFile()) for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


class FileActionsMixin:
    """Open/drop/paste/recent/export for MainWindow."""

    # -- dialogs (tests replace these two) ----------------------------------------------------
    def ask_open_file(self, title: str, start: str, filter_: str) -> str:
        return QFileDialog.getOpenFileName(self, title, start, filter_)[0]

    def ask_save_file(self, title: str, start: str, filter_: str) -> str:
        return QFileDialog.getSaveFileName(self, title, start, filter_)[0]

    # -- opening -----------------------------------------------------------------------------
    def open_dialog(self) -> None:
        """File ▸ Open: first Save / Discard / Cancel if edits would be lost, then the dialog."""
        self.proceed_if_saved("opening another photo", self._choose_and_open)

    def _choose_and_open(self) -> None:
        start = str(self.editor.photo_path.parent) if self.editor.photo_path else ""
        path = self.ask_open_file("Open photo", start, IMAGE_FILTER)
        if path:
            self.open_path(path)

    def open_path(self, path: str | Path) -> int:
        """Open a photo asynchronously; it joins the recent files once it has loaded. Does not
        ask about unsaved edits (the menu, drop and paste paths do, before calling this)."""
        return self.editor.open_path(path)

    def open_path_asking(self, path: str | Path, doing: str = "opening another photo") -> None:
        """Open ``path`` after Save / Discard / Cancel if the current edits would be lost."""
        self.proceed_if_saved(doing, lambda: self.open_path(path))

    def _on_opened_for_recent(self, _job: int, photo: jobs.OpenedPhoto) -> None:
        if photo.loaded.path is not None:
            add_recent_file(self.settings, photo.loaded.path)
            self.refresh_recent_menu()

    def refresh_recent_menu(self) -> None:
        menu = self.recent_menu
        menu.clear()
        items = recent_files(self.settings)
        for path in items:
            action = menu.addAction(Path(path).name)
            action.setToolTip(path)
            action.setData(path)
            action.triggered.connect(lambda _c=False, p=path: self._open_recent(p))
        if items:
            menu.addSeparator()
            menu.addAction("Clear list").triggered.connect(self._clear_recent)
        menu.setEnabled(bool(items))

    def _open_recent(self, path: str) -> None:
        if not Path(path).is_file():
            remove_recent_file(self.settings, path)
            self.refresh_recent_menu()
            self.show_error("Cannot open image", f"{path}: no such file (removed from the recent list)")
            return
        self.open_path_asking(path)

    def _clear_recent(self) -> None:
        self.settings.setValue("recent_files", [])
        self.refresh_recent_menu()

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        mime = event.mimeData()
        if _local_image_paths(mime) or mime.hasImage():
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        """Take what was dropped now (the mime data dies with the event), and ask about unsaved
        edits on the next turn of the event loop: a modal box inside a drop handler would hold
        the drag source's platform drag-and-drop session open."""
        source = self._mime_source(event.mimeData())
        event.acceptProposedAction()
        if source is not None:
            QTimer.singleShot(0, lambda: self._open_source(source))

    @staticmethod
    def _mime_source(mime: QMimeData) -> Path | QImage | None:
        """The first local file of ``mime``, else a copy of its image, else None."""
        paths = _local_image_paths(mime)
        if paths:
            return paths[0]
        if mime.hasImage():
            image = mime.imageData()
            if isinstance(image, QImage) and not image.isNull():
                return image.copy()
        return None

    def _open_source(self, source: Path | QImage) -> None:
        if isinstance(source, Path):
            self.open_path_asking(source)
        else:
            self.proceed_if_saved("pasting an image", lambda: self.editor.open_pixels(qimage_to_rgb(source)))

    def open_mime(self, mime: QMimeData) -> bool:
        """Open the first local file of ``mime``, else its image data (drop and paste); asks
        first if edits would be lost. False when ``mime`` holds neither."""
        source = self._mime_source(mime)
        if source is None:
            return False
        self._open_source(source)
        return True

    def paste_image(self) -> None:
        if not self.open_mime(QGuiApplication.clipboard().mimeData()):
            self.show_error("Nothing to paste", "The clipboard holds no image and no image file.")

    # -- export ------------------------------------------------------------------------------
    def _connect_background(self) -> None:
        self.exporter = LatestWinsWorker(jobs.export_image, "export", self, warmup=jobs.warm_up_export)
        self.exporter.finished.connect(self._on_exported)
        self.exporter.failed.connect(lambda _i, msg: self._on_export_failed(msg))
        self.exporter.cancelled.connect(lambda _i: self._forget_pending_after_save())
        self._export_snapshot: tuple[int, object] | None = None
        self.exporter.busy_changed.connect(self._on_export_busy)
        self.bg_worker = LatestWinsWorker(jobs.background_preview, "background", self)
        self.bg_worker.finished.connect(self._on_background_preview)
        self.bg_worker.failed.connect(lambda _i, msg: self.show_error("Background image", msg))
        self.background_path: Path | None = None
        self.crop_to_subject = False
        bp = self.background_panel
        bp.background_changed.connect(self.set_background_kind)
        bp.color_changed.connect(lambda c: self.canvas.set_background(BackgroundKind.COLOR, color=c))
        bp.choose_image_requested.connect(self.choose_background_image)
        bp.crop_changed.connect(lambda on: setattr(self, "crop_to_subject", on))
        self.editor.loader.finished.connect(self._on_opened_for_recent)

    def shutdown_file_workers(self) -> None:
        self.exporter.shutdown()
        self.bg_worker.shutdown()

    def set_background_kind(self, kind: BackgroundKind | str) -> None:
        kind = BackgroundKind(kind)
        self.background_panel.set_kind(kind)
        if kind == BackgroundKind.IMAGE and self.background_path is None:
            self.choose_background_image()
            return
        if kind in (BackgroundKind.BLUR, BackgroundKind.IMAGE):
            self._request_background(kind.value)
        self.canvas.set_background(kind, color=self.background_panel.color.color())
        if self.canvas.mode in (ViewMode.ORIGINAL, ViewMode.MASK, ViewMode.OVERLAY):
            self.set_view_mode(ViewMode.CUTOUT)

    def choose_background_image(self) -> None:
        path = self.ask_open_file("Background image", "", IMAGE_FILTER)
        if path:
            self.set_background_image(path)
        elif self.background_path is None:
            self.set_background_kind(BackgroundKind.TRANSPARENT)

    def set_background_image(self, path: str | Path) -> None:
        self.background_path = Path(path)
        self.background_panel.image_label.setText(self.background_path.name)
        self.set_background_kind(BackgroundKind.IMAGE)

    def _request_background(self, kind: str) -> None:
        rgb = self.editor.rgb
        if rgb is None:
            return
        path = self.background_path if kind == "image" else None
        mask = self.editor.mask
        # a snapshot: the worker must not read the array while the brush writes to it
        self.bg_worker.submit((kind, rgb, None if mask is None else mask.copy(), path))

    def _on_background_preview(self, _job: int, result) -> None:
        kind, array = result
        if kind == "blur":
            self.canvas.set_background(self.canvas.background, blurred=array)
        else:
            self.canvas.set_background(self.canvas.background, image=array)

    def apply_background(self, bg: Background) -> None:
        """Set the background from a core ``Background`` (as parsed from ``--background``)."""
        if bg.kind == "colour":
            self.background_panel.color.set_color(QColor(*bg.colour))
            self.set_background_kind(BackgroundKind.COLOR)
        elif bg.kind == "image" and bg.image is not None:
            self.set_background_image(bg.image)
        elif bg.kind == "blur":
            self.set_background_kind(BackgroundKind.BLUR)
        else:
            self.set_background_kind(BackgroundKind.TRANSPARENT)

    def export_background(self) -> Background:
        kind = self.background_panel.current()
        color = self.background_panel.color.color()
        if kind == BackgroundKind.COLOR:
            return Background(kind="colour", colour=(color.red(), color.green(), color.blue()))
        if kind == BackgroundKind.BLUR:
            return Background(kind="blur")
        if kind == BackgroundKind.IMAGE and self.background_path is not None:
            return Background(kind="image", image=self.background_path)
        return Background()

    def export_dialog(self, what: str = "cutout") -> int | None:
        """Ask where to save, then export; the export's job id, or None if nothing started."""
        if self.editor.mask is None:
            self.show_error("Nothing to export", "Run “Remove background” (or paint a mask) first.")
            return None
        src = self.editor.photo_path
        folder = src.parent if src else Path.home()
        stem = src.stem if src else "pasted"
        suffix = "mask" if what == "mask" else "cutout"
        filters = [EXPORT_FILTERS["png"]] if what == "mask" else [EXPORT_FILTERS[f] for f in OUTPUT_FORMATS]
        default = str(folder / f"{stem}-{suffix}.png")
        title = "Export mask" if what == "mask" else "Save cut-out as"
        path = self.ask_save_file(title, default, ";;".join(filters))
        return self.export_to(path, what) if path else None

    def export_to(self, path: str | Path, what: str = "cutout") -> int | None:
        """Export the cut-out (PNG/WebP with alpha, JPEG flattened) or the mask to ``path``."""
        mask, photo = self.editor.mask, self.editor.photo
        if mask is None or photo is None:
            self.show_error("Nothing to export", "Run “Remove background” (or paint a mask) first.")
            return None
        p = Path(path)
        if not p.suffix:
            p = p.with_suffix(".png")
        try:
            fmt = normalise_format(p.suffix)
        except ValueError as exc:
            self.show_error("Cannot export", str(exc))
            return None
        if what == "mask" and fmt == "jpg":
            fmt = "png"
        src = self.editor.photo_path
        overwrites_original = src is not None and p.resolve() == src.resolve()
        if overwrites_original and not self.confirm(
            "Overwrite the original?", f"{p.name} is the photo you opened. Replace it with the result?"
        ):
            self.statusBar().showMessage("Export cancelled: the original was left untouched", 10000)
            return None
        req = jobs.ExportRequest(
            path=p,
            fmt=fmt,
            rgb=photo.loaded.rgb,
            mask=mask.copy(),
            source_alpha=photo.loaded.alpha,
            background=self.export_background(),
            crop=self.crop_to_subject,
            mask_only=(what == "mask"),
        )
        self.statusBar().showMessage(f"Saving {p.name}…")
        self._export_snapshot = (self.editor.photo_id, req.mask)
        return self.exporter.submit(req)

    def _on_exported(self, _job: int, path: Path) -> None:
        self.statusBar().showMessage(f"Saved {path}", 15000)
        if self._export_snapshot is not None:
            self.editor.mark_saved(*self._export_snapshot)
            self._export_snapshot = None
        self._saved_then_continue()

    def _on_export_failed(self, message: str) -> None:
        self._forget_pending_after_save()
        self.show_error("Export failed", message)

    def _on_export_busy(self, busy: bool) -> None:
        self.set_busy("export", busy, "Saving…", self.exporter.cancel)
        for a in (self.export_action, self.export_as_action, self.export_mask_action):
            a.setEnabled(not busy)

    # -- models ------------------------------------------------------------------------------
    def add_model_dialog(self) -> None:
        path = self.ask_open_file("Add ONNX model", "", "ONNX models (*.onnx);;All files (*)")
        if path:
            self.model_chooser.add_model(path)
