"""The main window: menus, the canvas page, the side panels and the status bar.

Layout seams for later features: the central widget is a QStackedWidget of *pages* (the editor
is page one; a batch page is added with ``add_page``), side panels are docks (``add_panel``, e.g.
a latent-space panel), and canvas tools are registered with ``add_tool`` (e.g. the point-and-click
tool): a button in the Tools panel, a Tools menu entry and a shortcut, before or after the menus.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QActionGroup, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QCheckBox,
    QDockWidget,
    QMainWindow,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)
from superqt import QCollapsible

from desktop_app.ui.about import install_help_menu
from desktop_app.ui.batch.window import BatchWindowMixin
from desktop_app.ui.editor.canvas import ImageCanvas, ViewMode
from desktop_app.ui.editor.click_tool import ClickToolMixin
from desktop_app.ui.editor.controller import EditorController
from desktop_app.ui.editor.file_actions import FileActionsMixin
from desktop_app.ui.editor.panels import VIEW_LABELS, BackgroundPanel, BrushPanel, MaskPanel, ViewPanel
from desktop_app.ui.editor.readouts import StatusReadoutsMixin
from desktop_app.ui.editor.tool_protocol import CanvasTool
from desktop_app.ui.editor.tools import BrushSettings, BrushTool
from desktop_app.ui.editor.unsaved import UnsavedEditsMixin
from desktop_app.ui.latent.window import install_latent_page
from desktop_app.ui.shared.model_chooser import ModelChooser
from desktop_app.ui.shared.settings import make_settings
from desktop_app.ui.window_state import WindowStateMixin


class MainWindow(
    FileActionsMixin,
    UnsavedEditsMixin,
    StatusReadoutsMixin,
    WindowStateMixin,
    BatchWindowMixin,
    ClickToolMixin,
    QMainWindow,
):
    """Seed Studio's editor window."""

    def __init__(self) -> None:
        super().__init__()
        self.setWindowTitle("Seed Studio")
        self.setAcceptDrops(True)
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
        self.tools_menu: QMenu | None = None  # built after the first tools: see add_tool
        self.brush_panel: BrushPanel | None = None
        self.tool_chosen = False  # a person picked a tool (then no automatic switch to Clicks)
        self._tools_dock_shown: bool | None = None
        self._build_status_bar()
        self._build_tools()
        self._build_panels()
        self._build_menus()
        self._wire_click_tool(self.tools_menu)
        self.add_page("editor", "Editor", self.canvas, QKeySequence("Ctrl+Shift+E"))
        self._install_batch_page()
        install_latent_page(self)
        install_help_menu(self)  # last, so Help stays the menu bar's last menu
        self.pages.currentChanged.connect(self._on_page_changed)
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
        """Register a canvas tool: a checkable action in the Tools menu (which is also what
        makes its shortcut work: an action in no widget has no shortcut) and a button in the
        Tools panel. Tools registered before the menu and panel exist are added when they are
        built; later ones are added here."""
        action = QAction(title, self, checkable=True)
        action.setShortcut(QKeySequence(shortcut))
        action.setToolTip(f"{title} ({shortcut})")
        action.setData(key)
        action.triggered.connect(lambda: self.choose_tool(key))
        self.tools[key] = tool
        self.tool_actions.addAction(action)
        if self.tools_menu is not None:
            self.tools_menu.insertAction(self._tools_menu_end, action)
        if self.brush_panel is not None:
            self.brush_panel.add_tool_action(action)
        return action

    # -- construction ------------------------------------------------------------------------
    def _build_tools(self) -> None:
        self.add_tool("pan", "Pan", None, "H")
        self.add_tool("brush", "Brush", BrushTool(self.editor, self.brush_settings), "B")
        self.add_tool("eraser", "Eraser", BrushTool(self.editor, self.brush_settings, erase=True), "E")
        self._build_click_tool()

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
        col.setContentsMargins(6, 4, 6, 4)
        col.setSpacing(2)
        self.sections: dict[str, QCollapsible] = {}
        for title, widget in (
            ("Model", model_box),
            ("Tools", self.brush_panel),
            ("Mask", self.mask_panel),
            ("View", self.view_panel),
            ("Background and export", self.background_panel),
        ):
            section = self.sections[title] = QCollapsible(title)
            # compact: all five sections fit the default 1280x820 window without scrolling
            section.layout().setContentsMargins(0, 0, 0, 4)
            section.layout().setSpacing(0)
            widget.layout().setContentsMargins(8, 2, 2, 2)
            section.addWidget(widget)
            section.expand(animate=False)
            col.addWidget(section)
        col.addStretch(1)
        scroll = QScrollArea()
        scroll.setWidgetResizable(True)
        scroll.setWidget(column)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setMinimumWidth(330)
        self.side_dock = QDockWidget("Editor panel", self)
        self.side_dock.setObjectName("dock-tools")
        self.side_dock.setWidget(scroll)
        self.side_dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, self.side_dock)

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
        quit_action = self._act(file_menu, "&Quit", self.close, "Ctrl+Q")
        # Ctrl+Q everywhere (Cmd+Q on macOS); the platform's own Quit key too where it has one
        keys = [QKeySequence("Ctrl+Q")]
        keys += [k for k in QKeySequence.keyBindings(QKeySequence.StandardKey.Quit) if k not in keys]
        quit_action.setShortcuts(keys)

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

        tools = self.tools_menu = mb.addMenu("&Tools")
        for a in self.tool_actions.actions():
            tools.addAction(a)
        self._tools_menu_end = tools.addSeparator()
        self._act(tools, "Smaller brush", lambda: self.change_brush_size(1 / 1.2), "[")
        self._act(tools, "Larger brush", lambda: self.change_brush_size(1.2), "]")

        model = mb.addMenu("&Model")
        self.remove_action = self._act(model, "&Remove background", self.remove_background, "Ctrl+R")
        self.cancel_action = self._act(model, "&Cancel", self._on_escape, "Esc")
        self.cancel_action.setToolTip("Stop the background removal; with clicks on screen, discard them")
        model.addSeparator()
        self._act(model, "&Add model…", self.add_model_dialog)
        self.window_menu = mb.addMenu("&Window")
        self.window_menu.addAction(self.side_dock.toggleViewAction())

    def _connect(self) -> None:
        ed, cv = self.editor, self.canvas
        ed.photo_changed.connect(self._on_photo_changed)
        ed.mask_reset.connect(lambda: cv.set_mask(ed.mask))
        ed.mask_changed.connect(cv.mask_updated)
        ed.adjust_session_closed.connect(self.mask_panel.reset_neutral)
        ed.removal_finished.connect(self._on_removal_finished)
        self.click_controller.worker.warmed_up.connect(self._offer_clicks)
        ed.status.connect(lambda text: self.statusBar().showMessage(text, 15000))
        ed.error.connect(self.show_error)
        self.remove_button.clicked.connect(self.remove_background)
        self.model_chooser.error.connect(self.show_error)
        self.model_chooser.add_requested.connect(self.add_model_dialog)
        self.brush_panel.radius_changed.connect(self._set_brush_radius)
        self.brush_panel.hardness_changed.connect(lambda h: setattr(self.brush_settings, "hardness", h))
        self.mask_panel.adjustments_changed.connect(ed.request_adjustments)
        self.mask_panel.invert_requested.connect(ed.invert)
        self.mask_panel.fill_holes_requested.connect(ed.fill_holes)
        self.mask_panel.reset_requested.connect(ed.reset_mask)
        self.view_panel.mode_changed.connect(self.set_view_mode)
        self.view_panel.overlay_changed.connect(lambda c, o: cv.set_overlay(c, o))
        self._connect_background()
        self._connect_readouts()

    # -- tools, views, pages -----------------------------------------------------------------
    def set_tool(self, key: str) -> None:
        for a in self.tool_actions.actions():
            a.setChecked(a.data() == key)
        self.canvas.set_tool(self.tools.get(key))
        self._update_accept_action()

    def choose_tool(self, key: str) -> None:
        """A person picked a tool (menu, button or key): from now on it is theirs to change."""
        self.tool_chosen = True
        self.set_tool(key)

    def current_tool(self) -> str:
        checked = self.tool_actions.checkedAction()
        return checked.data() if checked else "pan"

    def _offer_clicks(self) -> None:
        """Pan is the safe first tool; once there is a mask a click most likely means "fix this
        part": switch to Clicks unless the person picked a tool. Also run when the click worker
        has found its model (off the GUI thread), which can be after a removal finished."""
        picked = self.tool_chosen or self.current_tool() != "pan"
        if not picked and self.click_controller.available and self.editor.last_removal is not None:
            self.set_tool("clicks")

    def _on_escape(self) -> None:
        """Esc: stop a running removal, else discard the clicks on screen, else nothing (and no
        message: "Background removal cancelled" when nothing was running would be false)."""
        if not self.editor.cancel_removal():
            self.discard_clicks()

    def _on_page_changed(self, _index: int) -> None:
        """The editor's tool panel means nothing on the other pages (the batch page has its own
        options, the latent page its own controls): hide it there, and bring it back as it was
        on returning to the editor."""
        if self.pages.currentWidget() is not self.canvas:
            if self._tools_dock_shown is None:
                self._tools_dock_shown = not self.side_dock.isHidden()
            self.side_dock.hide()
        elif self._tools_dock_shown is not None:
            self.side_dock.setVisible(self._tools_dock_shown)
            self._tools_dock_shown = None

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
        self._reset_readouts()
        self.setWindowTitle(f"{photo.name} — Seed Studio")
        if self.background_panel.current().value == "blur":
            self._request_background("blur")

    def _on_removal_finished(self, result) -> None:
        if self.canvas.mode == ViewMode.ORIGINAL:
            self.set_view_mode(ViewMode.OVERLAY)
        self._show_removal_readout(result)
        self._offer_clicks()
        if self.background_panel.current().value == "blur":
            self._request_background("blur")

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
        """Quit (Ctrl+Q, the close button): Save / Discard / Cancel first if edits would be lost."""
        if not self.proceed_if_saved("quitting", lambda: None, later=self.close):
            event.ignore()
            return
        self._save_settings()
        self.editor.shutdown()
        self.click_controller.shutdown()
        self.model_chooser.shutdown()
        self.shutdown_file_workers()
        self.shutdown_batch()
        self.latent_panel.shutdown()
        super().closeEvent(event)
