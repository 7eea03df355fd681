"""The "Exporter…" action every list carries: choose a file (.xlsx or .csv), export, say so.

    self.export_button = export_button(self, desk, "invoices", lambda: {"month": self.month})

`options` is called at click time, so the export follows what the list shows (its month, its
search, its school). Tests replace `ask_path` on the returned object to skip the file dialog.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from PySide6.QtWidgets import QFileDialog, QMessageBox, QPushButton, QWidget

from gandrange_desk.services.exports.titles import TITLES
from gandrange_desk.ui.common import ops

FILTERS = "Classeur Excel / LibreOffice (*.xlsx);;Texte CSV, points-virgules (*.csv)"


def _ask_path(parent: QWidget, suggested: str) -> str:
    path, chosen = QFileDialog.getSaveFileName(parent, "Exporter", suggested, FILTERS)
    if path and not Path(path).suffix:
        path += ".csv" if "csv" in chosen.lower() else ".xlsx"
    return path


def export_list(parent: QWidget, desk, name: str, options: Callable[[], dict], ask_path=_ask_path,
                on_done: Callable[[str], None] | None = None) -> str | None:
    """Ask where, export, and report in one sentence; returns that sentence (None if cancelled)."""
    # The lists' queries load when a list is exported, not when the window opens.
    from gandrange_desk.services.exports import lists

    suggested = f"{TITLES[name].lower().replace(' ', '-')}.xlsx"
    path = ask_path(parent, suggested)
    if not path:
        return None
    result = ops.run(parent, "Exporter", lambda: lists.export(desk, name, path, **options()))
    if result is None:
        return None
    text = result.text()
    if on_done is not None:
        on_done(text)
    else:
        QMessageBox.information(parent, "Exporter", text)
    return text


class ExportButton(QPushButton):
    """ "Exporter…" for one list (or, `name` a callable, the list shown now: unpaid or payments);
    `ask_path` and `on_done` may be replaced (tests, status lines)."""

    def __init__(self, parent: QWidget, desk, name: str | Callable[[], str], options: Callable[[], dict] = dict,
                 on_done: Callable[[str], None] | None = None):
        super().__init__("E&xporter…", parent)
        self.desk, self.name, self.options, self.on_done = desk, name, options, on_done
        self.ask_path = _ask_path
        what = f"« {TITLES[name]} »" if isinstance(name, str) else "la liste affichée"
        self.setToolTip(f"Exporter {what} en classeur (.xlsx) ou en CSV (.csv)")
        self.clicked.connect(self.run)

    def run(self) -> str | None:
        name = self.name if isinstance(self.name, str) else self.name()
        return export_list(self.window(), self.desk, name, self.options, self.ask_path, self.on_done)


def export_button(parent: QWidget, desk, name: str | Callable[[], str], options: Callable[[], dict] = dict,
                  on_done: Callable[[str], None] | None = None) -> ExportButton:
    return ExportButton(parent, desk, name, options, on_done)
