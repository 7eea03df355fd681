"""Small building blocks of the family file: forms whose fields show their error beside them,
and the table view of its short lists (history, quotients, documents: `ColumnsTableModel`)."""

from __future__ import annotations

from typing import Any, Callable, Sequence

from PySide6.QtCore import QAbstractItemModel, Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QTableView,
    QVBoxLayout,
    QWidget,
)

ERROR_STYLE = "color: #b00020; font-size: 11px;"
ERROR_BORDER = "border: 1px solid #b00020;"


class Form(QFormLayout):
    """A form layout where each field has an error line under it, hidden until needed."""

    changed = None  # set by owners that track dirtiness

    def __init__(self, parent: QWidget | None = None):
        super().__init__(parent)
        self.setFieldGrowthPolicy(QFormLayout.AllNonFixedFieldsGrow)
        self.setLabelAlignment(Qt.AlignRight | Qt.AlignTop)
        self.editors: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}

    def add(self, key: str, label: str, editor: QWidget) -> QWidget:
        box = QWidget()
        # Rows keep their natural height: extra space goes below the form, not inside a row.
        box.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)
        lay = QVBoxLayout(box)
        lay.setContentsMargins(0, 0, 0, 0)
        lay.setSpacing(1)
        lay.addWidget(editor)
        err = QLabel()
        err.setStyleSheet(ERROR_STYLE)
        err.setWordWrap(True)
        err.setObjectName(f"error:{key}")
        err.hide()
        lay.addWidget(err)
        lab = QLabel(label)
        lab.setBuddy(editor)
        self.addRow(lab, box)
        self.editors[key] = editor
        self.errors[key] = err
        return editor

    def set_row_visible(self, key: str, visible: bool) -> None:
        self.setRowVisible(self.editors[key].parentWidget(), visible)

    def show_errors(self, fields: dict[str, str]) -> int:
        """Show the messages whose key this form holds; returns how many were shown."""
        shown = 0
        for key, label in self.errors.items():
            message = fields.get(key)
            editor = self.editors[key]
            if message:
                label.setText(message)
                label.show()
                editor.setStyleSheet(ERROR_BORDER)
                shown += 1
            else:
                label.hide()
                label.clear()
                editor.setStyleSheet("")
        return shown

    def clear_errors(self) -> None:
        self.show_errors({})

    def error_text(self, key: str) -> str:
        label = self.errors.get(key)
        return label.text() if label is not None and not label.isHidden() else ""


def line(text: str = "", placeholder: str = "", on_change: Callable | None = None) -> QLineEdit:
    edit = QLineEdit(text)
    if placeholder:
        edit.setPlaceholderText(placeholder)
    if on_change:
        edit.textEdited.connect(lambda _t: on_change())
    return edit


def check(text: str, on_change: Callable | None = None) -> QCheckBox:
    box = QCheckBox(text)
    if on_change:
        box.toggled.connect(lambda _v: on_change())
    return box


def combo(items: Sequence[tuple[Any, str]], on_change: Callable | None = None, editable: bool = False) -> QComboBox:
    box = QComboBox()
    box.setEditable(editable)
    for value, label in items:
        box.addItem(label, value)
    if on_change:
        box.currentIndexChanged.connect(lambda _i: on_change())
        if editable:
            box.editTextChanged.connect(lambda _t: on_change())
    return box


def set_combo(box: QComboBox, value) -> None:
    index = box.findData(value)
    if index < 0 and box.isEditable():
        box.setEditText(str(value or ""))
        return
    box.setCurrentIndex(max(index, 0))


def text_area(on_change: Callable | None = None, height: int = 60) -> QPlainTextEdit:
    area = QPlainTextEdit()
    area.setFixedHeight(height)
    area.setTabChangesFocus(True)
    if on_change:
        area.textChanged.connect(on_change)
    return area


def date_text(value) -> str:
    return value.strftime("%d/%m/%Y") if value else ""


def table_view(model: QAbstractItemModel, stretch: int | None = None) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setSelectionMode(QAbstractItemView.SingleSelection)
    view.setEditTriggers(QAbstractItemView.NoEditTriggers)
    view.setAlternatingRowColors(True)
    view.setTabKeyNavigation(False)  # Tab goes on to the next field; arrows move inside
    view.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
    view.verticalHeader().setDefaultSectionSize(24)
    view.verticalHeader().hide()
    header = view.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.Interactive)
    header.setStretchLastSection(stretch is None)
    if stretch is not None:
        header.setSectionResizeMode(stretch, QHeaderView.Stretch)
    view.setWordWrap(False)
    return view


class Page(QWidget):
    """One tab of the family file. Pages emit `edited` when the clerk changes something."""

    edited = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.dirty = False
        self._loading = False

    def mark(self) -> None:
        if not self._loading:
            self.dirty = True
            self.edited.emit()

    def load(self, snap) -> None:  # pragma: no cover - overridden
        raise NotImplementedError

    def show_errors(self, fields: dict[str, str]) -> int:
        return 0
