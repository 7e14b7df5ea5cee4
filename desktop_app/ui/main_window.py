"""The main window: menus, the canvas page, the side panels and the status bar.

Layout seams for later features: the central widget is a QStackedWidget of *pages* (the editor
is page one; a batch page is added with ``add_page``), side panels are docks (``add_panel``,
e.g. a latent-space panel), and canvas tools are registered with ``add_tool`` (e.g. a
point-and-click tool), which gives them a toolbar button, a menu entry and a shortcut.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QHBoxLayout,
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible

from desktop_app.ui.batch.window import BatchWindowMixin
from desktop_app.ui.editor.canvas import ImageCanvas, ViewMode
from desktop_app.ui.editor.click_tool import ClickToolMixin
from desktop_app.ui.editor.controller import EditorController
from desktop_app.ui.editor.file_actions import FileActionsMixin
from desktop_app.ui.editor.panels import VIEW_LABELS, BackgroundPanel, BrushPanel, MaskPanel, ViewPanel
from desktop_app.ui.editor.tool_protocol import CanvasTool
from desktop_app.ui.editor.tools import BrushSettings, BrushTool
from desktop_app.ui.latent.window import install_latent_page
from desktop_app.ui.shared.model_chooser import ModelChooser
from desktop_app.ui.shared.settings import make_settings
from desktop_app.ui.window_state import WindowStateMixin


class MainWindow(FileActionsMixin, WindowStateMixin, BatchWindowMixin, ClickToolMixin, QMainWindow):
    """Seed Studio's editor window."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Seed Studio")
        self.setAcceptDrops(True)
        self._busy_jobs: dict[str, tuple[str, object]] = {}
        self.errors: list[tuple[str, str]] = []  # every error shown, newest last (for tests)
        self._message_boxes: list[QMessageBox] = []
        self.settings = make_settings()
        self.editor = EditorController(self)
        self.canvas = ImageCanvas()
        self.pages = QStackedWidget()
        self.page_actions = QActionGroup(self)
        self.brush_settings = BrushSettings()
        self.tools: dict[str, CanvasTool | None] = {}
        self.tool_actions = QActionGroup(self)
        self._build_status_bar()
        self._build_tools()
        self._build_panels()
        self._build_menus()
        self._install_click_tool()
        self.add_page("editor", "Editor", self.canvas, QKeySequence("Ctrl+Shift+E"))
        self._install_batch_page()
        install_latent_page(self)
        self.setCentralWidget(self.pages)
        self._connect()
        self._restore_settings()
        if not self.settings.value("window/geometry"):
            self.resize(1280, 820)

    # -- seams -------------------------------------------------------------------------------
    def add_page(self, key: str, title: str, widget: QWidget, shortcut: QKeySequence | None = None) -> QAction:
        """Add a full-window page (the editor, later the batch queue) with a View-menu entry."""
        self.pages.addWidget(widget)
        action = QAction(title, self, checkable=True)
        if shortcut is not None:
            action.setShortcut(shortcut)
        action.setData(key)
        action.triggered.connect(lambda: self.pages.setCurrentWidget(widget))
        self.page_actions.addAction(action)
        self.pages_menu.addAction(action)
        if self.pages.count() == 1:
            action.setChecked(True)
        return action

    def add_panel(self, title: str, widget: QWidget, area=Qt.DockWidgetArea.RightDockWidgetArea) -> QDockWidget:
        """Add a dockable side panel (e.g. the latent panel) listed in the Window menu."""
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock-{title}")
        dock.setWidget(widget)
        self.addDockWidget(area, dock)
        self.window_menu.addAction(dock.toggleViewAction())
        return dock

    def add_tool(self, key: str, title: str, tool: CanvasTool | None, shortcut: str) -> QAction:
        """Register a canvas tool with a checkable action in the Tools menu."""
        action = QAction(title, self, checkable=True)
        action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{title} ({shortcut})")
        action.setData(key)
        action.triggered.connect(lambda: self.set_tool(key))
        self.tools[key] = tool
        self.tool_actions.addAction(action)
        return action

    # -- construction ------------------------------------------------------------------------
    def _build_tools(self) -> None:
        self.add_tool("pan", "Pan", None, "H")
        self.add_tool("brush", "Brush", BrushTool(self.editor, self.brush_settings), "B")
        self.add_tool("eraser", "Eraser", BrushTool(self.editor, self.brush_settings, erase=True), "E")

    def _build_panels(self) -> None:
        self.model_chooser = ModelChooser()
        self.remove_button = QPushButton("Remove background")
        self.remove_button.setDefault(True)
        self.second_pass = QCheckBox("Second pass (click model)")
        self.second_pass.setToolTip("Re-predict the subject with the click model: better edges, fewer holes, ~2x time")
        model_box = QWidget()
        mlay = QVBoxLayout(model_box)
        mlay.setContentsMargins(0, 0, 0, 0)
        mlay.addWidget(self.model_chooser)
        mlay.addWidget(self.second_pass)
        mlay.addWidget(self.remove_button)
        self.brush_panel = BrushPanel(self.tool_actions.actions())
        self.mask_panel = MaskPanel()
        self.view_panel = ViewPanel(self.canvas.overlay_color, self.canvas.overlay_opacity)
        self.background_panel = BackgroundPanel()
        column = QWidget()
        col = QVBoxLayout(column)
        for title, widget in (
            ("Model", model_box),
            ("Brush", self.brush_panel),
            ("Mask", self.mask_panel),
            ("View", self.view_panel),
            ("Background and export", self.background_panel),
        ):
            section = QCollapsible(title)
            section.addWidget(widget)
            section.expand(animate=False)
            col.addWidget(section)
        col.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(column)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(330)
        self.side_dock = QDockWidget("Tools", self)
        self.side_dock.setObjectName("dock-tools")
        self.side_dock.setWidget(scroll)
        self.side_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.side_dock)

    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.busy_box = QWidget()
        lay = QHBoxLayout(self.busy_box)
        lay.setContentsMargins(0, 0, 0, 0)
        self.busy_label = QLabel("")
        self.busy_bar = QProgressBar()
        self.busy_bar.setRange(0, 0)  # indeterminate
        self.busy_bar.setFixedWidth(120)
        self.cancel_button = QPushButton("Cancel")
        lay.addWidget(self.busy_label)
        lay.addWidget(self.busy_bar)
        lay.addWidget(self.cancel_button)
        self.busy_box.hide()
        bar.addWidget(self.busy_box)
        self.model_label = QLabel("")
        self.zoom_label = QLabel("")
        self.pos_label = QLabel("")
        for w in (self.pos_label, self.model_label, self.zoom_label):
            bar.addPermanentWidget(w)

    def _act(self, menu, text: str, slot, shortcut: QKeySequence | str | None = None) -> QAction:
        action = menu.addAction(text)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.triggered.connect(lambda _checked=False: slot())
        return action

    def _build_menus(self) -> None:
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        self._act(file_menu, "&Open…", self.open_dialog, QKeySequence.StandardKey.Open)
        self.recent_menu = file_menu.addMenu("Open &Recent")
        self._act(file_menu, "&Paste image", self.paste_image, QKeySequence.StandardKey.Paste)
        self._act(file_menu, "&Batch remove…", self.show_batch)
        file_menu.addSeparator()
        self.export_action = self._act(file_menu, "&Export cut-out…", lambda: self.export_dialog("cutout"), "Ctrl+S")
        self.export_as_action = self._act(
            file_menu,
            "Save cut-out &As…",
            lambda: self.export_dialog("cutout"),
            QKeySequence.StandardKey.SaveAs,
        )
        self.export_mask_action = self._act(file_menu, "Export &mask…", lambda: self.export_dialog("mask"), "Ctrl+M")
        file_menu.addSeparator()
        self._act(file_menu, "&Quit", self.close, QKeySequence.StandardKey.Quit)

        edit = mb.addMenu("&Edit")
        self.undo_action = self._act(edit, "&Undo", self.editor.undo, QKeySequence.StandardKey.Undo)
        self.redo_action = self._act(edit, "&Redo", self.editor.redo, "Ctrl+Shift+Z")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        edit.addSeparator()
        self._act(edit, "&Invert mask", self.editor.invert, "Ctrl+I")
        self._act(edit, "&Fill holes", self.editor.fill_holes)
        self._act(edit, "Reset to &model mask", self.editor.reset_mask)

        view = mb.addMenu("&View")
        zoom_in = self._act(view, "Zoom &in", lambda: self.canvas.zoom_by(1.25, self.canvas.zoom_anchor()), "Ctrl+=")
        zoom_in.setShortcuts([QKeySequence("Ctrl+="), QKeySequence("Ctrl++")])
        self._act(view, "Zoom &out", lambda: self.canvas.zoom_by(0.8, self.canvas.zoom_anchor()), "Ctrl+-")
        self._act(view, "&Fit", self.canvas.fit, "Ctrl+0")
        self._act(view, "&100 %", lambda: self.canvas.zoom_to(1.0, self.canvas.zoom_anchor()), "Ctrl+1")
        view.addSeparator()
        self.view_actions = QActionGroup(self)
        for i, (mode, label) in enumerate(VIEW_LABELS.items(), start=1):
            a = self._act(view, label, lambda m=mode: self.set_view_mode(m), f"Alt+{i}")
            a.setCheckable(True)
            a.setData(mode.value)
            self.view_actions.addAction(a)
        view.addSeparator()
        self.pages_menu = view.addMenu("&Pages")

        tools = mb.addMenu("&Tools")
        for a in self.tool_actions.actions():
            tools.addAction(a)
        tools.addSeparator()
        self._act(tools, "Smaller brush", lambda: self.change_brush_size(1 / 1.2), "[")
        self._act(tools, "Larger brush", lambda: self.change_brush_size(1.2), "]")

        model = mb.addMenu("&Model")
        self.remove_action = self._act(model, "&Remove background", self.remove_background, "Ctrl+R")
        self.cancel_action = self._act(model, "&Cancel", self.editor.cancel_removal, "Esc")
        model.addSeparator()
        self._act(model, "&Add model…", self.add_model_dialog)
        self.window_menu = mb.addMenu("&Window")
        self.window_menu.addAction(self.side_dock.toggleViewAction())

    def _connect(self) -> None:
        ed, cv = self.editor, self.canvas
        ed.photo_changed.connect(self._on_photo_changed)
        ed.mask_reset.connect(lambda: cv.set_mask(ed.mask))
        ed.mask_changed.connect(cv.mask_updated)
        ed.history_changed.connect(self._update_history_actions)
        ed.adjust_session_closed.connect(self.mask_panel.reset_neutral)
        ed.removal_finished.connect(self._on_removal_finished)
        ed.status.connect(lambda text: self.statusBar().showMessage(text, 15000))
        ed.error.connect(self.show_error)
        ed.remover.busy_changed.connect(self._on_remove_busy)
        ed.loader.busy_changed.connect(lambda b: self.set_busy("open", b, "Opening…", ed.loader.cancel))
        ed.adjuster.busy_changed.connect(lambda b: self.set_busy("adjust", b, "Adjusting mask…"))
        self.cancel_button.clicked.connect(self._cancel_busy)
        self.remove_button.clicked.connect(self.remove_background)
        self.model_chooser.error.connect(self.show_error)
        self.model_chooser.add_requested.connect(self.add_model_dialog)
        self.model_chooser.model_changed.connect(lambda _p: self._update_model_label())
        self.brush_panel.radius_changed.connect(self._set_brush_radius)
        self.brush_panel.hardness_changed.connect(lambda h: setattr(self.brush_settings, "hardness", h))
        self.mask_panel.adjustments_changed.connect(ed.request_adjustments)
        self.mask_panel.invert_requested.connect(ed.invert)
        self.mask_panel.fill_holes_requested.connect(ed.fill_holes)
        self.mask_panel.reset_requested.connect(ed.reset_mask)
        self.view_panel.mode_changed.connect(self.set_view_mode)
        self.view_panel.overlay_changed.connect(lambda c, o: cv.set_overlay(c, o))
        self._connect_background()
        cv.view_changed.connect(lambda: self.zoom_label.setText(f"{cv.scale * 100:.0f} %"))
        cv.pointer_moved.connect(self._on_pointer)
        self._update_history_actions()
        self._update_model_label()

    # -- tools, views, status ----------------------------------------------------------------
    def set_tool(self, key: str) -> None:
        for a in self.tool_actions.actions():
            a.setChecked(a.data() == key)
        self.canvas.set_tool(self.tools.get(key))

    def set_view_mode(self, mode: ViewMode | str) -> None:
        mode = ViewMode(mode)
        self.canvas.set_view_mode(mode)
        self.view_panel.set_mode(mode)
        for a in self.view_actions.actions():
            a.setChecked(a.data() == mode.value)

    def change_brush_size(self, factor: float) -> None:
        self.brush_settings.grow(factor)
        self.brush_panel.set_radius(self.brush_settings.radius)
        self.canvas.refresh_tool_overlay()

    def _set_brush_radius(self, radius: float) -> None:
        self.brush_settings.radius = radius
        self.canvas.refresh_tool_overlay()

    def _on_photo_changed(self) -> None:
        photo = self.editor.photo
        assert photo is not None
        self.canvas.set_photo(photo.pyramid)
        self.mask_panel.reset_neutral()
        self.setWindowTitle(f"{photo.name} — Seed Studio")
        if self.background_panel.current().value == "blur":
            self._request_background("blur")

    def _on_removal_finished(self, result) -> None:
        if self.canvas.mode == ViewMode.ORIGINAL:
            self.set_view_mode(ViewMode.OVERLAY)
        self.model_label.setText(f"{result.model_name} · {result.provider} · {result.seconds:.2f} s")
        if self.background_panel.current().value == "blur":
            self._request_background("blur")

    def set_busy(self, key: str, busy: bool, label: str = "", cancel=None) -> None:
        """Show or hide the status-bar busy indicator for one kind of job; Cancel stops all."""
        if busy:
            self._busy_jobs[key] = (label, cancel)
        else:
            self._busy_jobs.pop(key, None)
        self.busy_box.setVisible(bool(self._busy_jobs))
        if self._busy_jobs:
            self.busy_label.setText(" · ".join(text for text, _c in self._busy_jobs.values()))
            self.cancel_button.setEnabled(any(c is not None for _t, c in self._busy_jobs.values()))

    def _cancel_busy(self) -> None:
        for _label, cancel in list(self._busy_jobs.values()):
            if cancel is not None:
                cancel()

    def _on_remove_busy(self, busy: bool) -> None:
        self.set_busy("remove", busy, "Removing background…", self.editor.cancel_removal)
        self.remove_action.setEnabled(not busy)
        self.remove_button.setEnabled(not busy)

    def _update_history_actions(self) -> None:
        doc = self.editor.doc
        can_undo = doc is not None and doc.history.can_undo
        can_redo = doc is not None and doc.history.can_redo
        self.undo_action.setEnabled(can_undo)
        self.redo_action.setEnabled(can_redo)
        self.undo_action.setText(f"&Undo {doc.history.undo_label}" if can_undo else "&Undo")
        self.redo_action.setText(f"&Redo {doc.history.redo_label}" if can_redo else "&Redo")

    def _update_model_label(self) -> None:
        entry = self.model_chooser.current_entry()
        self.model_label.setText(f"Model: {entry.spec.name}" if entry else "No model")

    def _on_pointer(self, x: float, y: float) -> None:
        size = self.canvas.image_size()
        if 0 <= x < size.width() and 0 <= y < size.height():
            mask = self.editor.mask
            extra = f"  mask {int(mask[int(y), int(x)])}" if mask is not None else ""
            self.pos_label.setText(f"{int(x)}, {int(y)}{extra}")
        else:
            self.pos_label.setText("")

    def remove_background(self) -> int | None:
        path = self.model_chooser.current_path()
        if path is None:
            self.show_error("No model", "No segmentation model is available. Use Model ▸ Add model… to choose one.")
            return None
        return self.editor.remove_background(path, second_pass=self.second_pass.isChecked())

    # -- messages ----------------------------------------------------------------------------
    def show_error(self, title: str, message: str) -> None:
        """Report an error without blocking: a non-modal box (tests read ``self.errors``)."""
        self.errors.append((title, message))
        self.statusBar().showMessage(f"{title}: {message}", 20000)
        box = QMessageBox(QMessageBox.Icon.Warning, title, message, QMessageBox.StandardButton.Ok, self)
        box.setWindowModality(Qt.WindowModality.NonModal)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r, b=box: self._message_boxes.remove(b) if b in self._message_boxes else None)
        self._message_boxes.append(box)
        box.show()

    def confirm(self, title: str, question: str) -> bool:
        """Ask a yes/no question (modal; tests monkeypatch this)."""
        answer = QMessageBox.question(
            self,
            title,
            question,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, event: QCloseEvent) -> None:
        self._save_settings()
        self.editor.shutdown()
        self.click_controller.shutdown()
        self.model_chooser.shutdown()
        self.shutdown_file_workers()
        self.shutdown_batch()
        self.latent_panel.shutdown()
        super().closeEvent(event)
