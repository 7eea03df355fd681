"""The Validation tab: grouped view, keyboard decisions, refusal reason, billing override,
registrations, family changes field by field, and the feed import (button and drop)."""

from __future__ import annotations

import json
import os
from datetime import date

import pytest
from PySide6.QtCore import QMimeData, QPoint, Qt, QUrl
from PySide6.QtGui import QDropEvent
from sqlalchemy import select

from gandrange_desk.models import Booking, CellState, Family, OutboxMessage, Request
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.ui.validation.model import FAMILY, LINE
from gandrange_desk.ui.validation.tab import ValidationTab
from tests.builders import load_example_settings, make_family
from tests.queue.test_queue import _reserve

SHOTS = os.environ.get("GD_SHOTS")  # set to a folder to keep screenshots


@pytest.fixture
def office(desk, clock):
    clock.set(2026, 5, 4, 10, 0)
    load_example_settings(desk)
    make_family(desk, "Keller", ref="F-0042", guardians=[
        {"first_name": "Sophie", "last_name": "Keller", "email": "sophie.keller@example.org"}],
        children=[{"ref": "E-0107", "first_name": "Jules", "birth_date": date(2019, 5, 2)}])
    make_family(desk, "Muller", ref="F-0050", children=[{"ref": "E-0200", "first_name": "Léa"}])
    _reserve(desk, "E-0107", "MERCREDI", "Journée complète", [date(2026, 5, 6), date(2026, 5, 13), date(2026, 5, 20)])
    feed = {"requests": [
        {"ref": "P-1", "kind": "booking", "submitted_at": "2026-05-04T08:00:00+02:00", "family_ref": "F-0042",
         "child_ref": "E-0107", "activity": "PERISCOLAIRE", "unit": "Repas", "dates": ["2026-05-05", "2026-05-07"]},
        {"ref": "P-2", "kind": "cancellation", "submitted_at": "2026-05-04T09:00:00+02:00", "family_ref": "F-0042",
         "child_ref": "E-0107", "activity": "MERCREDI", "unit": "Journée complète",
         "dates": ["2026-05-06", "2026-05-13", "2026-05-20"]},
        {"ref": "P-3", "kind": "booking", "submitted_at": "2026-04-30T08:00:00+02:00", "family_ref": "F-0050",
         "child_ref": "E-0200", "activity": "PERISCOLAIRE", "unit": "Accueil soir", "dates": ["2026-05-11"]},
        {"ref": "P-4", "kind": "family_change", "submitted_at": "2026-05-01T12:00:00+02:00", "family_ref": "F-0050",
         "changes": {"guardians[0].phone": "06 99 88 77 66", "address.city": "Rombas"}},
        {"ref": "P-5", "kind": "registration", "submitted_at": "2026-05-02T20:14:00+02:00",
         "family": {"ref": "F-1001", "name": "Weber",
                    "address": {"street": "4 rue des Tilleuls", "postcode": "57175", "city": "Gandrange"},
                    "guardians": [{"first_name": "Anne", "last_name": "Weber", "email": "anne.weber@example.org",
                                   "phone": "06 11 22 33 44"}],
                    "children": [{"ref": "E-2001", "first_name": "Tom", "last_name": "Weber",
                                  "birth_date": "2020-02-11", "school": "École maternelle", "class": "MS"}]}},
    ]}
    intake.import_feed(desk, json.dumps(feed))
    return desk


@pytest.fixture
def tab(office, qtbot):
    widget = ValidationTab(office)
    qtbot.addWidget(widget)
    widget.resize(1400, 850)
    widget.messages = []
    widget.inform = lambda title, text: widget.messages.append(("info", text))
    widget.warn = lambda title, text: widget.messages.append(("warn", text))
    widget.confirm = lambda title, text: True
    return widget


def shot(widget, name):
    if SHOTS:
        os.makedirs(SHOTS, exist_ok=True)
        widget.grab().save(os.path.join(SHOTS, f"{name}.png"))


def family_labels(tab):
    return [tab.model.data(tab.model.index(r, 0)) for r in range(tab.model.rowCount())]


def cells(desk):
    with desk.read() as s:
        return dict(((c, u, d), st) for c, u, d, st in s.execute(
            select(Booking.child_id, Booking.unit_id, Booking.day, Booking.state)).all())


