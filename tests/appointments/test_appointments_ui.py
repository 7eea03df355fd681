"""The Rendez-vous tab (pytest-qt): what the clerk sees and what each button does."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from sqlalchemy import select

from gandrange_desk.models import DeskUser, Family, OutboxMessage
from gandrange_desk.services.appointments import book as ap
from gandrange_desk.ui.appointments.dialogs import BookDialog, CreateSlotsDialog
from gandrange_desk.ui.appointments.tab import AppointmentsTab
from tests.builders import load_example_settings, make_family

DAY = date(2026, 9, 3)


def pdf_text(path) -> str:
    return " ".join(" ".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages).split())


def cells(tab, row: int) -> list[str]:
    m = tab.model
    return [m.data(m.index(row, c)) for c in range(m.columnCount())]


@pytest.fixture
def setup(desk, clock):
    clock.set(2026, 8, 20, 9, 0)
    load_example_settings(desk)
    with desk.unit_of_work() as s:
        s.add(DeskUser(login="sfoncin", full_name="Sandrine Foncin", role="agent"))
        s.add(DeskUser(login="nbecker", full_name="Nathalie Becker", role="responsable"))
    ap.create_slots(desk, DAY, DAY, start="14:00", end="15:00", clerk_logins=["sfoncin"])
    family = make_family(desk, "Keller", acknowledgement_returned=False, portal_state="to_create", guardians=[
        {"first_name": "Sophie", "last_name": "Keller", "email": "sophie.keller@example.org", "phone": "06 11 22 33 44"}])
    return family


def auto(dialog, accept):
    """Replace a dialog's exec: fill it, press its button, return what exec would."""
    def run():
        accept(dialog)
        return dialog.result()
    dialog.exec = run
    return dialog


def test_clerk_books_a_family_and_works_through_the_appointment(qtbot, setup, agent_desk, clock, desk):
    family = setup
    tab = AppointmentsTab(agent_desk)
    qtbot.addWidget(tab)
    shown = []
    tab.show_file = shown.append
    assert tab.create_button.isHidden()  # slots are the supervisor's
    assert tab.day_combo.count() == 22  # the working days of September 2026
    assert tab.day_combo.currentText() == "mar. 01/09/2026 — aucun créneau"
    assert tab.detail.text() == "Aucun créneau ce jour-là."
    assert tab.select_day(DAY)
    assert tab.day_combo.currentText() == "jeu. 03/09/2026 — 0/2 réservé"
    assert cells(tab, 0)[:5] == ["14:00", "Sandrine Foncin", "— libre —", "", "Libre"]
    assert tab.book_button.isEnabled() and not tab.family_button.isEnabled()

    # Enter on a free slot opens the booking dialog; the family is found by a child's name.
    opened = []

    def make(slot):
        dialog = BookDialog(agent_desk, slot, tab)
        opened.append(dialog)

        def fill(d):
            d.search.setText("léa kel")
            d.run_search()
            d.notes.setText("Deux enfants")
            d.accept_booking()
        return auto(dialog, fill)
    tab.make_book_dialog = make
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key_Return)
    assert opened and opened[0].found.text() == "1 famille trouvée"
    assert tab.status.text().startswith("Rendez-vous du jeudi 3 septembre 2026 à 14h00 réservé pour la famille Keller.")
    assert cells(tab, 0) == ["14:00", "Sandrine Foncin", f"Keller ({family.ref})", "06 11 22 33 44", "Réservé",
                             "⚠ non rendu", "À créer", "Deux enfants"]
    assert tab.day_combo.currentText() == "jeu. 03/09/2026 — 1/2 réservé"
    with desk.read() as s:
        [mail] = s.execute(select(OutboxMessage)).scalars().all()
    assert mail.subject == "Rendez-vous au bureau périscolaire le jeudi 3 septembre 2026 à 14h00"
    assert not tab.done_button.isEnabled()  # once the time has come
    assert tab.family_button.text() == "&Ouvrir la fiche famille"

    # The acknowledgement to sign names the guardian; then it comes back signed.
    tab.ack_print_button.click()
    assert "Je soussigné(e) Sophie Keller atteste avoir pris connaissance de la notice" in pdf_text(shown[-1])
    assert "À Gandrange, le __/__/____" in pdf_text(shown[-1])
    tab.print_acks_button.click()
    assert tab.status.text() == "1 accusé de réception prêt à imprimer : le document est ouvert pour l'impression."
    assert "Je soussigné(e) Sophie Keller atteste" in pdf_text(shown[-1])
    tab.ack_button.click()
    assert cells(tab, 0)[5] == "✓ rendu" and tab.ack_button.text() == "Accusé non ren&du"
    with desk.read() as s:
        assert s.get(Family, family.id).acknowledgement_returned is True

    # The portal account: credentials by e-mail (the file's version moved with the acknowledgement).
    tab.credentials_button.click()
    assert tab.status.text().startswith("Identifiants envoyés par e-mail à sophie.keller@example.org")
    assert cells(tab, 0)[6] == "Envoyé"

    # The year's bookings: the period dialog for the family's children, in "pour la famille" mode.
    dialog = tab.make_period_dialog(tab.current())
    assert dialog.for_family and dialog.children == [(family.children[0].id, "Léa Keller")]
    assert dialog.activity.count() >= 1
    dialog.deleteLater()

    tab.print_day_button.click()
    assert "Rendez-vous du jeudi 3 septembre 2026" in pdf_text(shown[-1])
    assert f"Keller ({family.ref})" in pdf_text(shown[-1])

    # The day comes: "Terminé".
    clock.set(2026, 9, 3, 14, 20)
    tab.refresh()
    assert tab.selected_day() == DAY and tab.current().family_id == family.id
    assert tab.done_button.isEnabled()
    tab.done_button.click()
    assert cells(tab, 0)[4] == "Terminé" and not tab.done_button.isEnabled() and tab.missed_button.isEnabled()


