"""Small dialogs of the Validation tab: refusal reason, billing override, registration detail."""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QRadioButton, QVBoxLayout,
)

from gandrange_desk.models import Billing
from gandrange_desk.services.queue import USUAL_REASONS, QueueItem


class RefusalDialog(QDialog):
    """A reason is required: pick a usual one or type another; it is e-mailed to the family."""

    def __init__(self, count: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle("Refuser")
        layout = QVBoxLayout(self)
        what = "la demande choisie" if count == 1 else f"les {count} demandes choisies"
        layout.addWidget(QLabel(f"Motif du refus de {what} (envoyé à la famille) :"))
        self.reason = QComboBox()
        self.reason.setEditable(True)
        self.reason.addItems(USUAL_REASONS)
        self.reason.setCurrentIndex(-1)
        self.reason.lineEdit().setPlaceholderText("Choisissez un motif habituel ou saisissez-le")
        layout.addWidget(self.reason)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Refuser")
        self.buttons.button(QDialogButtonBox.Cancel).setText("Annuler")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason.currentTextChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(bool(self.text()))

    def text(self) -> str:
        return " ".join(self.reason.currentText().split())


class BillingDialog(QDialog):
    """Per-date billing of an accepted cancellation, with the reason of the choice."""

    def __init__(self, item: QueueItem, parent=None):
        super().__init__(parent)
        from gandrange_desk.formats import ddmmyyyy

        self.setWindowTitle("Facturation de l'annulation")
        layout = QVBoxLayout(self)
        proposed = Billing.phrase_of(item.proposed_billing)
        layout.addWidget(QLabel(
            f"{item.child_name} — {item.unit_name} du {ddmmyyyy(item.day)}\n"
            f"Proposé : annulation {proposed}" + (" (demandée hors délai)." if item.late else " (dans les délais).")))
        self.excused = QRadioButton("&Excusée (non facturée)")
        self.billed = QRadioButton("&Facturée")
        (self.billed if item.proposed_billing == "excused" else self.excused).setChecked(True)
        layout.addWidget(self.excused)
        layout.addWidget(self.billed)
        form = QFormLayout()
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("Certificat médical, absence signalée…")
        form.addRow("&Motif :", self.reason)
        layout.addLayout(form)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Cancel).setText("Annuler")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason.textChanged.connect(self._update)
        self._update()

    def _update(self) -> None:
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(bool(self.reason.text().strip()))

    def choice(self) -> tuple[str, str]:
        return ("excused" if self.excused.isChecked() else "billed", self.reason.text().strip())


def registration_html(item: QueueItem) -> str:
    """The submitted family, as the clerk reads it before accepting."""
    fam = item.payload.get("family", {})
    esc = lambda v: html.escape(str(v or ""))  # noqa: E731
    address = fam.get("address") or {}
    parts = [f"<h3>Inscription — famille {esc(fam.get('name'))} ({esc(fam.get('ref'))})</h3>",
             f"<p><b>Adresse :</b> {esc(address.get('street'))}, {esc(address.get('postcode'))} "
             f"{esc(address.get('city'))}</p>", "<p><b>Responsables légaux</b></p><ul>"]
    for g in fam.get("guardians", []):
        parts.append(f"<li>{esc(g.get('first_name'))} {esc(g.get('last_name'))} — "
                     f"{esc(g.get('email') or 'pas de courriel')} — {esc(g.get('phone'))}</li>")
    parts.append("</ul><p><b>Enfants</b></p><ul>")
    for c in fam.get("children", []):
        born = c.get("birth_date") or ""
        if len(born) == 10:
            born = f"{born[8:10]}/{born[5:7]}/{born[0:4]}"
        parts.append(f"<li>{esc(c.get('first_name'))} {esc(c.get('last_name'))} ({esc(c.get('ref'))}), "
                     f"né(e) le {esc(born)} — {esc(c.get('school'))} {esc(c.get('class'))}</li>")
    parts.append("</ul><p>Accepter crée la famille, ses enfants et son compte du portail, et envoie "
                 "l'identifiant et un mot de passe provisoire par courriel.</p>")
    return "".join(parts)