def outbox(desk):
    with desk.read() as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def test_grouped_view_with_counts(tab):
    shot(tab, "validation")
    assert family_labels(tab) == ["Keller (F-0042) — 5 demandes", "Muller (F-0050) — 2 demandes",
                                  "Weber (F-1001) — 1 demande"]
    keller = tab.model.index(0, 0)
    activities = [tab.model.data(tab.model.index(r, 0, keller)) for r in range(tab.model.rowCount(keller))]
    assert activities == ["MERCREDI — 3 demandes", "Périscolaire — 2 demandes"]
    assert tab.status.text() == "8 demandes en attente — 3 familles — 2 hors délai"
    assert tab.tree.currentIndex().isValid()  # first line selected: the keyboard works at once


def test_keyboard_accept_refuse_next_family(tab, office, qtbot):
    changed = []
    tab.queueChanged.connect(lambda: changed.append(True))
    tab.tree.setFocus()
    item = tab.current_item()
    assert (item.family_ref, item.kind) == ("F-0042", "cancellation")
    qtbot.keyClick(tab.tree, Qt.Key_N)
    assert tab.current_item().family_ref == "F-0050"
    qtbot.keyClick(tab.tree, Qt.Key_N)
    assert tab.current_item().family_ref == "F-1001"
    qtbot.keyClick(tab.tree, Qt.Key_N)
    assert tab.current_item().family_ref == "F-0042"
    qtbot.keyClick(tab.tree, Qt.Key_Down)
    qtbot.keyClick(tab.tree, Qt.Key_A)  # accepts the 13/05 cancellation only
    with office.read() as s:
        decided = s.execute(select(Request.day).where(Request.status == "accepted", Request.kind == "cancellation")).scalars().all()
    assert decided == [date(2026, 5, 13)]
    tab.ask_reason = lambda count: "Plus de place disponible."
    qtbot.keyClick(tab.tree, Qt.Key_R)
    with office.read() as s:
        refused = s.execute(select(Request.ref, Request.reason).where(Request.status == "refused")).all()
    assert len(refused) == 1 and refused[0].reason == "Plus de place disponible."
    # Decided one by one in the same family and activity: one e-mail, held for the next ones.
    [mail] = outbox(office)
    assert "a été acceptée" in mail.body_text and "Plus de place disponible." in mail.body_text
    assert mail.next_attempt_at > office.now()
    assert "Envoi différé jusqu'à" in tab.status.text()
    assert changed == [True, True]
    qtbot.keyClick(tab.tree, Qt.Key_N)  # leaving the family sends it now
    [mail] = outbox(office)
    assert (mail.next_attempt_at, mail.announce_key) == (office.now(), None)


def test_refusal_without_reason_does_nothing(tab, office, qtbot):
    tab.ask_reason = lambda count: None
    tab.tree.setFocus()
    qtbot.keyClick(tab.tree, Qt.Key_R)
    assert outbox(office) == [] and "8 demandes" in tab.status.text()


def test_billing_override_per_date_then_family_accept(tab, office, qtbot):
    tab.tree.setFocus()
    first = tab.current_item()
    assert (first.day, first.proposed_billing) == (date(2026, 5, 6), "billed")
    tab.ask_billing = lambda item: ("excused", "Certificat médical")
    qtbot.keyClick(tab.tree, Qt.Key_F)
    index = tab.model.index_of(first.id)
    assert tab.model.data(index.siblingAtColumn(7)) == "excusée (au lieu de facturée) — Certificat médical"
    shot(tab, "validation_override")
    tab.accept_family()
    mails = outbox(office)
    mercredi = next(m for m in mails if "MERCREDI" in m.subject)
    assert "Journée complète\n3 annulations excusées les : 06/05, 13/05, 20/05\n" in mercredi.body_text
    peri = next(m for m in mails if "Périscolaire" in m.subject)
    assert "Repas\n2 réservations acceptées les : 05/05, 07/05\n" in peri.body_text
    assert family_labels(tab) == ["Muller (F-0050) — 2 demandes", "Weber (F-1001) — 1 demande"]
    with office.read() as s:
        reason = s.execute(select(Request.billing_override_reason).where(Request.id == first.id)).scalar()
    assert reason == "Certificat médical"


