"""Quotient familial, Paiement and Compte portail tabs of the family file."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QGroupBox, QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gandrange_desk import formats
from gandrange_desk.models import MandateState, PaymentMode, PortalState
from gandrange_desk.services.families.data import (
    NO_QUOTIENT_TEXT, QUOTIENT_SOURCES, PaymentInput, PortalInput, QuotientInput,
)
from gandrange_desk.ui.common.table_model import ColumnsTableModel
from gandrange_desk.ui.families.widgets import (
    Form, Page, combo, date_text, line, set_combo, table_view,
)


class QuotientPage(Page):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        self.current = QLabel()
        self.current.setTextFormat(Qt.RichText)
        self.current.setStyleSheet("font-size: 15px; padding: 6px;")
        lay.addWidget(self.current)
        new_box = QGroupBox("Nouveau quotient (s'applique à partir de sa date)")
        w = QWidget()
        self.form = Form(w)
        m = self.mark
        self.value = self.form.add("quotient.value", "&Valeur", line(placeholder="780", on_change=m))
        self.value.setMaximumWidth(120)
        self.valid_from = self.form.add("quotient.valid_from", "À partir du", line(placeholder="jj/mm/aaaa", on_change=m))
        self.valid_from.setMaximumWidth(130)
        self.source = self.form.add("quotient.source", "&Source", combo([(s, s) for s in QUOTIENT_SOURCES], m, editable=True))
        self.source.setMaximumWidth(220)
        bl = QVBoxLayout(new_box)
        bl.addWidget(w)
        lay.addWidget(new_box)
        lay.addWidget(QLabel("Historique"))
        self.model = ColumnsTableModel([
            ("À partir du", lambda q: date_text(q.valid_from)),
            ("Valeur", lambda q: str(q.value), True),
            ("Source", lambda q: q.source),
            ("Enregistré le", lambda q: formats.instant(q.recorded_at) if q.recorded_at else ""),
            ("Par", lambda q: q.recorded_by or ""),
        ], self)
        self.view = table_view(self.model)
        lay.addWidget(self.view, 1)

    def load(self, snap, today) -> None:
        self._loading = True
        q = snap.quotient_on(today)
        if q is None:
            self.current.setText(f"<span style='color:#b06000'><b>{NO_QUOTIENT_TEXT}</b></span>")
        else:
            self.current.setText(f"Quotient en vigueur : <b>{q.value}</b> depuis le {formats.ddmmyyyy(q.valid_from)}"
                                 f" ({q.source})")
        self.value.clear()
        self.valid_from.setText(date_text(today))
        set_combo(self.source, "CAF")
        self.model.set_rows(reversed(snap.quotients))
        self.form.clear_errors()
        self.dirty = False
        self._loading = False

    def collect(self) -> QuotientInput | None:
        if not self.value.text().strip():
            return None
        return QuotientInput(self.value.text(), self.valid_from.text(), self.source.currentText())

    def show_errors(self, fields) -> int:
        return self.form.show_errors(fields)


class PaymentPage(Page):
    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        w = QWidget()
        self.form = Form(w)
        m = self.mark
        self.mode = self.form.add("payment.mode", "&Mode de paiement", combo(list(PaymentMode.labels().items()), self._mode_changed))
        self.mode.setMaximumWidth(220)
        lay.addWidget(w)
        self.mandate_box = QGroupBox("Mandat de prélèvement SEPA")
        mw = QWidget()
        self.mform = Form(mw)
        self.active = QLabel()
        self.active.setTextFormat(Qt.RichText)
        self.active.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.mform.addRow("Mandat actif", self.active)
        self.iban = self.mform.add("mandate.iban", "&Nouvel IBAN", line(placeholder="FR76 …  (laisser vide pour garder le compte actuel)", on_change=m))
        self.bic = self.mform.add("mandate.bic", "&BIC", line(placeholder="AGRIFRPP", on_change=m))
        self.bic.setMaximumWidth(160)
        self.holder = self.mform.add("mandate.holder", "&Titulaire du compte", line(on_change=m))
        self.signed = self.mform.add("mandate.signed_on", "Signé le", line(placeholder="jj/mm/aaaa", on_change=m))
        self.signed.setMaximumWidth(130)
        self.state = self.mform.add("mandate.state", "&État", combo(list(MandateState.labels().items()), m))
        self.state.setMaximumWidth(160)
        ml = QVBoxLayout(self.mandate_box)
        ml.addWidget(mw)
        note = QLabel("Un nouvel IBAN crée un nouveau mandat (nouvelle RUM) et révoque l'ancien. "
                      "Seuls les 4 derniers chiffres de l'IBAN s'affichent.")
        note.setWordWrap(True)
        note.setStyleSheet("color:#666;")
        ml.addWidget(note)
        lay.addWidget(self.mandate_box)
        lay.addWidget(QLabel("Mandats"))
        self.model = ColumnsTableModel([
            ("RUM", lambda m: m.rum), ("IBAN", lambda m: m.iban_masked), ("BIC", lambda m: m.bic),
            ("Signé le", lambda m: date_text(m.signed_on)), ("État", lambda m: m.state_label),
            ("Séquence", lambda m: m.sequence_type),
        ], self)
        self.view = table_view(self.model)
        for col, width in enumerate((210, 270, 110, 90, 80)):
            self.view.setColumnWidth(col, width)
        self.view.setFixedHeight(110)
        lay.addWidget(self.view)
        lay.addStretch(1)

    def _mode_changed(self) -> None:
        self.mark()

    def load(self, snap) -> None:
        self._loading = True
        set_combo(self.mode, snap.payment_mode)
        m = snap.active_mandate
        if m:
            self.active.setText(f"<b>{m.rum}</b> — {m.iban_masked} — signé le {formats.ddmmyyyy(m.signed_on)}")
            self.bic.setText(m.bic)
            self.holder.setText(m.holder)
            self.signed.setText(date_text(m.signed_on))
            set_combo(self.state, m.state)
        else:
            self.active.setText("aucun mandat actif" + (" — <span style='color:#b00020'>obligatoire pour le "
                                                        "prélèvement</span>" if snap.payment_mode == "prelevement" else ""))
            self.bic.clear()
            self.holder.setText(", ".join(g.full_name for g in snap.guardians[:1]))
            self.signed.clear()
            set_combo(self.state, MandateState.ACTIVE)
        self.iban.clear()
        self.model.set_rows(snap.mandates)
        self.form.clear_errors()
        self.mform.clear_errors()
        self.dirty = False
        self._loading = False

    def collect(self) -> PaymentInput:
        return PaymentInput(mode=self.mode.currentData(), new_iban=self.iban.text(), bic=self.bic.text(),
                            holder=self.holder.text(), signed_on=self.signed.text(),
                            mandate_state=self.state.currentData())

    def show_errors(self, fields) -> int:
        return self.form.show_errors(fields) + self.mform.show_errors(fields)


class PortalPage(Page):
    send_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        lay = QVBoxLayout(self)
        w = QWidget()
        self.form = Form(w)
        m = self.mark
        self.login = self.form.add("portal.login", "&Identifiant", line(placeholder="créé à l'envoi des identifiants", on_change=m))
        self.login.setMaximumWidth(320)
        self.state = self.form.add("portal.state", "É&tat du compte", combo(list(PortalState.labels().items()), m))
        self.state.setMaximumWidth(160)
        self.holder = QLabel()
        self.form.addRow("Titulaire", self.holder)
        self.channel = QLabel()
        self.channel.setWordWrap(True)
        self.form.addRow("Envoi", self.channel)
        lay.addWidget(w)
        row = QHBoxLayout()
        self.send = QPushButton("&Envoyer les identifiants")
        self.send.clicked.connect(self.send_requested.emit)
        row.addWidget(self.send)
        row.addStretch(1)
        lay.addLayout(row)
        self.result = QLabel()
        self.result.setWordWrap(True)
        self.result.setStyleSheet("color:#1b5e20;")
        lay.addWidget(self.result)
        note = QLabel("Un nouveau mot de passe provisoire est créé à chaque envoi ; seule son empreinte "
                      "(argon2) est conservée. Sans adresse e-mail, une lettre est préparée pour impression.")
        note.setWordWrap(True)
        note.setStyleSheet("color:#666;")
        lay.addWidget(note)
        lay.addStretch(1)

    def load(self, snap) -> None:
        self._loading = True
        self.login.setText(snap.portal_login)
        set_combo(self.state, snap.portal_state)
        holder = next((g for g in snap.guardians if g.holds_portal_account), None)
        self.holder.setText(holder.full_name if holder else "aucun responsable désigné (onglet Responsables)")
        recipients = ([holder.email] if holder and holder.email else snap.email_recipients)
        self.channel.setText(f"par e-mail à {', '.join(recipients)}" if recipients
                             else "pas d'adresse e-mail : lettre à imprimer")
        self.form.clear_errors()
        self.dirty = False
        self._loading = False

    def collect(self) -> PortalInput:
        return PortalInput(self.login.text(), self.state.currentData())

    def show_errors(self, fields) -> int:
        return self.form.show_errors(fields)
