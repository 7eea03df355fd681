"""Tabs follow each other's operations through the window (`Changes`), without F5.

A tab on screen refreshes at once; a hidden one is marked stale and catches up when shown; the
status bar's counts follow every operation; a refused operation changes nothing anywhere.
"""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import func, select

from gandrange_desk.models import Child, Payment
from gandrange_desk.ui.billing.payments_view import RecordPaymentDialog
from gandrange_desk.ui.main_window import MainWindow
from tests import payments_builders as b
from tests.builders import unit_id
from tests.queue.test_validation_tab import office  # noqa: F401 - the Validation tab's fixture

FAMILIES, RESERVATIONS, VALIDATION, BILLING, MAIL = range(5)


@pytest.fixture
def no_boxes(monkeypatch):
    shown = []
    for name in ("information", "warning"):
        monkeypatch.setattr(QMessageBox, name, lambda *a, **k: shown.append(a[2]) or QMessageBox.Ok)
    return shown


def open_window(qtbot, desk) -> MainWindow:
    window = MainWindow(desk)
    window._sender_timer.stop()  # no background sender: the counts come from the operations
    qtbot.addWidget(window)
    window.resize(1366, 768)
    window.show()
    qtbot.waitUntil(lambda: window.pending_label.text() != "")  # the counts follow the first paint
    return window


def child_id(desk, ref: str) -> int:
    with desk.read() as s:
        return s.execute(select(Child.id).where(Child.ref == ref)).scalar_one()


def quiet(tab):
    tab.messages = []
    tab.inform = lambda title, text: tab.messages.append(text)
    tab.warn = lambda title, text: tab.messages.append(text)
    return tab


def test_decisions_in_validation_reach_the_open_grid_the_counts_and_courriels(qtbot, office, no_boxes):
    window = open_window(qtbot, office)
    window.tabs.setCurrentIndex(RESERVATIONS)
    grid = window.tab_widget(RESERVATIONS)
    mail = window.tab_widget(MAIL)  # built once, then hidden
    assert grid.activity_combo.currentText() == "Périscolaire" and grid.month == date(2026, 5, 1)
    jules, repas = child_id(office, "E-0107"), unit_id(office, "PERISCOLAIRE", "Repas")
    asked = [grid.model.index_of(jules, repas, day) for day in (date(2026, 5, 5), date(2026, 5, 7))]
    assert [i.data() for i in asked] == ["DR", "DR"]
    assert window.pending_label.text() == "8 demandes en attente"
    assert mail.model.rowCount() == 0

    window.tabs.setCurrentIndex(VALIDATION)
    validation = quiet(window.tab_widget(VALIDATION))
    meals = [i for i in validation.model.all_items() if i.kind == "booking" and i.family_ref == "F-0042"]
    assert len(meals) == 2
    validation.accept_items(meals)

    # The status bar follows at once; the hidden grid and Courriels wait to be shown.
    assert window.pending_label.text() == "6 demandes en attente"
    assert window.mail_label.text() == "1 courriel en attente / 0 en échec"
    assert grid.follow.stale and mail.follow.stale
    assert [i.data() for i in asked] == ["DR", "DR"]
    window.tabs.setCurrentIndex(RESERVATIONS)
    assert [i.data() for i in asked] == ["R", "R"] and not grid.follow.stale
    assert grid.model.headerData(asked[0].column(), Qt.Horizontal).endswith("1/110")
    window.tabs.setCurrentIndex(MAIL)
    assert [r.subject for r in mail.model.rows] == ["Demande de réservation acceptée — Périscolaire"]


