"""The main window's actions, menus, tool bar, status bar and docks (built once, at start).

:class:`WindowActions` is mixed into :class:`~fashionseg_gui.views.main_window.MainWindow`;
the window keeps the built actions in an :class:`_Actions` bundle (``window.actions_``) and
its docks in a :class:`_Docks` bundle (``window.docks``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDockWidget,
    QLabel,
    QPushButton,
    QToolBar,
    QWidget,
)

from fashionseg_gui.views.elided_label import ElidedLabel
from fashionseg_gui.views.icons import icon
from fashionseg_gui.views.jobs_bar import JobsBar
from fashionseg_gui.workers.importer import EXPORT_FORMATS


@dataclass
class _Actions:
    new_project: QAction
    open_project: QAction
    save: QAction
    import_images: QAction
    import_folder: QAction
    import_via: QAction
    import_masks: QAction
    quit: QAction
    next_image: QAction
    prev_image: QAction
    shortcuts_help: QAction
    about: QAction
    class_keys: list[QAction]


@dataclass
class _Docks:
    browser: QDockWidget
    classes: QDockWidget
    train: QDockWidget


class WindowActions:
    """Builds the window's actions, menus, tool bars, status bar and docks (a mixin
    of the main window, whose slots the actions call)."""

    def _dock(self, title: str, name: str, widget: QWidget, area: Qt.DockWidgetArea) -> QDockWidget:
        dock = QDockWidget(title, self)
        dock.setObjectName(f"dock_{name}")
        dock.setWidget(widget)
        dock.setFeatures(
            QDockWidget.DockWidgetFeature.DockWidgetMovable
            | QDockWidget.DockWidgetFeature.DockWidgetFloatable
            | QDockWidget.DockWidgetFeature.DockWidgetClosable
        )
        self.addDockWidget(area, dock)
        return dock

    def _action(
        self,
        text: str,
        slot: Callable[[], Any],
        shortcut: Any = None,
        tip: str = "",
        icon_name: str | None = None,
    ) -> QAction:
        act = QAction(text, self)
        if shortcut is not None:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            act.setShortcuts([QKeySequence(s) for s in shortcuts])
            keys = " or ".join(
                QKeySequence(s).toString(QKeySequence.SequenceFormat.NativeText) for s in shortcuts
            )
            tip = f"{tip or text.rstrip('…')} ({keys})"
        if tip:
            act.setToolTip(tip)
            act.setStatusTip(tip)
        if icon_name:
            act.setIcon(icon(icon_name, self))
        act.triggered.connect(lambda _checked=False: slot())
        self.addAction(act)  # shortcuts work wherever the focus is in the window
        return act

    def _make_actions(self) -> _Actions:
        class_keys = []
        for k in range(10):
            act = QAction(f"Class {k}", self)
            act.setShortcut(QKeySequence(str(k)))
            act.triggered.connect(lambda _checked=False, k=k: self.select_class(k))
            act.setProperty("help_group", "Classes")
            self.addAction(act)
            class_keys.append(act)
        return _Actions(
            new_project=self._action(
                "&New project…",
                self.new_project_dialog,
                QKeySequence.StandardKey.New,
                icon_name="new",
            ),
            open_project=self._action(
                "&Open project…",
                self.open_project_dialog,
                QKeySequence.StandardKey.Open,
                icon_name="open",
            ),
            save=self._action(
                "&Save",
                self.save_now,
                None,  # the editor's save_action owns Ctrl+S
                "Save the current mask now (Ctrl+S)",
                "save",
            ),
            import_images=self._action(
                "Import &images…",
                self.import_images_dialog,
                "Ctrl+I",
                "Import photos into the project",
                "import",
            ),
            import_folder=self._action(
                "Import &folder…",
                self.import_folder_dialog,
                "Ctrl+Shift+I",
                "Import every photo of a folder",
            ),
            import_via=self._action(
                "Import &VIA annotations…",
                self.import_via_dialog,
                None,
                "Import a VIA JSON or CSV file",
            ),
            import_masks=self._action(
                "Import &mask folder…",
                self.import_masks_dialog,
                None,
                "Import label masks with a value-to-class mapping",
            ),
            quit=self._action("&Quit", self.close, QKeySequence.StandardKey.Quit, icon_name="quit"),
            next_image=self._action(
                "&Next image", self.next_image, ["PgDown", "D"], "Next image", "next"
            ),
            prev_image=self._action(
                "&Previous image", self.previous_image, ["PgUp", "A"], "Previous image", "prev"
            ),
            shortcuts_help=self._action(
                "&Keyboard shortcuts…",
                self.show_shortcuts,
                QKeySequence.StandardKey.HelpContents,
                "List every keyboard shortcut",
            ),
            about=self._action(
                "&About FashionSeg Studio",
                self.show_about,
                None,
                "Version and a word about the app",
            ),
            class_keys=class_keys,
        )

    def _make_menus_and_toolbars(self) -> None:
        a = self.actions_
        mb = self.menuBar()
        file_menu = mb.addMenu("&File")
        file_menu.addActions([a.new_project, a.open_project])
        self.recent_menu = file_menu.addMenu("Open &recent")
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addAction(a.save)
        file_menu.addSeparator()
        file_menu.addActions([a.import_images, a.import_folder, a.import_via, a.import_masks])
        self.export_menu = file_menu.addMenu(icon("export", self), "&Export")
        self.export_actions: dict[str, QAction] = {}
        for key, (text, _single) in EXPORT_FORMATS.items():
            act = self.export_menu.addAction(text)
            act.triggered.connect(lambda _checked=False, key=key: self.export_dialog(key))
            self.export_actions[key] = act
        file_menu.addSeparator()
        file_menu.addAction(a.quit)

        self.editor.save_action.setProperty("help_group", "File")  # File ▸ Save's key
        edit_menu = mb.addMenu("&Edit")
        edit_menu.addActions([self.editor.undo_action, self.editor.redo_action])
        tools = list(self.editor.tool_actions())
        if tools:
            edit_menu.addSeparator()
            edit_menu.addActions(tools)
        edit_menu.addSeparator()
        edit_menu.addAction(self.browser.remove_action)
        self.trash_menu_action = edit_menu.addAction(icon("remove", self), "&Trash…")
        self.trash_menu_action.setToolTip(
            "Photos removed from the project: restore them or empty the trash"
        )
        self.trash_menu_action.triggered.connect(lambda _checked=False: self.show_trash())

        view_menu = mb.addMenu("&View")
        view_menu.addActions([a.prev_image, a.next_image])
        view_actions = [
            act for act in self.editor.view_actions() if act is not self.editor.save_action
        ]
        if view_actions:
            view_menu.addSeparator()
            view_menu.addActions(view_actions)
        view_menu.addSeparator()
        for dock in (self.docks.browser, self.docks.classes, self.docks.train):
            view_menu.addAction(dock.toggleViewAction())

        from fashionseg_gui.views.queue_menu import QueueMenu

        #: The Queue menu: the browser sorted by the label-next queue or the label errors.
        self.queue = QueueMenu(self)
        mb.addMenu(self.queue.menu)
        help_menu = mb.addMenu("&Help")
        help_menu.addActions([a.shortcuts_help, a.about])

        main_bar = QToolBar("Main", self)
        main_bar.setObjectName("toolbar_main")
        main_bar.setMovable(False)
        main_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        main_bar.addActions([a.open_project, a.save, a.import_images])
        main_bar.addSeparator()
        main_bar.addActions([a.prev_image, a.next_image])
        self.addToolBar(Qt.ToolBarArea.TopToolBarArea, main_bar)
        # The editing tools sit in the editor's own tool bar, above the canvas.

    def _make_status_bar(self) -> None:
        sb = self.statusBar()
        self.cursor_label = ElidedLabel("", self)  # long texts are cut, never widen the bar
        self.position_label = QLabel(self)
        self.class_label = QLabel(self)
        self.save_label = QLabel(self)
        #: Every job of the app (import, export, training, prediction...), each cancellable.
        self.jobs_bar = JobsBar(self.jobs, self)
        self.progress = self.jobs_bar.progress
        self.cancel_button = self.jobs_bar.cancel_button
        self.retry_button = QPushButton("Retry save", self)
        self.retry_button.setToolTip("Try to save the current mask again")
        self.retry_button.hide()
        self.retry_button.clicked.connect(self.save_now)
        sb.addWidget(self.cursor_label, 1)
        for w in (
            self.jobs_bar,
            self.retry_button,
            self.class_label,
            self.position_label,
            self.save_label,
        ):
            sb.addPermanentWidget(w)
