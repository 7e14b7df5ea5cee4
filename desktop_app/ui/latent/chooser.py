"""The latent page's generator chooser and what the page says about the loaded kind.

A combo box ("Generator") lists the embedded generators by name and kind, e.g.
``emoji-gan (GAN)`` and ``emoji-vae (VAE)``, plus a file opened with *Open generator…*; a badge
beside it names the kind of the loaded one. Picking an entry emits ``chosen(path)`` and the
panel loads it on its loader worker. The list itself is read on that worker too (the load job
returns it), so the GUI thread never opens a model file.

Also here, so the panel stays a wiring file: the words that differ between kinds (the info
line, why a GAN cannot encode images, the truncation/temperature box, default slider names).
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QWidget

from desktop_app.core.latent.catalog import GeneratorEntry
from desktop_app.core.latent.generator import GeneratorInfo

NO_ENCODER_GAN = (
    "A GAN has no encoder: nothing maps an image back to its latent point, so only a VAE "
    "(e.g. emoji-vae) can encode images"
)
NO_ENCODER = "This generator has no encoder file"


class GeneratorChooser(QWidget):
    """Signal ``chosen(Path)``: the user picked another generator in the list."""

    chosen = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.combo = QComboBox()
        self.combo.setAccessibleName("Generator")
        self.combo.setToolTip("The generators shipped with Seed Studio and the file you opened")
        self.combo.setMinimumContentsLength(18)
        self.badge = QLabel("")
        self.badge.setToolTip("The kind of the loaded generator")
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(QLabel("Generator"))
        row.addWidget(self.combo, 1)
        row.addWidget(self.badge)
        self.combo.activated.connect(self._on_activated)

    def paths(self) -> list[Path]:
        return [Path(self.combo.itemData(i)) for i in range(self.combo.count())]

    def set_entries(self, entries: list[GeneratorEntry], info: GeneratorInfo) -> None:
        """List ``entries`` (plus the loaded file if it is not among them) and select the loaded one."""
        self.combo.blockSignals(True)
        self.combo.clear()
        loaded = info.path.resolve()
        for e in entries:
            self.combo.addItem(e.label, str(e.path))
        if loaded not in [p.resolve() for p in self.paths()]:
            self.combo.addItem(f"{info.name} ({info.kind_label}, {info.path.name})", str(info.path))
        index = [p.resolve() for p in self.paths()].index(loaded)
        self.combo.setCurrentIndex(index)
        self.combo.blockSignals(False)
        self.badge.setText(f"<b>{info.kind_label}</b>")

    def _on_activated(self, index: int) -> None:
        self.chosen.emit(Path(self.combo.itemData(index)))


def describe(info: GeneratorInfo, metrics: str) -> str:
    """The info line: name, kind, latent, size and where the directions come from."""
    if info.space.synthetic:
        source = "random orthonormal directions"
    elif info.kind == "gan":
        source = "SeFa directions (closed form, from the first layer)"
    else:
        source = "PCA directions of the data"
    size = f"{info.image_size[1]}x{info.image_size[0]}" if info.image_size else "?"
    version = info.version and "v" + info.version
    prior = "; prior N(0, I), ψ = truncation" if info.kind == "gan" else ""
    text = f"<b>{info.name}</b> {version} — {info.kind_label}, latent {info.latent_size}, {size} px, "
    return text + f"{info.space.count} {source}{prior}" + (f"; validation {metrics}" if metrics else "")


def encoder_reason(info: GeneratorInfo | None) -> str:
    """Why "Encode image" is unavailable ('' when it is available)."""
    if info is None or info.encoder_path is not None:
        return ""
    return NO_ENCODER_GAN if info.kind == "gan" else NO_ENCODER


def slider_names(saved: list[str], info: GeneratorInfo) -> list[str]:
    """Names the user gave win; otherwise the names in the file's metadata (looked-at sweeps)."""
    count = max(len(saved), len(info.direction_names))
    return [
        (saved[k] if k < len(saved) and saved[k] else "")
        or (info.direction_names[k] if k < len(info.direction_names) else "")
        for k in range(count)
    ]
