"""The payments view and its dialogs, driven as a clerk would (headless Qt)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from PySide6.QtWidgets import QDialog, QMessageBox
from sqlalchemy import func, select

from gandrange_desk.models import CreditNote, Payment, SepaExport
from gandrange_desk.services.billing import payments
from tests import payments_builders as b


@pytest.fixture
def data(desk):
    b.structure(desk)
    u = b.units(desk)
    fam = b.family(desk, "Muller", mode="prelevement")
    child = b.child_ids(desk, fam)[0]
    sept = b.invoice(desk, fam, date(2026, 9, 1), [(u["Soir"], child, "Soir", 10, 300)], due=date(2026, 10, 31))
    octo = b.invoice(desk, fam, date(2026, 10, 1), [(u["Soir"], child, "Soir", 17, 415),
                                                    (u["Midi"], child, "Midi", 4, 380)], due=date(2026, 11, 20))
    b.mandate(desk, fam, rum="GDG-2025-0001")
    return {"fam": fam, "sept": sept, "oct": octo}


@pytest.fixture(autouse=True)
def no_popups(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: shown.append(a[2]) or QMessageBox.Ok)
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]) or QMessageBox.Ok)
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.No)
    return shown


def test_view_lists_unpaid_and_payments(qtbot, desk, data):
    from gandrange_desk.ui.billing.payments_view import PaymentsView

    view = PaymentsView(desk)
    qtbot.addWidget(view)
    assert view.unpaid_model.rowCount() == 2
    assert b.plain(view.summary.text()) == "2 factures impayées, 115,75 € restant dus"
    assert view.tabs.tabText(0) == "Impayés (2)"
    payments.record_payment(desk, data["fam"], mode="especes", received_on=date(2026, 11, 2), amount_cents=3000)
    view.refresh()
    assert view.unpaid_model.rowCount() == 1
    assert view.payments_model.rowCount() == 1
    # The remaining unpaid one is October's; the payment went to September's (oldest first).
    assert view.unpaid_model.rows[0].invoice_id == data["oct"]
    september = view.payments_model.data(view.payments_model.index(0, 6))
    assert september and september != view.unpaid_model.rows[0].number
    assert b.plain(view.payments_model.data(view.payments_model.index(0, 4))) == "30,00 €"
    other = b.family(desk, "Weber-Éric", mode="cheque")
    b.invoice(desk, other, date(2026, 9, 1), [(None, None, "Soir", 1, 300)], due=date(2026, 10, 31))
    view.refresh()
    assert view.unpaid_model.rowCount() == 2
    view.search.setText("weber eric")
    assert [r.family_name for r in view.unpaid_model.rows] == ["Weber-Éric"]
    assert view.tabs.tabText(0) == "Impayés (1/2)" and view.payments_model.rowCount() == 0
    view.search.clear()
    assert view.unpaid_model.rowCount() == 2 and view.payments_model.rowCount() == 1


def test_record_dialog_by_hand(qtbot, desk, data):
    from gandrange_desk.ui.billing.payments_view import RecordPaymentDialog

    dialog = RecordPaymentDialog(desk, None, data["fam"])
    qtbot.addWidget(dialog)
    assert "2 factures à payer" in dialog.balance.text()
    dialog.mode.setCurrentIndex(dialog.mode.findData("virement"))
    dialog.amount.setText("20,00")
    dialog.allocation.manual.setChecked(True)
    model = dialog.allocation.model
    # Pre-filled oldest first; the clerk moves the whole amount to October instead.
    assert model.amounts == [2000, 0]
    assert model.setData(model.index(0, 4), "0")
    assert model.setData(model.index(1, 4), "20,00")
    dialog.save()
    assert dialog.result() == QDialog.Accepted
    with desk.read() as s:
        assert payments.paid_cents(s, data["oct"]) == 2000
        assert payments.paid_cents(s, data["sept"]) == 0


def test_record_dialog_shows_french_errors(qtbot, desk, data):
    from gandrange_desk.ui.billing.payments_view import RecordPaymentDialog

    dialog = RecordPaymentDialog(desk, None, data["fam"])
    qtbot.addWidget(dialog)
    dialog.amount.setText("12,5x")
    dialog.save()
    assert "Montant illisible" in dialog.error.text()
    dialog.amount.setText("10")
    dialog.save()  # a cheque without its reference
    assert "numéro du chèque" in dialog.error.text()
    with desk.read() as s:
        assert s.scalar(select(func.count(Payment.id))) == 0


def test_credit_note_dialog(qtbot, responsable_desk, data):
    from gandrange_desk.ui.billing.credit_note_dialog import CreditNoteDialog

    dialog = CreditNoteDialog(responsable_desk, data["oct"])
    qtbot.addWidget(dialog)
    model = dialog.model
    model.setData(model.index(0, 5), 3)
    assert "12,45 €" in b.plain(dialog.total.text())
    dialog.issue()
    assert "motif" in dialog.error.text()
    dialog.reason.setPlainText("Sortie scolaire")
    dialog.issue()
    assert dialog.result_obj.number == "AV-2026-000001"
    with responsable_desk.read() as s:
        assert s.scalar(select(CreditNote.total_cents)) == 1245


def test_credit_note_dialog_agent_cannot_issue(qtbot, agent_desk, data):
    from gandrange_desk.ui.billing.credit_note_dialog import CreditNoteDialog

    dialog = CreditNoteDialog(agent_desk, data["oct"])
    qtbot.addWidget(dialog)
    assert not dialog.issue_button.isEnabled() and "responsable" in dialog.error.text()


def test_sepa_dialog_preview_and_export(qtbot, responsable_desk, data, tmp_path, clock):
    from gandrange_desk.ui.billing.sepa_dialog import SepaDialog

    dialog = SepaDialog(responsable_desk)
    qtbot.addWidget(dialog)
    assert dialog.month.currentData() == date(2026, 10, 1)
    text = b.plain(dialog.preview.text())
    assert "1 prélèvement</b> pour <b>85,75 €" in text and "FRST : 1" in text
    assert "FR76 **** 0185" in dialog.details.toPlainText()
    dialog.export(str(tmp_path / "oct.xml"))
    assert (tmp_path / "oct.xml").read_bytes().startswith(b"<?xml")
    with responsable_desk.read() as s:
        assert s.scalar(select(func.count(SepaExport.id))) == 1
    assert "Déjà exporté" in dialog.preview.text() and not dialog.export_button.isEnabled()
    # Exported on 26/11 for a debit announced on 20/11: pushed back to 14 days after today's
    # notice, 10/12. Once that day has passed, the debits are recorded as payments.
    assert "le 10/12/2026" in b.plain(dialog.details.toPlainText()) or "10 décembre 2026" in dialog.preview.text()
    clock.set(2026, 12, 11, 9, 0)
    assert dialog.collected_button.isEnabled()
    dialog.record_collected("INCONNU:AM04")  # a typing error: refused, nothing recorded
    with responsable_desk.read() as s:
        assert s.scalar(select(func.count(Payment.id))) == 0
    dialog.record_collected("")
    with responsable_desk.read() as s:
        assert payments.remaining_cents(s, data["oct"]) == 0
    assert "0 prélèvement" in b.plain(dialog.preview.text())


def test_attestations_dialog(qtbot, desk, data, tmp_path, clock, no_popups):
    from PySide6.QtCore import QDate

    from gandrange_desk.ui.billing.attestations_dialog import AttestationsDialog

    payments.record_payment(desk, data["fam"], mode="especes", received_on=date(2026, 11, 2), amount_cents=3000)
    clock.set(2027, 1, 15, 9, 0)
    dialog = AttestationsDialog(desk)
    qtbot.addWidget(dialog)
    assert dialog.year.value() == 2026
    dialog.make(str(tmp_path / "f.pdf"))
    text = b.plain(PdfReader(io.BytesIO((tmp_path / "f.pdf").read_bytes())).pages[0].extract_text())
    assert "ATTESTATION FISCALE" in text and "30,00 €" in text
    dialog.period.setChecked(True)
    dialog.make(str(tmp_path / "p.pdf"))
    assert not (tmp_path / "p.pdf").exists()  # no family chosen: refused
    assert "Choisissez la famille" in no_popups[-1]
    dialog.family.setCurrentIndex(dialog.family.findData(data["fam"]))
    dialog.make(str(tmp_path / "p.pdf"))  # January 2027: nothing billed nor paid yet
    assert "Rien à attester" in no_popups[-1] and not (tmp_path / "p.pdf").exists()
    dialog.start.setDate(QDate(2026, 9, 1))
    dialog.end.setDate(QDate(2026, 12, 31))
    dialog.make(str(tmp_path / "p.pdf"))
    text = b.plain(PdfReader(io.BytesIO((tmp_path / "p.pdf").read_bytes())).pages[0].extract_text())
    assert "Attestation de présence et de paiement" in text and "30,00 €" in text


def test_credit_note_from_a_typed_number(qtbot, responsable_desk, data, monkeypatch, no_popups):
    from PySide6.QtWidgets import QInputDialog

    from gandrange_desk.ui.billing import credit_note_dialog
    from gandrange_desk.ui.billing.payments_view import PaymentsView

    view = PaymentsView(responsable_desk)
    qtbot.addWidget(view)
    view.unpaid_view.clearSelection()
    assert view.credit_button.isEnabled()
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: ("1999-000001", True))
    view.credit_note_for_selected()
    assert "Aucune facture émise ne porte le numéro « 1999-000001 »" in no_popups[-1]
    opened = []
    monkeypatch.setattr(credit_note_dialog.CreditNoteDialog, "exec", lambda self: opened.append(self.info.number) or 0)
    with responsable_desk.read() as s:
        from gandrange_desk.models import Invoice
        number = s.get(Invoice, data["sept"]).number
    monkeypatch.setattr(QInputDialog, "getText", lambda *a, **k: (number, True))
    view.credit_note_for_selected()
    assert opened == [number]


def test_billing_tab_hooks(qtbot, responsable_desk, data, monkeypatch):
    from gandrange_desk.ui.billing import credit_note_dialog
    from gandrange_desk.ui.billing.tab import BillingTab
    from gandrange_desk.ui.billing.payments_view import PaymentsView

    tab = BillingTab(responsable_desk)
    qtbot.addWidget(tab)
    assert isinstance(tab.payments_view, PaymentsView)
    assert tab.month() == date(2026, 10, 1)
    tab.table.selectRow(0)
    tab.show_detail()
    assert tab.credit_button.isEnabled()
    opened = []
    monkeypatch.setattr(credit_note_dialog.CreditNoteDialog, "exec",
                        lambda self: opened.append(self.invoice_id) or 0)
    tab.credit_note()
    assert opened == [data["oct"]]


def test_remind_button(qtbot, desk, data, monkeypatch, tmp_path, no_popups):
    from PySide6.QtWidgets import QFileDialog, QLabel

    from gandrange_desk.models import OutboxMessage
    from gandrange_desk.ui.billing.payments_view import PaymentsView

    b.family(desk, "Sansmail", email=None)
    fam = b.family(desk, "Sansmail2", email=None)
    b.invoice(desk, fam, date(2026, 9, 1), [(None, None, "Soir", 2, 300)], due=date(2026, 10, 31))
    view = PaymentsView(desk)
    qtbot.addWidget(view)
    assert view.remind_button.isEnabled()
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    letters = tmp_path / "relances.pdf"
    monkeypatch.setattr(QFileDialog, "getSaveFileName", lambda *a, **k: (str(letters), "PDF (*.pdf)"))
    from gandrange_desk.ui.billing.reminder_dialog import RemindDialog

    shown = []
    monkeypatch.setattr(RemindDialog, "exec", lambda self: shown.append(self.findChild(QLabel).text()) or self.send())
    view.unpaid_view.clearSelection()
    view.remind()
    assert shown[0].startswith("3 factures impayées, prochaine relance :\n– 3 1res relances")
    assert "2 relances envoyées par e-mail ; 1 lettre de relance à imprimer (3 1res relances)." in no_popups[-1]
    assert "Sansmail2" in PdfReader(io.BytesIO(letters.read_bytes())).pages[0].extract_text()
    with desk.read() as s:
        assert s.scalar(select(func.count(OutboxMessage.id)).where(OutboxMessage.kind == "relance")) == 2


def test_reverse_a_payment_from_the_view(qtbot, desk, data, no_popups):
    from gandrange_desk.ui.billing.payments_view import PaymentsView
    from gandrange_desk.ui.billing.reversal_dialog import ReversalDialog

    paid = payments.record_payment(desk, data["fam"], mode="prelevement", received_on=date(2026, 11, 16),
                                   amount_cents=3000, reference="SEPA test")
    view = PaymentsView(desk)
    qtbot.addWidget(view)
    assert view.unpaid_model.rowCount() == 1
    view.tabs.setCurrentIndex(1)
    view.payments_view.selectRow(0)
    assert view.reverse_button.isEnabled()
    dialog = ReversalDialog(desk, view.selected_payment(), view)
    qtbot.addWidget(dialog)
    assert dialog.kind.currentData() == "rejected_debit" and dialog.code.currentText().startswith("AM04")
    dialog.save()  # no reason given: refused, in French, nothing written
    assert "Indiquez la raison" in dialog.error.text()
    dialog.reason.setText("Avis de rejet du 20/11")
    dialog.switch.setChecked(True)
    dialog.new_mode.setCurrentIndex(dialog.new_mode.findData("cheque"))
    dialog.save()
    assert dialog.result() == QDialog.Accepted
    assert "La famille passe au paiement par chèque." in dialog.result_obj.summary()
    view.refresh()
    view.tabs.setCurrentIndex(1)
    view.payments_view.selectRow(0)
    assert view.payments_model.data(view.payments_model.index(0, 8)).startswith(
        "Prélèvement rejeté (AM04 : provision insuffisante) le 26/11/2026")
    assert not view.reverse_button.isEnabled()
    assert view.unpaid_model.rowCount() == 2  # September is due again
    with desk.read() as s:
        assert s.get(Payment, paid.payment_id).reversal_code == "AM04"
