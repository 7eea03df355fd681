"""Small dialogs of the Validation tab: refusal reason, billing override, registration detail."""

from __future__ import annotations

import html

from PySide6.QtWidgets import (
    QComboBox, QDialog, QDialogButtonBox, QFormLayout, QLabel, QLineEdit, QRadioButton, QVBoxLayout,
)

from gandrange_desk import formats
from gandrange_desk.models import Billing, RequestKind
from gandrange_desk.services.queue import USUAL_REASONS, QueueItem


DOCUMENT_REASONS = ("Document illisible", "Document incomplet", "Document périmé",
                    "Ce n'est pas le document demandé")


class RefusalDialog(QDialog):
    """A reason is required: pick a usual one or type another; it is e-mailed to the family."""

    def __init__(self, count: int, parent=None, documents: bool = False):
        super().__init__(parent)
        self.setWindowTitle("Demander un autre document" if documents else "Refuser")
        layout = QVBoxLayout(self)
        if documents:
            what = "le document choisi" if count == 1 else f"les {count} documents choisis"
            layout.addWidget(QLabel(f"Ce qui ne va pas dans {what} (envoyé à la famille) :"))
        else:
            what = "la demande choisie" if count == 1 else f"les {count} demandes choisies"
            layout.addWidget(QLabel(f"Motif du refus de {what} (envoyé à la famille) :"))
        self.reason = QComboBox()
        self.reason.setEditable(True)
        self.reason.addItems(DOCUMENT_REASONS if documents else USUAL_REASONS)
        self.reason.setCurrentIndex(-1)
        self.reason.lineEdit().setPlaceholderText("Choisissez un motif habituel ou saisissez-le")
        layout.addWidget(self.reason)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Ok).setText("Demander un autre" if documents else "Refuser")
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
    """Per-date billing of an accepted cancellation, with the reason of the choice.

    It opens on the proposal (what the deadline says, or the choice already made): typing a
    reason and Entrée never turns an excused cancellation into a billed one. Going against the
    proposal needs the reason, which is kept."""

    def __init__(self, item: QueueItem, parent=None, current: tuple[str, str] | None = None):
        super().__init__(parent)
        from gandrange_desk.formats import ddmmyyyy

        self.setWindowTitle("Facturation de l'annulation")
        self.proposed = item.proposed_billing or Billing.EXCUSED
        layout = QVBoxLayout(self)
        proposed = Billing.phrase_of(self.proposed)
        layout.addWidget(QLabel(
            f"{item.child_name} — {item.unit_name} du {ddmmyyyy(item.day)}\n"
            f"Proposé : annulation {proposed}" + (" (demandée hors délai)." if item.late else " (dans les délais).")))
        self.excused = QRadioButton("&Excusée (non facturée)")
        self.billed = QRadioButton("&Facturée")
        chosen = current[0] if current else self.proposed
        (self.billed if chosen == Billing.BILLED else self.excused).setChecked(True)
        layout.addWidget(self.excused)
        layout.addWidget(self.billed)
        form = QFormLayout()
        self.reason = QLineEdit(current[1] if current else "")
        self.reason.setPlaceholderText("Certificat médical, absence signalée…")
        form.addRow("&Motif :", self.reason)
        layout.addLayout(form)
        self.hint = QLabel()
        self.hint.setStyleSheet("color: #666;")
        layout.addWidget(self.hint)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        self.buttons.button(QDialogButtonBox.Cancel).setText("Annuler")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)
        self.reason.textChanged.connect(self._update)
        self.excused.toggled.connect(self._update)
        self.reason.setFocus()
        self._update()

    def billing(self) -> str:
        return Billing.EXCUSED if self.excused.isChecked() else Billing.BILLED

    def _update(self) -> None:
        against = self.billing() != self.proposed
        self.hint.setText("Contre la proposition : le motif est obligatoire et conservé." if against else
                          "Conforme à la proposition.")
        self.buttons.button(QDialogButtonBox.Ok).setEnabled(bool(self.reason.text().strip()) or not against)

    def choice(self) -> tuple[str, str]:
        return (self.billing(), self.reason.text().strip())


