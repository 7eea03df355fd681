"""« Relancer les impayés »: which reminders go out, at which level (1re relance, 2e relance,
mise en demeure), and the letters to print afterwards."""

from __future__ import annotations

from collections import Counter

from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QLabel, QMessageBox, QVBoxLayout,
)

from gandrange_desk import formats
from gandrange_desk.services.billing import reminders
from gandrange_desk.ui.common import ops


class RemindDialog(QDialog):
    """`rows`: the unpaid invoices to consider (the one chosen, or the whole list)."""

    def __init__(self, desk, rows: list[reminders.UnpaidRow], parent=None):
        super().__init__(parent)
        self.desk = desk
        self.rows = rows
        self.result_obj: reminders.RemindResult | None = None
        self.setWindowTitle("Relancer les impayés")
        layout = QVBoxLayout(self)
        levels = Counter(r.next_level for r in rows)
        lines = [f"{formats.count(len(rows), 'facture impayée', 'factures impayées')}, prochaine relance :"]
        lines += [f"– {n} {reminders.LEVELS[lv].lower() if n < 2 else reminders.LEVEL_PLURALS[lv]}"
                  for lv, n in sorted(levels.items())]
        intro = QLabel("\n".join(lines))
        layout.addWidget(intro)
        form = QFormLayout()
        self.level = QComboBox()
        self.level.addItem("Chacune à son niveau", None)
        for lv, title in reminders.LEVELS.items():
            self.level.addItem(f"Seulement les {reminders.LEVEL_PLURALS[lv]} ({levels.get(lv, 0)})", lv)
        form.addRow("&Relances :", self.level)
        layout.addLayout(form)
        self.all_letters = QCheckBox("Imprimer aussi une &lettre pour les familles qui reçoivent l'e-mail")
        layout.addWidget(self.all_letters)
        note = QLabel("Les familles avec e-mail reçoivent la relance par e-mail, les autres par lettre. "
                      "Une mise en demeure part toujours par lettre (avec une copie par e-mail).")
        note.setWordWrap(True)
        note.setStyleSheet("color:#555;")
        layout.addWidget(note)
        buttons = QDialogButtonBox()
        self.send_button = buttons.addButton("&Relancer", QDialogButtonBox.AcceptRole)
        buttons.addButton("Annuler", QDialogButtonBox.RejectRole)
        buttons.accepted.connect(self.send)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def send(self) -> None:
        level, ids = self.level.currentData(), [r.invoice_id for r in self.rows]
        result = ops.run(self, "Relancer les impayés", lambda: reminders.remind(
            self.desk, ids, level=level, letters_for_all=self.all_letters.isChecked()))
        if result is None:
            return
        self.result_obj = result
        if result.letters_pdf:
            self.save_letters(result.letters_pdf)
        self.inform(result.summary())
        self.accept()

    # --- replaced in tests --------------------------------------------------------------
    def save_letters(self, data: bytes) -> str | None:
        path, _ = QFileDialog.getSaveFileName(self, "Lettres de relance à imprimer",
                                              f"relances-{self.desk.today()}.pdf", "PDF (*.pdf)")
        if path:
            with open(path, "wb") as fh:
                fh.write(data)
        return path or None

    def inform(self, text: str) -> None:
        QMessageBox.information(self, "Relances", text)


__all__ = ["RemindDialog"]
