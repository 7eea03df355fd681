"""How views follow each other's operations: the "what changed" broadcast.

Every operation run through `ui.common.ops` ends here with its `Changes`: `publish` hands them to
the main window, which tells every tab and every open family file (`apply_changes(changes,
origin)`). A view that shows something that changed refreshes at once when it is on screen, or
marks itself stale and catches up when it is next shown — `Follow` does that bookkeeping.

A view used alone (a test, a dialog opened without the window) gets the changes of the
operations made inside it the same way, so it behaves as it does in the window.
"""

from __future__ import annotations

from typing import Callable, Iterable

from PySide6.QtCore import QEvent, QObject
from PySide6.QtWidgets import QApplication, QWidget

from gandrange_desk.services.changes import Changes


def publish(origin: QWidget, changes: Changes) -> None:
    """Send an operation's changes to the window that `origin` belongs to."""
    outer = None
    widget = origin
    while widget is not None:
        if hasattr(widget, "publish_changes"):  # the main window
            widget.publish_changes(changes, origin)
            return
        if hasattr(widget, "apply_changes"):
            outer = widget
        widget = widget.parentWidget()
    if outer is not None:
        broadcast(outer, [outer], changes, origin)


def broadcast(root: QWidget, views: Iterable[QWidget], changes: Changes, origin: QWidget | None) -> None:
    """Tell `views`, then every open top-level window above which `root` sits (a family file
    opened from a tab), what changed."""
    told = []
    for view in views:
        view.apply_changes(changes, origin)
        told.append(view)
    for top in QApplication.topLevelWidgets():
        if top is root or top in told or not top.isVisible() or not hasattr(top, "apply_changes"):
            continue
        if inside(top, root):
            top.apply_changes(changes, origin)


def inside(widget: QWidget | None, ancestor: QWidget) -> bool:
    """Whether `widget` is `ancestor` or lies inside it (a view's own operation, a dialog of a tab)."""
    while widget is not None:
        if widget is ancestor:
            return True
        widget = widget.parentWidget()
    return False


def on_screen(view: QWidget) -> bool:
    """Whether the clerk sees the view now: its tab is the current one and its window is shown.
    A window not shown yet (start-up, tests) counts as shown, except for its hidden tabs."""
    window = view.window()
    if window.isVisible():
        return view.isVisible()
    return view is window or view.isVisibleTo(window)


class Follow(QObject):
    """Refresh a view for the topics it shows: now when it is on screen, else when next shown.

        self.follow = Follow(self, ("requests", "cells"), self._changed)
        def apply_changes(self, changes, origin=None): self.follow(changes)

    `update(changes)` receives the changes (merged while the view was hidden).
    """

    def __init__(self, view: QWidget, topics: Iterable[str], update: Callable[[Changes], None]):
        super().__init__(view)
        self.view = view
        self.topics = tuple(topics)
        self.update = update
        self.pending: Changes | None = None
        view.installEventFilter(self)

    @property
    def stale(self) -> bool:
        return self.pending is not None

    def __call__(self, changes: Changes) -> None:
        if not changes.touches(*self.topics):
            return
        if on_screen(self.view):
            self.update(changes)
        else:
            self.pending = Changes().merge(self.pending).merge(changes)

    def catch_up(self) -> None:
        """Apply what changed while the view was hidden (it has just been shown)."""
        if self.pending is not None:
            pending, self.pending = self.pending, None
            self.update(pending)

    def forget(self) -> None:
        """The view has just reloaded everything (F5): nothing is left to catch up."""
        self.pending = None

    def eventFilter(self, obj, event) -> bool:  # noqa: N802 - Qt API
        if obj is self.view and event.type() == QEvent.Show:
            self.catch_up()
        return False


__all__ = ["Follow", "broadcast", "inside", "on_screen", "publish"]
