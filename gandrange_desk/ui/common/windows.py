"""Windows that fit a town-hall screen and remember how the clerk left them.

The usual screen is 1366×768: with the taskbar and the title bar, a maximised window gets about
1366×697 pixels. Every top-level window and dialog asks for a size (`fit`) that is cut down to
that and to the screen it opens on, so its buttons never fall under the taskbar; whatever is
taller scrolls inside (`scrolling`).

`remember(window, key)` keeps the window's size (and maximised state), and the state of the
splitters and table headers inside it that were named with `keep(widget, key)`, in the user's
settings (QSettings; `GANDRANGE_DESK_UI_STATE` names another file, as the tests do). The main
window opens maximised the first time.
"""

from __future__ import annotations

import os

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QSize, Qt, QTimer
from PySide6.QtWidgets import (
    QAbstractItemView, QApplication, QFrame, QHeaderView, QScrollArea, QSplitter, QTreeView, QWidget,
)

# The client area of a maximised window on a 1366×768 screen (taskbar ≈ 40 px, title ≈ 31 px).
MAX_SIZE = QSize(1366, 697)
# A window that is not maximised keeps this much room for its frame and title bar.
FRAME = QSize(16, 71)
STATE_ENV = "GANDRANGE_DESK_UI_STATE"


def store() -> QSettings:
    path = os.environ.get(STATE_ENV)
    if path:
        return QSettings(path, QSettings.IniFormat)
    return QSettings("Commune de Gandrange", "Gandrange Desk")


def available_size(widget: QWidget | None = None) -> QSize:
    """The room a window has: the screen's, less the frame, never more than `MAX_SIZE`."""
    screen = (widget.screen() if widget is not None else None) or QApplication.primaryScreen()
    if screen is None:
        return QSize(MAX_SIZE)
    room = screen.availableGeometry().size() - FRAME
    return room.boundedTo(MAX_SIZE)


def fit(window: QWidget, width: int, height: int) -> QSize:
    """Resize `window` to the size it asks for, cut down to the room it has."""
    size = QSize(width, height).boundedTo(available_size(window))
    window.resize(size)
    return size


def scrolling(content: QWidget) -> QScrollArea:
    """`content` in a frameless scroll area: a long form scrolls instead of growing the window."""
    area = QScrollArea()
    area.setWidget(content)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarAsNeeded)
    return area


def no_tab_trap(view: QAbstractItemView) -> QAbstractItemView:
    """Tab leaves a table for the next field (arrows move inside it), as in a form."""
    view.setTabKeyNavigation(False)
    return view


# --- remembering -------------------------------------------------------------------------------

def _save_later(widget: QObject, key: str, state) -> None:
    """Write a splitter's or header's state shortly after the clerk stops dragging."""
    timer = getattr(widget, "_state_timer", None)
    if timer is None:
        timer = QTimer(widget)
        timer.setSingleShot(True)
        timer.setInterval(400)
        timer.timeout.connect(lambda: store().setValue(key, state()))
        widget._state_timer = timer
    timer.start()


def keep(widget: QWidget, key: str) -> QWidget:
    """Remember a splitter's sizes or a table's / tree's column widths under `key`."""
    settings = store()
    if isinstance(widget, QSplitter):
        name = f"splitter/{key}"
        saved = settings.value(name)
        if isinstance(saved, QByteArray):
            widget.restoreState(saved)
        widget.splitterMoved.connect(lambda *_: _save_later(widget, name, widget.saveState))
        return widget
    header: QHeaderView = widget.header() if isinstance(widget, QTreeView) else widget.horizontalHeader()
    name = f"columns/{key}"
    saved = settings.value(name)
    if isinstance(saved, QByteArray):
        header.restoreState(saved)
    header.sectionResized.connect(lambda *_: _save_later(header, name, header.saveState))
    return widget


class _Geometry(QObject):
    """Restores a window's saved geometry when it is first shown, saves it when it hides."""

    def __init__(self, window: QWidget, key: str, maximise_first: bool):
        super().__init__(window)
        self.window, self.key, self.maximise_first = window, f"window/{key}", maximise_first
        self.restored = False
        window.installEventFilter(self)

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if obj is self.window:
            if event.type() == QEvent.Show and not self.restored:
                self.restored = True
                self.restore()
            elif event.type() in (QEvent.Hide, QEvent.Close) and self.restored:
                store().setValue(self.key, self.window.saveGeometry())
        return False

    def restore(self) -> None:
        saved = store().value(self.key)
        if isinstance(saved, QByteArray) and self.window.restoreGeometry(saved):
            # A geometry saved on a bigger screen is cut down to this one.
            if not self.window.isMaximized():
                self.window.resize(self.window.size().boundedTo(available_size(self.window)))
            return
        if self.maximise_first:
            self.window.setWindowState(self.window.windowState() | Qt.WindowMaximized)


def remember(window: QWidget, key: str, size: tuple[int, int] | None = None, *,
             maximise_first: bool = False) -> QWidget:
    """Fit `window` to `size` now, then keep the size the clerk gives it (see the module)."""
    if size is not None:
        fit(window, *size)
    _Geometry(window, key, maximise_first)
    return window


__all__ = ["MAX_SIZE", "available_size", "fit", "keep", "no_tab_trap", "remember", "scrolling", "store"]
