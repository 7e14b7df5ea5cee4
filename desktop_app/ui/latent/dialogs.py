"""File dialogs of the latent panel, as a mixin so the panel module stays about the latent logic.

Every dialog goes through ``ask_open`` / ``ask_save``: tests (and automation) replace those two
methods to answer without a modal dialog blocking the event loop.
"""

from __future__ import annotations

from PySide6.QtWidgets import QFileDialog

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.bmp *.tif *.tiff)"


class LatentDialogsMixin:
    """Needs the panel's ``load_model``, ``encode_file``, ``save_image``, ``save_point_file``,
    ``load_point_file``, ``export_frames`` and ``generator``."""

    def ask_open(self, title: str, filter_: str) -> str:
        return QFileDialog.getOpenFileName(self, title, "", filter_)[0]

    def ask_save(self, title: str, name: str, filter_: str) -> str:
        return QFileDialog.getSaveFileName(self, title, name, filter_)[0]

    def _open_clicked(self) -> None:
        if path := self.ask_open("Open generator", "ONNX models (*.onnx)"):
            self.load_model(path)

    def _encode_clicked(self) -> None:
        if path := self.ask_open("Encode image", IMAGE_FILTER):
            self.encode_file(path)

    def _save_clicked(self) -> None:
        if path := self.ask_save("Save image", "latent.png", "PNG (*.png);;WebP (*.webp);;JPEG (*.jpg)"):
            self.save_image(path)

    def _save_point_clicked(self) -> None:
        if self.generator is not None and (path := self.ask_save("Save latent point", "point.json", "JSON (*.json)")):
            self.save_point_file(path)

    def _load_point_clicked(self) -> None:
        if self.generator is not None and (path := self.ask_open("Load latent point", "JSON (*.json)")):
            self.load_point_file(path)

    def _export_clicked(self) -> None:
        if path := self.ask_save(
            "Export frames", "interpolation.webp", "Animated WebP (*.webp);;GIF (*.gif);;Folder of PNGs (*)"
        ):
            self.export_frames(path)