def test_registration_detail_and_acceptance(tab, office):
    tab.next_family()
    tab.next_family()
    item = tab.current_item()
    assert item.kind == "registration"
    assert tab.detail.currentIndex() == 1
    text = tab.registration_view.toPlainText()
    assert "Inscription — famille Weber (F-1001)" in text and "Tom Weber (E-2001), né(e) le 11/02/2020" in text
    shot(tab, "validation_registration")
    tab.accept_selected()
    with office.read() as s:
        family = s.execute(select(Family).where(Family.ref == "F-1001")).scalar_one()
        assert family.portal_login == "anne.weber@example.org"
    assert "Mot de passe provisoire" in outbox(office)[0].body_text


def test_family_change_side_by_side_field_by_field(tab, office):
    tab.next_family()
    index = tab.model.index_of(next(i.id for i in tab.model.all_items() if i.kind == "family_change"))
    tab.tree.setCurrentIndex(index)
    assert tab.detail.currentIndex() == 2
    m = tab.change_model
    rows = [[m.data(m.index(r, c)) for c in range(1, 4)] for r in range(m.rowCount())]
    assert rows == [["Téléphone de Claire Muller", "06 12 34 56 78", "06 99 88 77 66"],
                    ["Adresse — commune", "Gandrange", "Rombas"]]
    shot(tab, "validation_family_change")
    m.toggle(1)  # untick the city
    tab.change_reason.setText("Justificatif de domicile manquant.")
    tab.accept_checked_fields()
    with office.read() as s:
        family = s.execute(select(Family).where(Family.ref == "F-0050")).scalar_one()
        assert (family.city, family.guardians[0].phone) == ("Gandrange", "06 99 88 77 66")
    assert "Modifications non retenues :\nAdresse — commune\nMotif : Justificatif de domicile manquant." \
        in outbox(office)[0].body_text


def test_filters_and_accept_all_shown(tab, office, qtbot):
    tab.kind.setCurrentIndex(1)  # Réservations
    assert [i.kind for i in tab.model.all_items()] == ["booking"] * 3
    tab.search.setText("muller")
    qtbot.waitUntil(lambda: len(tab.model.all_items()) == 1, timeout=10_000)
    tab.accept_all_shown()
    tab.search.setText("")
    tab.kind.setCurrentIndex(0)
    qtbot.waitUntil(lambda: len(tab.model.all_items()) == 7 and not tab._search_timer.isActive(), timeout=10_000)


def test_import_feed_from_file_and_drop(tab, office, tmp_path):
    path = tmp_path / "portail.json"
    path.write_text(json.dumps({"requests": [
        {"ref": "P-9", "kind": "booking", "submitted_at": "2026-05-04T09:30:00+02:00", "family_ref": "F-0050",
         "child_ref": "E-0200", "activity": "PERISCOLAIRE", "unit": "Repas", "dates": ["2026-05-12"]}]}), encoding="utf-8")
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(path))])
    event = QDropEvent(QPoint(10, 10), Qt.CopyAction, mime, Qt.LeftButton, Qt.NoModifier)
    tab.dropEvent(event)
    assert tab.messages[-1] == ("info", "Flux importé : 1 entrée importée, 1 demande de case.")
    assert "9 demandes en attente" in tab.status.text()
    bad = tmp_path / "bad.json"
    bad.write_text('{"requests": [{"ref": "P-10", "kind": "booking"}]}', encoding="utf-8")
    assert tab.import_feed_file(str(bad)) is None
    kind, text = tab.messages[-1]
    assert kind == "warn" and "Entrée P-10 : « submitted_at » manquant." in text


def test_refusal_dialog_needs_a_reason(qtbot):
    from PySide6.QtWidgets import QDialogButtonBox

    from gandrange_desk.ui.validation.dialogs import RefusalDialog

    dialog = RefusalDialog(3)
    qtbot.addWidget(dialog)
    ok = dialog.buttons.button(QDialogButtonBox.Ok)
    assert not ok.isEnabled()
    dialog.reason.setCurrentIndex(0)
    assert ok.isEnabled() and dialog.text() == "Plus de place disponible."
    dialog.reason.setEditText("  Enfant   malade  ")
    assert dialog.text() == "Enfant malade"


