"""Help ▸ About: the version, the inference engine and its providers, the model files with
their versions and licences, and where the settings are kept.

Why a dialog of facts rather than a logo: it is what a bug report needs and what a person asks
after installing ("which model am I running, under which terms?"). The facts are gathered by
the Qt-free :mod:`desktop_app.core.about`; this module only lays them out.
"""

from __future__ import annotations

from html import escape

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QMainWindow, QTextBrowser, QVBoxLayout, QWidget

from desktop_app.core.about import APP_LICENCE, AboutFacts, gather

TITLE = "About Seed Studio"


def about_html(facts: AboutFacts, settings_path: str) -> str:
    """The dialog's body: a heading, then key/value lines, then one row per model file."""
    providers = ", ".join(facts.providers) or "none"
    lines = [
        ("Version", facts.version),
        ("Licence", APP_LICENCE),
        ("Python", facts.python),
        ("onnxruntime", f"{facts.onnxruntime} (providers: {providers})"),
        ("Embedded models", str(facts.models_dir)),
        ("User models", str(facts.user_models_dir)),
        ("Settings", settings_path),
    ]
    head = "".join(f"<tr><td><b>{escape(k)}</b></td><td>{escape(v)}</td></tr>" for k, v in lines)
    rows = []
    for m in facts.models:
        if m.problem:
            detail = f"<td colspan='4'>not readable: {escape(m.problem)}</td>"
        else:
            card = escape(m.card.name) if m.card else "no card"
            version = escape(m.version or "-")
            detail = f"<td>{escape(m.kind)}</td><td>{version}</td><td>{escape(m.licence or '-')}</td><td>{card}</td>"
        rows.append(f"<tr><td>{escape(m.path.name)} ({m.where})</td>{detail}</tr>")
    models = "".join(rows) or "<tr><td colspan='5'>no model files found</td></tr>"
    return (
        f"<h3>Seed Studio {escape(facts.version)}</h3>"
        "<p>Offline background removal and latent exploration with ONNX models.</p>"
        f"<table cellspacing='4'>{head}</table>"
        "<h4>Model files</h4><table cellspacing='4' border='0'>"
        "<tr><th align='left'>file</th><th align='left'>kind</th><th align='left'>version</th>"
        "<th align='left'>licence / terms</th><th align='left'>card</th></tr>"
        f"{models}</table>"
    )


class AboutDialog(QDialog):
    """A window-modal box with the facts as selectable text and a Close button."""

    def __init__(self, html: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.browser = QTextBrowser()
        self.browser.setOpenLinks(False)
        self.browser.setHtml(html)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Include this in a bug report:"))
        layout.addWidget(self.browser)
        layout.addWidget(buttons)
        self.resize(760, 460)

    def text(self) -> str:
        """The plain text shown (what a person can select and copy)."""
        return self.browser.toPlainText()


def show_about(window: QMainWindow) -> AboutDialog:
    """Open the box without blocking the event loop (``open``: window-modal, returns at once)."""
    settings = getattr(window, "settings", None)
    path = settings.fileName() if settings is not None else "not known"
    dialog = AboutDialog(about_html(gather(), path), window)
    dialog.open()
    return dialog


def install_help_menu(window: QMainWindow) -> None:
    """Add Help ▸ About Seed Studio to ``window``'s menu bar (the About role puts it in the
    application menu on macOS)."""
    menu = window.menuBar().addMenu("&Help")
    action = menu.addAction("&About Seed Studio")
    action.setMenuRole(action.MenuRole.AboutRole)
    action.triggered.connect(lambda _checked=False: show_about(window))