def test_a_request_asked_in_the_grid_reaches_the_validation_queue(qtbot, office, no_boxes):
    window = open_window(qtbot, office)
    validation = quiet(window.tab_widget(VALIDATION))  # built: it shows the queue as it was
    before = len(validation.model.all_items())
    window.tabs.setCurrentIndex(RESERVATIONS)
    grid = window.tab_widget(RESERVATIONS)
    day = date(2026, 5, 12)
    cell = grid.model.index_of(child_id(office, "E-0107"), unit_id(office, "PERISCOLAIRE", "Repas"), day)
    grid.family_mode.setChecked(True)
    grid.grid.setCurrentIndex(cell)
    grid.run_action("default")
    assert cell.data() == "DR" and grid.message.text().startswith("1 case demandée pour la famille.")
    assert window.pending_label.text() == "9 demandes en attente"
    assert validation.follow.stale
    window.tabs.setCurrentIndex(VALIDATION)
    items = validation.model.all_items()
    assert len(items) == before + 1
    assert [(i.kind, i.family_ref, i.child_name) for i in items if i.day == day] == [
        ("booking", "F-0042", "Jules Keller")]


@pytest.fixture
def owing(desk):
    """The Muller family owes September's invoice: 30,00 €."""
    b.structure(desk)
    units = b.units(desk)
    family = b.family(desk, "Muller")
    child = b.child_ids(desk, family)[0]
    b.invoice(desk, family, date(2026, 9, 1), [(units["Soir"], child, "Soir", 10, 300)], due=date(2026, 10, 31))
    return family


def balance_shown(families, family_id) -> str:
    row = next(i for i, r in enumerate(families.model.rows) if r.id == family_id)
    return b.plain(families.model.index(row, 3).data())


def test_a_payment_reaches_the_families_list_and_the_open_family_file(qtbot, desk, owing, no_boxes, monkeypatch):
    window = open_window(qtbot, desk)
    families = window.tab_widget(FAMILIES)
    assert balance_shown(families, owing) == "30,00 €"
    file = families.open_family(owing)
    qtbot.addWidget(file)
    assert "<b>Solde</b> : 30,00 € (à payer)" in b.plain(file.foyer.facts.text())

    window.tabs.setCurrentIndex(BILLING)
    payments_view = window.tab_widget(BILLING).payments_view
    assert payments_view.unpaid_model.rowCount() == 1

    def pay(dialog):
        dialog.amount.setText("30,00")
        dialog.reference.setText("Chèque 1234567 Crédit Mutuel")
        dialog.save()
        return dialog.result()

    monkeypatch.setattr(RecordPaymentDialog, "exec", pay)
    payments_view.record_payment(owing)
    assert b.plain(no_boxes[-1]).startswith("Paiement de 30,00 € enregistré.")
    # Its own view and the open family file (on screen) follow at once; the hidden list when shown.
    assert payments_view.unpaid_model.rowCount() == 0
    assert "<b>Solde</b> : 0,00 €" in b.plain(file.foyer.facts.text())
    assert families.follow.stale
    window.tabs.setCurrentIndex(FAMILIES)
    assert balance_shown(families, owing) == "—" and families.selected_id() == owing


def test_a_refused_operation_shows_its_text_and_changes_nothing(qtbot, desk, owing, no_boxes):
    window = open_window(qtbot, desk)
    told = []
    window.changesApplied.connect(lambda changes, origin: told.append(changes))
    window.tabs.setCurrentIndex(BILLING)
    dialog = RecordPaymentDialog(desk, window.tab_widget(BILLING).payments_view, owing)
    qtbot.addWidget(dialog)
    dialog.amount.setText("trente euros")
    dialog.save()
    assert dialog.error.text() == "Montant illisible « trente euros » : écrivez par exemple 12,50."
    assert dialog.result_obj is None and told == []
    with desk.read() as s:
        assert s.scalar(select(func.count()).select_from(Payment)) == 0
    assert balance_shown(window.tab_widget(FAMILIES), owing) == "30,00 €"


def test_f5_still_reloads_the_current_tab(qtbot, desk, owing, no_boxes):
    from gandrange_desk.services.billing import payments

    window = open_window(qtbot, desk)
    families = window.tab_widget(FAMILIES)
    # A payment recorded by another workstation sends no Changes here: F5 shows it.
    payments.record_payment(desk, owing, mode="especes", received_on=date(2026, 11, 2), amount_cents=1000)
    assert balance_shown(families, owing) == "30,00 €"
    window.refresh_current()
    assert balance_shown(families, owing) == "20,00 €"