def test_billing_dialog_opens_on_the_proposal_and_needs_a_reason_only_against_it(tab, qtbot):
    from dataclasses import replace

    from PySide6.QtWidgets import QDialogButtonBox

    from gandrange_desk.ui.validation.dialogs import BillingDialog

    item = tab.current_item()  # 06/05, proposed facturée (late)
    dialog = BillingDialog(item)
    qtbot.addWidget(dialog)
    assert dialog.billed.isChecked()
    assert dialog.buttons.button(QDialogButtonBox.Ok).isEnabled()  # keeping the proposal needs no reason
    dialog.excused.setChecked(True)
    assert not dialog.buttons.button(QDialogButtonBox.Ok).isEnabled()
    dialog.reason.setText("Certificat médical")
    assert dialog.choice() == ("excused", "Certificat médical")

    # The clerk's report: an on-time cancellation, a reason typed, Entrée — it stays excusée.
    on_time = replace(item, late=False, proposed_billing="excused")
    dialog = BillingDialog(on_time)
    qtbot.addWidget(dialog)
    dialog.show()
    dialog.reason.setFocus()
    dialog.reason.setText("certificat médical reçu")  # typed (keyClicks aborts Qt on accents offscreen)
    qtbot.keyClick(dialog.reason, Qt.Key_Return)
    assert dialog.result() == BillingDialog.Accepted
    assert dialog.choice() == ("excused", "certificat médical reçu")


def test_the_pane_says_the_billing_chosen_with_the_right_elision(tab, qtbot):
    tab.tree.setFocus()
    first = tab.current_item()  # proposed facturée
    tab.ask_billing = lambda item: ("excused", "Certificat médical")
    qtbot.keyClick(tab.tree, Qt.Key_F)
    text = tab.detail_info.text()
    assert "Facturation choisie : <b>excusée</b> au lieu de facturée — motif : Certificat médical" in text
    assert "Facturation proposée" not in text
    assert tab.model.data(tab.model.index_of(first.id).siblingAtColumn(7)) == \
        "excusée (au lieu de facturée) — Certificat médical"


def test_keyboard_whole_family_and_group_row(tab, office, qtbot):
    tab.tree.setFocus()
    qtbot.keyClick(tab.tree, Qt.Key_A, Qt.ShiftModifier)  # Keller: 5 requests, 2 e-mails
    assert family_labels(tab) == ["Muller (F-0050) — 2 demandes", "Weber (F-1001) — 1 demande"]
    assert len(outbox(office)) == 2
    tab.tree.setCurrentIndex(tab.model.index(0, 0))  # the Muller group row itself
    from PySide6.QtCore import QItemSelectionModel

    tab.tree.selectionModel().select(tab.model.index(0, 0), QItemSelectionModel.ClearAndSelect
                                     | QItemSelectionModel.Rows)
    tab.ask_reason = lambda count: f"{count} refus"
    qtbot.keyClick(tab.tree, Qt.Key_R)
    assert family_labels(tab) == ["Weber (F-1001) — 1 demande"]
    with office.read() as s:
        assert set(s.execute(select(Request.reason).where(Request.status == "refused")).scalars()) == {"2 refus"}


def test_tree_and_field_models_pass_the_model_tester(tab, qtmodeltester):
    qtmodeltester.check(tab.model)
    tab.next_family()
    tab.tree.setCurrentIndex(tab.model.index_of(
        next(i.id for i in tab.model.all_items() if i.kind == "family_change")))
    qtmodeltester.check(tab.change_model)


