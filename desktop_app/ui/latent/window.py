"""Put the latent panel into the main window: a page (View ▸ Pages ▸ Latent sliders, Ctrl+Shift+L)
and an Edit-menu action that sends the editor's cut-out to the encoder.

One call from ``MainWindow.__init__`` (after the menus exist): ``install_latent_page(self)``;
and ``self.latent_panel.shutdown()`` in ``closeEvent``. Kept here so main_window.py gains two
lines only. Relies on the window's ``add_page``, ``pages``, ``pages_menu``, ``settings``,
``editor`` (``rgb``, ``mask``) and ``statusBar()``.
"""

from __future__ import annotations

from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow

from desktop_app.ui.latent.panel import LatentPanel

LATENT_SHORTCUT = "Ctrl+Shift+L"
SEND_TEXT = "Send cut-out to latent sliders"


def install_latent_page(window: QMainWindow) -> LatentPanel:
    """Create the panel as a page of ``window`` and wire the "send cut-out" action."""
    panel = LatentPanel(settings=window.settings)
    window.latent_panel = panel
    window.latent_page_action = window.add_page("latent", "Latent sliders", panel, QKeySequence(LATENT_SHORTCUT))
    send = QAction(SEND_TEXT, window)
    send.setToolTip("Encode the current cut-out and edit it with the latent sliders")
    send.triggered.connect(lambda: send_cutout(window))
    window.pages_menu.addSeparator()
    window.pages_menu.addAction(send)
    window.latent_send_action = send
    panel.status.connect(lambda text: window.statusBar().showMessage(text, 5000))
    return panel


def show_latent(window: QMainWindow) -> LatentPanel:
    window.latent_page_action.setChecked(True)
    window.pages.setCurrentWidget(window.latent_panel)
    return window.latent_panel


def send_cutout(window: QMainWindow) -> int | None:
    """Encode the editor's photo cropped to its mask (or the whole photo without a mask)."""
    rgb, mask = window.editor.rgb, window.editor.mask
    if rgb is None:
        window.statusBar().showMessage("Open a photo first: there is no cut-out to send", 5000)
        return None
    panel = show_latent(window)
    return panel.encode_array(rgb, "cut-out", mask=mask)