def test_visitor_and_refusals_show_in_the_status_line(qtbot, setup, agent_desk, desk):
    tab = AppointmentsTab(agent_desk)
    qtbot.addWidget(tab)
    assert tab.select_day(DAY)
    tab.table.setCurrentIndex(tab.model.index(1, 0))
    slot = tab.current()

    def visitor(d):
        d.visitor_radio.setChecked(True)
        d.visitor_name.setText("Nadia Haddad")
        d.visitor_phone.setText("12")
        d.accept_booking()
        assert "n'est pas un numéro de téléphone français" in d.error.text()
        d.visitor_phone.setText("0612345678")
        d.accept_booking()
    tab.make_book_dialog = lambda s: auto(BookDialog(agent_desk, s, tab), visitor)
    tab.book()
    assert cells(tab, 1)[2:6] == ["Nadia Haddad (visiteur)", "06 12 34 56 78", "Réservé", ""]
    assert tab.family_button.text() == "Créer la &fiche famille…"
    assert not tab.credentials_button.isEnabled() and tab.ack_print_button.isEnabled()

    # Another workstation cancels meanwhile: the stale button press is refused, the day reloaded.
    row = tab.current()
    ap.cancel_booking(desk, row.id, row.version)
    tab.confirm = lambda *_: True
    tab.cancel()
    assert "a été modifiée par systeme" in tab.status.text()
    assert cells(tab, 1)[4] == "Libre"
    with desk.read() as s:
        assert s.execute(select(OutboxMessage)).first() is None  # visitors get no e-mail
    assert slot.id == row.id


def test_supervisor_creates_slots(qtbot, setup, responsable_desk, desk):
    tab = AppointmentsTab(responsable_desk)
    qtbot.addWidget(tab)
    assert not tab.create_button.isHidden()

    def create(d: CreateSlotsDialog):
        d.set_clerks([])
        d.accept_create()
        assert "Agents : choisissez au moins un agent qui reçoit les familles." in d.error.text()
        d.first.setDate(d.first.date().fromString("2026-09-07", "yyyy-MM-dd"))
        d.last.setDate(d.last.date().fromString("2026-09-13", "yyyy-MM-dd"))
        d.set_clerks(["sfoncin", "nbecker"])
        d.accept_create()
    tab.make_create_dialog = lambda: auto(CreateSlotsDialog(responsable_desk, tab), create)
    tab.create_slots()
    # Mon 7 to Fri 11: 9:00-17:00 less the 12:00-13:30 pause = 13 slots, for two clerks.
    assert tab.status.text().startswith("130 créneaux créés sur 5 jours.")
    assert "2 jours sautés : 12/09 (week-end), 13/09 (week-end)." in tab.status.text()
    assert tab.select_day(date(2026, 9, 7))
    assert tab.model.rowCount() == 26 and cells(tab, 0)[:2] == ["09:00", "Sandrine Foncin"]
    assert cells(tab, 1)[:2] == ["09:00", "Nathalie Becker"]
    assert [cells(tab, r)[0] for r in range(0, 26, 2)][5:7] == ["11:30", "13:30"]


