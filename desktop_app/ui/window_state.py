"""Saving and restoring the window's state in QSettings (geometry, view, overlay, brush).

The tool is not restored: every session starts in Pan (see ``_restore_settings``).

A mixin for MainWindow, so main_window.py stays about layout and wiring.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray
from PySide6.QtGui import QColor

from desktop_app.ui.editor.canvas import ViewMode


class WindowStateMixin:
    """``_restore_settings`` at start-up, ``_save_settings`` on close."""

    def _restore_settings(self) -> None:
        s = self.settings
        geometry = s.value("window/geometry")
        if isinstance(geometry, QByteArray):
            self.restoreGeometry(geometry)
        self.set_view_mode(s.value("view/mode", ViewMode.OVERLAY.value, str))
        color = QColor(s.value("view/overlay_color", self.canvas.overlay_color.name(), str))
        opacity = float(s.value("view/overlay_opacity", self.canvas.overlay_opacity))
        self.canvas.set_overlay(color, opacity)
        self.view_panel.color.set_color(color)
        self.view_panel.opacity.setValue(round(opacity * 100))
        self.brush_settings.radius = float(s.value("brush/radius", self.brush_settings.radius))
        self.brush_settings.hardness = float(s.value("brush/hardness", self.brush_settings.hardness))
        self.brush_panel.set_radius(self.brush_settings.radius)
        self.brush_panel.hardness.setValue(round(self.brush_settings.hardness * 100))
        self.keep_local_action.setChecked(s.value("clicks/keep_local", True, bool))  # Tools > Keep clicks local
        # Always start in Pan: a tool restored from last time would turn the first click on a
        # new photo into a brush dab (or a selection). Removing the background switches to Clicks.
        self.set_tool("pan")
        self.refresh_recent_menu()

    def _save_settings(self) -> None:
        s = self.settings
        s.setValue("window/geometry", self.saveGeometry())
        s.setValue("view/mode", self.canvas.mode.value)
        s.setValue("view/overlay_color", self.canvas.overlay_color.name())
        s.setValue("view/overlay_opacity", self.canvas.overlay_opacity)
        s.setValue("clicks/keep_local", self.click_controller.keep_local)
        s.setValue("brush/radius", self.brush_settings.radius)
        s.setValue("brush/hardness", self.brush_settings.hardness)
        s.sync()