def test_three_presses_of_a_in_one_family_make_one_email_the_outbox_shows_held(tab, office, qtbot):
    from gandrange_desk.ui.mail.view import MailView

    tab.tree.setFocus()
    for _ in range(3):  # the three MERCREDI cancellations of the Keller family, one by one
        assert tab.current_item().activity_code == "MERCREDI"
        qtbot.keyClick(tab.tree, Qt.Key_A)
    [mail] = outbox(office)
    assert "2 annulations excusées les : 13/05, 20/05" in mail.body_text
    assert "1 annulation facturée le : 06/05" in mail.body_text
    assert mail.next_attempt_at > office.now()
    view = MailView(office)
    qtbot.addWidget(view)
    [row] = view.model.rows
    assert view.model.data(view.model.index(0, 6)).startswith("Envoi différé jusqu'à ")
    assert "dont 1 différé" in view.summary.text()
    # Still in the family (its Périscolaire line): nothing leaves; the next family: it leaves.
    assert tab.current_item().family_ref == "F-0042"
    qtbot.keyClick(tab.tree, Qt.Key_N)
    [mail] = outbox(office)
    assert mail.next_attempt_at == office.now() and mail.announce_key is None
    view.refresh()
    assert view.model.data(view.model.index(0, 6)) == ""


def test_a_grouped_decision_is_never_held(tab, office, qtbot):
    tab.tree.setFocus()
    qtbot.keyClick(tab.tree, Qt.Key_A)  # one line: held
    qtbot.keyClick(tab.tree, Qt.Key_A, Qt.ShiftModifier)  # the rest of the family at once
    mails = outbox(office)
    assert len(mails) == 2  # MERCREDI (with the held line joined) and Périscolaire
    assert all(m.next_attempt_at == office.now() and m.announce_key is None for m in mails)
    assert "2 annulations excusées les : 13/05, 20/05" in mails[0].body_text


def test_tout_accepter_counts_what_it_includes(tab):
    asked = []
    tab.confirm = lambda title, text: asked.append(text) or False
    tab.accept_all_shown()
    [text] = asked
    assert text.startswith("Accepter les 8 demandes affichées et envoyer les courriels ?")
    assert "– 3 annulations, dont 1 facturée (hors délai)" in text
    assert "– 2 demandes hors délai" in text
    assert "– 1 inscription : création de la famille et de son compte du portail" in text
    assert "– 1 modification de famille : tous les champs demandés acceptés" in text


def test_a_registration_names_the_families_that_look_alike(office, qtbot):
    make_family(office, "Weber", ref="F-0077", guardians=[
        {"first_name": "Anne", "last_name": "Weber", "email": "ANNE.WEBER@example.org"}])
    widget = ValidationTab(office)
    qtbot.addWidget(widget)
    registration = next(i for i in widget.model.all_items() if i.kind == "registration")
    widget.tree.setCurrentIndex(widget.model.index_of(registration.id))
    text = widget.registration_view.toPlainText()
    assert "1 famille existante ressemble à cette inscription" in text
    assert "Weber (F-0077)" in text and "même e-mail (anne.weber@example.org)" in text


def test_a_new_child_and_a_pickup_person_shown_and_accepted_in_the_tab(office, qtbot):
    intake.import_feed(office, json.dumps({"requests": [
        {"ref": "P-9", "kind": "family_change", "submitted_at": "2026-05-03T12:00:00+02:00", "family_ref": "F-0042",
         "changes": {"children[+1]": {"first_name": "Lina", "last_name": "Keller", "birth_date": "2022-01-15",
                                      "school": "École maternelle"},
                     "children[E-0107].pickups[+1]": {"name": "Odile Keller", "relation": "Grand-mère",
                                                      "phone": "0610101010"}}}]}))
    tab = ValidationTab(office)
    qtbot.addWidget(tab)
    tab.warn = lambda title, text: None
    item = next(i for i in tab.model.all_items() if i.kind == "family_change" and i.ref == "P-9")
    tab.tree.setCurrentIndex(tab.model.index_of(item.id))
    m = tab.change_model
    rows = [[m.data(m.index(r, c)) for c in range(1, 4)] for r in range(m.rowCount())]
    assert rows == [["Nouvel enfant", "—", "Lina Keller, né(e) le 15/01/2022, École maternelle"],
                    ["Nouvelle personne autorisée pour Jules Keller", "—", "Odile Keller (Grand-mère), 06 10 10 10 10"]]
    m.toggle(1)  # untick the pick-up person
    tab.change_reason.setText("Pièce d'identité à fournir.")
    tab.accept_checked_fields()
    with office.read() as s:
        family = s.execute(select(Family).where(Family.ref == "F-0042")).scalar_one()
        assert sorted(c.first_name for c in family.children) == ["Jules", "Lina"]
        assert [p.name for c in family.children for p in c.pickup_persons] == []
