"""What the grid asks the clerk (accept or refuse, excusée or facturée, a reason, yes or no),
a cell's history, and the period dialog: a mixin of the Réservations tab, replaced in tests."""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtWidgets import QMenu, QMessageBox

from gandrange_desk.services.reservations.grid import DR

from .grid_actions import VERBS
from .grid_dialogs import CancelDialog, ReasonDialog
from .grid_model import CELL_ROLE, CLOSED_ROLE, FIXED
from .period_dialog import PeriodDialog


class GridPrompts:
    def _show_history(self) -> None:
        current = self.grid.currentIndex()
        if not current.isValid() or current.column() < FIXED:
            return
        if current.data(CLOSED_ROLE):
            text = f"Jour fermé : {current.data(CLOSED_ROLE)}."
        else:
            text = self._history(current.data(CELL_ROLE))
        QMessageBox.information(self, "Historique de la case", text)

    def open_period_dialog(self) -> None:
        g = self.model.grid
        if g is None:
            return
        rows = sorted({i.row() for i in self.grid.selectionModel().selectedIndexes()}
                      or ({self.grid.currentIndex().row()} if self.grid.currentIndex().isValid()
                          else set()))
        if not rows:
            self.say("Choisissez d'abord l'enfant (une case de sa ligne).", error=True)
            return
        children = [(g.child_ids[self.model.visible[r]], g.names[self.model.visible[r]])
                    for r in rows]
        current = self.grid.currentIndex()
        unit_id = g.units[g.columns[current.column() - FIXED][1]].id \
            if current.isValid() and current.column() >= FIXED else None
        last = date(self.month.year + self.month.month // 12, self.month.month % 12 + 1, 1)
        dialog = self.make_period_dialog(children, unit_id, last - timedelta(days=1))
        # The dialog's booking reaches the grid from its exact result, below.
        if dialog.exec() and dialog.result_cells is not None:
            self.model.apply_changes(dialog.result_cells.changed)
            self.last_done = dialog.result_cells
            self.say(dialog.result_cells.summary(VERBS["ask" if dialog.for_family else "book"])
                     + " (Ctrl+Z pour annuler)")

    def make_period_dialog(self, children, unit_id, last) -> PeriodDialog:
        return PeriodDialog(self.desk, self.filters["activities"], children,
                            activity_id=self.activity_combo.currentData(), unit_id=unit_id,
                            first=max(self.month, self.desk.today()), last=last,
                            for_family=self.family_mode.isChecked(), parent=self)

    # --- prompts (tests replace these) ---
    def prompt_decision(self, state: int) -> str | None:
        menu = QMenu(self)
        what = "de réservation" if state == DR else "d'annulation"
        menu.addSection(f"Demande {what}")
        accept = menu.addAction("&Accepter")
        refuse = menu.addAction("&Refuser…")
        rect = self.grid.visualRect(self.grid.currentIndex())
        chosen = menu.exec(self.grid.viewport().mapToGlobal(rect.bottomLeft()))
        return "accept" if chosen is accept else "refuse" if chosen is refuse else None

    def prompt_cancel(self, count: int, proposed: str, late: int):
        dialog = CancelDialog(count, proposed, late, self)
        return dialog.choice() if dialog.exec() else None

    def prompt_reason(self, title: str, prompt: str) -> str | None:
        dialog = ReasonDialog(title, prompt, self)
        return dialog.text() if dialog.exec() else None

    def confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Confirmer", text, QMessageBox.Yes | QMessageBox.No,
                                      QMessageBox.No)
        return answer == QMessageBox.Yes

