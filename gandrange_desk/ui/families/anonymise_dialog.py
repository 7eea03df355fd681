"""« Anonymiser les familles éligibles… » (administrators): the list, the rule, a confirmation."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QAbstractItemView, QDialog, QHBoxLayout, QHeaderView, QLabel, QMessageBox, QPushButton,
    QTableView, QVBoxLayout, QWidget,
)

from gandrange_desk import formats
from gandrange_desk.services.families import retention
from gandrange_desk.services.context import Desk
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.table_model import RowsTableModel

COLUMNS = ("Réf.", "Famille", "Dernière activité", "Anonymisable depuis le")


class EligibleModel(RowsTableModel):
    HEADERS = COLUMNS

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid() or role != Qt.DisplayRole:
            return None
        c = self.rows[index.row()]
        return (c.ref, c.name, formats.ddmmyyyy(c.last_activity) if c.last_activity else "—",
                formats.ddmmyyyy(c.eligible_from) if c.eligible_from else "—")[index.column()]


class AnonymiseDialog(QDialog):
    def __init__(self, desk: Desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle("Anonymiser les familles éligibles")
        self.resize(820, 520)
        layout = QVBoxLayout(self)
        self.rule = QLabel("")
        self.rule.setWordWrap(True)
        layout.addWidget(self.rule)
        self.model = EligibleModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        for column, width in enumerate((90, 330, 140)):
            self.table.setColumnWidth(column, width)
        self.table.horizontalHeader().setStretchLastSection(True)
        layout.addWidget(self.table, 1)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        layout.addWidget(self.status)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        self.go = QPushButton("&Anonymiser…")
        self.go.clicked.connect(self.confirm)
        close = QPushButton("&Fermer")
        close.clicked.connect(self.reject)
        buttons.addWidget(self.go)
        buttons.addWidget(close)
        layout.addLayout(buttons)
        self.last_result: retention.AnonymiseResult | None = None
        self.reload()

    def reload(self) -> None:
        def refused(text: str) -> None:
            self.rule.setText(text)
            self.model.set_rows([])
            self.go.setEnabled(False)

        loaded = ops.run(self, self.windowTitle(), lambda: (retention.retention_years(self.desk),
                                                            retention.eligible(self.desk)), on_error=refused)
        if loaded is None:
            return
        years, found = loaded
        self.rule.setText(
            f"Une famille archivée peut être anonymisée {years} ans après la fin de l'année scolaire "
            "de sa dernière activité (réservation, demande, facture ou règlement), si elle ne doit rien "
            "et qu'on ne lui doit rien. Ses factures, avoirs et règlements sont conservés tels quels "
            "(numéros, montants, nom et adresse facturés), comme la loi l'impose ; ses autres données "
            "personnelles sont effacées définitivement.")
        self.model.set_rows(found)
        self.go.setEnabled(bool(found))
        self.go.setText(f"&Anonymiser {formats.count(len(found), 'famille', 'familles')}…" if found
                        else "&Anonymiser…")
        if not found:
            self.status.setText("Aucune famille n'est éligible à l'anonymisation aujourd'hui.")
        if found:
            self.table.selectRow(0)
            self.table.setFocus()

    def confirm(self) -> None:
        ids = [c.family_id for c in self.model.rows]
        if not ids:
            return
        text = (f"Anonymiser définitivement {formats.count(len(ids), 'famille', 'familles')} ?\n\n"
                "Les noms, coordonnées, données de santé, documents et courriels de ces familles "
                "seront effacés. Cette opération ne peut pas être annulée.")
        answer = QMessageBox.question(self, self.windowTitle(), text, QMessageBox.Yes | QMessageBox.No,
                                      QMessageBox.No)
        if answer != QMessageBox.Yes:
            return
        self.run(ids)

    def run(self, ids: list[int]) -> None:
        # Its Changes (every list shows names) reach the window's tabs; the result comes back here.
        ops.run(self, "Anonymisation des familles", lambda progress: retention.anonymise(self.desk, ids, progress),
                long=True, on_done=self.done_with, on_error=self.failed)

    def done_with(self, result: retention.AnonymiseResult) -> None:
        self.reload()
        self.status.setText(result.text().split("\n")[0])
        self.last_result = result

    def failed(self, message: str) -> None:
        self.status.setText(message)
        QMessageBox.warning(self, self.windowTitle(), message)


def open_dialog(window) -> None:
    AnonymiseDialog(window.desk, window).exec()
