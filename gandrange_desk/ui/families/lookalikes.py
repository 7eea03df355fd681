"""The warning a clerk sees before making a second file for the same household: the families
that look alike, why, and the way to open one of them instead."""

from __future__ import annotations

import html

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QVBoxLayout

from gandrange_desk import formats
from gandrange_desk.services.families.lookalikes import LookAlike
from gandrange_desk.ui.common.table_model import Column, ColumnsTableModel
from gandrange_desk.ui.common.widgets import make_table

STYLE = "QFrame#lookalikes { background:#fff4e5; border:1px solid #ffd8a8; border-radius:4px; }"


class LookAlikesPanel(QFrame):
    """Hidden until `show_families` has some; "Ouvrir la fiche existante" emits its id."""

    open_requested = Signal(int)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("lookalikes")
        self.setStyleSheet(STYLE)
        layout = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setWordWrap(True)
        layout.addWidget(self.title)
        self.model = ColumnsTableModel([
            Column("Famille", lambda f: f.label, tooltip=lambda f: f.label),
            Column("Adresse", lambda f: f.address, tooltip=lambda f: f.address),
            Column("Pourquoi", lambda f: f.why, tooltip=lambda f: f.why)])
        self.table = make_table(self.model, stretch=2, widths=(150, 170))
        self.table.setTabKeyNavigation(False)
        self.table.setMaximumHeight(24 * 4 + 28)
        self.table.doubleClicked.connect(lambda _i: self._open())
        layout.addWidget(self.table)
        row = QHBoxLayout()
        self.open_button = QPushButton("&Ouvrir la fiche existante")
        self.open_button.clicked.connect(self._open)
        row.addWidget(self.open_button)
        row.addStretch(1)
        layout.addLayout(row)
        self.hide()

    def show_families(self, families: list[LookAlike]) -> None:
        self.model.set_rows(families)
        if families:
            self.title.setText(
                f"<b>⚠ {formats.count(len(families), 'famille ressemble', 'familles ressemblent')} à celle-ci.</b> "
                "Ouvrez la fiche existante plutôt que d'en créer une seconde ; sinon « Créer quand même ».")
            self.table.selectRow(0)
            self.open_button.setDefault(True)  # Entrée opens the existing file, never a second one
        self.setVisible(bool(families))

    def _open(self) -> None:
        row = self.model.row(self.table.currentIndex())
        if row is not None:
            self.open_requested.emit(row.id)


def look_alikes_html(families: list[LookAlike]) -> str:
    """The same warning inside a registration's detail, each family a link to its file."""
    if not families:
        return ""
    items = "".join(f"<li><a href='family:{f.id}'>{html.escape(f.label)}</a> — {html.escape(f.address)} "
                    f"— <i>{html.escape(f.why)}</i></li>" for f in families)
    return ("<div style='background:#fff4e5; padding:4px'><p><b>⚠ "
            f"{formats.count(len(families), 'famille existante ressemble', 'familles existantes ressemblent')}"
            " à cette inscription</b> (cliquez pour ouvrir la fiche). Si c'est la même famille, refusez "
            f"l'inscription en indiquant sa fiche plutôt que d'en créer une seconde.</p><ul>{items}</ul></div>")


__all__ = ["LookAlikesPanel", "look_alikes_html"]