def test_notes_and_withdrawing_a_free_slot(qtbot, setup, responsable_desk):
    tab = AppointmentsTab(responsable_desk)
    qtbot.addWidget(tab)
    assert tab.select_day(DAY)
    tab.table.setCurrentIndex(tab.model.index(1, 0))
    assert tab.withdraw_button.isEnabled() and not tab.notes_button.isEnabled()
    tab.confirm = lambda *_: True
    tab.withdraw()
    assert tab.status.text() == "Créneau de 14:30 (Sandrine Foncin) retiré du planning."
    assert tab.model.rowCount() == 1 and tab.day_combo.currentText() == "jeu. 03/09/2026 — 0/1 réservé"
    slot = tab.model.rows[0]
    ap.book(responsable_desk, slot.id, slot.version, visitor_name="Nadia Haddad", visitor_phone="0612345678")
    tab.refresh()
    assert tab.notes_button.isEnabled() and not tab.withdraw_button.isEnabled()
    tab.ask_notes = lambda current: current + "Rappeler la veille"
    tab.edit_notes()
    assert cells(tab, 0)[7] == "Rappeler la veille"


def test_family_file_period_booking_and_visitor_registration(qtbot, setup, agent_desk, desk, monkeypatch):
    family = setup
    tab = AppointmentsTab(agent_desk)
    qtbot.addWidget(tab)
    assert tab.select_day(DAY)
    first, second = tab.model.rows
    ap.book(agent_desk, first.id, first.version, family_id=family.id)
    ap.book(agent_desk, second.id, second.version, visitor_name="Nadia Haddad", visitor_phone="0612345678")
    tab.refresh()

    # Enter on a booked family's slot opens its file (non-modal).
    tab.table.setCurrentIndex(tab.model.index(0, 0))
    tab.table.setFocus()
    qtbot.keyClick(tab.table, Qt.Key_Return)
    [dialog] = tab.open_dialogs
    assert dialog.family_id == family.id and dialog.isVisible()
    dialog.close()

    # The year's bookings as requests "pour la famille" (DR), from the period dialog.
    def period(r):
        d = real_period(r)
        d.first.setDate(d.first.date().fromString("2026-09-07", "yyyy-MM-dd"))
        d.last.setDate(d.last.date().fromString("2026-09-11", "yyyy-MM-dd"))
        d.exec = lambda: (d.book(), d.result())[1]
        return d
    real_period = tab.make_period_dialog
    tab.make_period_dialog = period
    tab.book_period()
    assert tab.status.text().startswith("Famille Keller : 4 cases demandées pour la famille"), tab.status.text()

    # The visitor registers at the desk: the new file is attached to the appointment.
    created = make_family(desk, "Haddad")
    calls = []

    def fake_new_family(desk_, parent=None, on_saved=None):
        calls.append(parent)
        on_saved(created.id)
        return None
    monkeypatch.setattr("gandrange_desk.ui.families.file.new_family", fake_new_family)
    tab.table.setCurrentIndex(tab.model.index(1, 0))
    assert tab.family_button.text() == "Créer la &fiche famille…"
    tab.family_button.click()
    assert calls == [tab]
    assert tab.status.text() == "Fiche créée : le rendez-vous de 14:30 est rattaché à la famille Haddad."
    assert cells(tab, 1)[2] == f"Haddad ({created.ref})" and tab.family_button.text() == "&Ouvrir la fiche famille"


def test_credentials_letter_for_a_family_without_email(qtbot, setup, agent_desk, desk):
    lonely = make_family(desk, "Schmitt", portal_state="to_create", guardians=[
        {"first_name": "Paul", "last_name": "Schmitt", "email": "", "phone": "03 87 11 22 33"}])
    tab = AppointmentsTab(agent_desk)
    qtbot.addWidget(tab)
    shown = []
    tab.show_file = shown.append
    assert tab.select_day(DAY)
    slot = tab.model.rows[0]
    result = ap.book(agent_desk, slot.id, slot.version, family_id=lonely.id)
    assert result.emailed_to == () and result.summary.endswith(
        "Pas d'adresse e-mail : prévenez la famille par téléphone.")
    tab.refresh()
    assert "E-mail : aucun (lettre à imprimer)" in tab.detail.text()
    tab.credentials_button.click()
    assert tab.status.text().startswith("Pas d'adresse e-mail : la lettre avec les identifiants est à imprimer")
    assert shown and shown[-1].name == f"identifiants-{lonely.ref}.pdf"
    assert "Identifiant : " in pdf_text(shown[-1])
    with desk.read() as s:
        assert s.execute(select(OutboxMessage)).first() is None
