"""Small Qt helpers several screens share: date conversions, right alignment, a plain data table.

They lived inside the payments view, so two billing dialogs imported the view that imports them
back; here they depend on nothing of the application.
"""

from __future__ import annotations

from datetime import date
from typing import Sequence

from PySide6.QtCore import QAbstractTableModel, QDate
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from gandrange_desk.ui.common.table_model import RIGHT  # noqa: F401 - shared with the models


def qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def make_table(model: QAbstractTableModel, stretch: int | None = None, widths: Sequence[int] = ()) -> QTableView:
    """A read-only list: whole rows selected one at a time, fixed row height, no row numbers."""
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setSelectionMode(QAbstractItemView.SingleSelection)
    view.setAlternatingRowColors(True)
    view.setWordWrap(False)
    vh = view.verticalHeader()
    vh.setVisible(False)
    vh.setSectionResizeMode(QHeaderView.Fixed)
    vh.setDefaultSectionSize(24)
    hh = view.horizontalHeader()
    hh.setSectionResizeMode(QHeaderView.Interactive)
    for i, w in enumerate(widths):
        view.setColumnWidth(i, w)
    if stretch is not None:
        hh.setSectionResizeMode(stretch, QHeaderView.Stretch)
    return view
