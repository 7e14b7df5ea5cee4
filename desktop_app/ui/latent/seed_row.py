"""The latent panel's seed row: seed, temperature, prior, Randomize and Mean.

A widget of its own so the panel only wires it: ``draw_requested`` fires on every change a
person makes to the seed, the temperature or the prior (typed and confirmed with Enter or by
leaving the box, the spin arrows, Up/Down, PgUp/PgDn, the wheel), and the panel draws that seed.
Typing does not redraw per keystroke (keyboard tracking is off): "1234" is one image, not four.
``set_seed`` shows a seed without asking for a draw (the panel's own updates). The two buttons
are public attributes the panel connects to ``randomize`` and ``go_to_mean``.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QDoubleSpinBox, QHBoxLayout, QLabel, QPushButton, QSpinBox, QWidget


class SeedRow(QWidget):
    """Signal ``draw_requested(seed)``: the user finished editing one of the draw settings."""

    draw_requested = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.seed_box = QSpinBox()
        self.seed_box.setRange(0, 2**31 - 1)
        self.seed_box.setKeyboardTracking(False)
        self.seed_box.setToolTip("The same seed and temperature always give the same image")
        self.temperature = QDoubleSpinBox()
        self.temperature.setRange(0.0, 3.0)
        self.temperature.setSingleStep(0.1)
        self.temperature.setValue(1.0)
        self.temperature.setKeyboardTracking(False)
        self.temperature.setPrefix("T ")
        self.temperature.setToolTip("Temperature: scales the random draw (lower = closer to typical)")
        self.prior_box = QComboBox()
        self.prior_box.addItems(["data fit", "N(0, I)"])
        self.prior_box.setToolTip(
            "Draw from the fit to the encoded training images (a Gaussian mixture when the "
            "model has one: looks like the data), or from the VAE's own prior N(0, I)"
        )
        self.random_button = QPushButton("Randomize")
        self.mean_button = QPushButton("Mean")
        self.mean_button.setToolTip("The centre of the training data in latent space")

        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        widgets = (QLabel("Seed"), self.seed_box, self.temperature, self.prior_box)
        for w in (*widgets, self.random_button, self.mean_button):
            row.addWidget(w)
        # valueChanged, not editingFinished: the arrows and Up/Down never "finish editing", and
        # leaving the box with an unchanged seed must not redraw it (that would reset the sliders)
        self.seed_box.valueChanged.connect(lambda _v: self._request())
        self.temperature.valueChanged.connect(lambda _v: self._request())
        self.prior_box.activated.connect(lambda _i: self._request())

    def _request(self) -> None:
        self.draw_requested.emit(self.seed_box.value())

    def set_seed(self, seed: int) -> None:
        """Show ``seed`` without a draw request (the panel already draws it)."""
        self.seed_box.blockSignals(True)
        self.seed_box.setValue(seed)
        self.seed_box.blockSignals(False)

    def use_fitted_prior(self) -> bool:
        """True when draws should come from the data fit (the first choice) rather than N(0, I)."""
        return self.prior_box.currentIndex() == 0

    def set_prior_available(self, has_fit: bool, draw_word: str = "temperature") -> None:
        """A model without a data fit (a GAN, a third-party file) can only draw from N(0, I):
        show that and lock the box. ``draw_word`` names the scaling of the draw: a GAN's is
        its truncation (z scaled toward 0 trades variety for typical, cleaner images)."""
        self.prior_box.setCurrentIndex(0 if has_fit else 1)
        self.prior_box.setEnabled(has_fit)
        truncation = draw_word == "truncation"
        self.temperature.setPrefix("ψ " if truncation else "T ")
        self.temperature.setAccessibleName(draw_word.capitalize())
        self.temperature.setToolTip(
            "Truncation: scales z toward 0 (lower = more typical, cleaner, less varied)"
            if truncation
            else "Temperature: scales the random draw (lower = closer to typical)"
        )