def registration_html(item: QueueItem) -> str:
    """The submitted family, as the clerk reads it before accepting (compact: it shares the
    screen with the queue)."""
    fam = item.payload.get("family", {})
    esc = lambda v: html.escape(str(v or ""))  # noqa: E731
    address = fam.get("address") or {}
    parts = [f"<p style='margin:0'><b>Inscription — famille {esc(fam.get('name'))} ({esc(fam.get('ref'))})</b> — "
             f"{esc(address.get('street'))}, {esc(address.get('postcode'))} {esc(address.get('city'))}</p>",
             "<p style='margin:4px 0 0 0'><b>Responsables légaux</b></p><ul style='margin-top:0'>"]
    for g in fam.get("guardians", []):
        parts.append(f"<li>{esc(g.get('first_name'))} {esc(g.get('last_name'))} — "
                     f"{esc(g.get('email') or 'pas de courriel')} — {esc(g.get('phone'))}</li>")
    parts.append("</ul><p style='margin:0'><b>Enfants</b></p><ul style='margin-top:0'>")
    for c in fam.get("children", []):
        born = c.get("birth_date") or ""
        if len(born) == 10:
            born = f"{born[8:10]}/{born[5:7]}/{born[0:4]}"
        parts.append(f"<li>{esc(c.get('first_name'))} {esc(c.get('last_name'))} ({esc(c.get('ref'))}), "
                     f"né(e) le {esc(born)} — {esc(c.get('school'))} {esc(c.get('class'))}</li>")
    parts.append("</ul><p style='margin:0; color:#555'>Accepter crée la famille, ses enfants et son compte du "
                 "portail, et envoie l'identifiant et un mot de passe provisoire par courriel.</p>")
    return "".join(parts)


def document_html(item: QueueItem) -> str:
    """A document the family sent through « Mes envois »: what it is, and a link to look at it
    before marking it checked or asking for another."""
    esc = lambda v: html.escape(str(v or ""), quote=False)  # noqa: E731
    what = item.payload.get("kind") or "Document"
    lines = [f"<b>{esc(item.family_name)}</b> ({esc(item.family_ref)})",
             f"Document reçu par « Mes envois » : <b>{esc(what)}</b> — {esc(item.payload.get('filename'))}",
             f"Envoyé le {formats.instant(item.submitted_at)}"]
    if isinstance(item.payload.get("document_id"), int):
        lines.append(f"<a href='document:{item.payload['document_id']}'>Ouvrir le document</a> — A le marque "
                     "vérifié ; R en demande un autre à la famille (le motif lui est envoyé par courriel).")
    return "<br>".join(lines)


def accept_all_question(items: list[QueueItem]) -> str:
    """What "Tout accepter" will do, counted, before the clerk says yes."""
    kinds = {kind: sum(1 for i in items if i.kind == kind) for kind in
             (RequestKind.BOOKING, RequestKind.CANCELLATION, RequestKind.REGISTRATION, RequestKind.FAMILY_CHANGE)}
    late = sum(1 for i in items if i.late)
    billed = sum(1 for i in items if i.kind == RequestKind.CANCELLATION and i.proposed_billing == Billing.BILLED)
    lines = [f"Accepter les {formats.count(len(items), 'demande affichée', 'demandes affichées')} "
             "et envoyer les courriels ?", "", "Cela comprend :"]
    if kinds[RequestKind.BOOKING]:
        lines.append("– " + formats.count(kinds[RequestKind.BOOKING], "réservation", "réservations"))
    if kinds[RequestKind.CANCELLATION]:
        text = "– " + formats.count(kinds[RequestKind.CANCELLATION], "annulation", "annulations")
        if billed:
            text += f", dont {formats.count(billed, 'facturée', 'facturées')} (hors délai)"
        lines.append(text)
    if late:
        lines.append("– " + formats.count(late, "demande hors délai", "demandes hors délai"))
    if kinds[RequestKind.REGISTRATION]:
        lines.append("– " + formats.count(kinds[RequestKind.REGISTRATION], "inscription", "inscriptions")
                     + " : création de la famille et de son compte du portail")
    if kinds[RequestKind.FAMILY_CHANGE]:
        lines.append("– " + formats.count(kinds[RequestKind.FAMILY_CHANGE], "modification de famille",
                                          "modifications de famille") + " : tous les champs demandés acceptés")
    return "\n".join(lines)
