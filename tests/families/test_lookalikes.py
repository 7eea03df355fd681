"""The same household never gets a second file silently: "Nouvelle famille" and a portal
registration show the families that look alike, and the clerk can open the existing one."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from gandrange_desk.models import Family
from gandrange_desk.services.families.lookalikes import look_alikes, phone_key, registration_look_alikes
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.ui.families.file import NewFamilyDialog, new_family
from tests.builders import load_example_settings, make_family


@pytest.fixture
def office(desk):
    load_example_settings(desk)
    make_family(desk, "Müller", ref="F-0001", street="12 rue de l'Église", guardians=[
        {"first_name": "Léa", "last_name": "Müller", "email": "Lea.Muller@example.org", "phone": "06 11 22 33 44"}])
    make_family(desk, "Martin", ref="F-0002", street="3 rue des Roses", guardians=[
        {"first_name": "Paul", "last_name": "Martin", "email": "", "phone": "+33 7 00 00 00 01"}])
    make_family(desk, "Muller", ref="F-0003", street="8 avenue Foch", guardians=[
        {"first_name": "Jean", "last_name": "Muller", "email": "jean@example.org", "phone": ""}])
    return desk


def refs(found):
    return [(f.ref, f.why) for f in found]


def test_name_and_address_email_or_phone_accents_and_formats_ignored(office):
    assert phone_key("+33 6 11 22 33 44") == phone_key("06.11.22.33.44") == "611223344"
    found = look_alikes(office, name="MULLER", street="12 Rue de l Eglise", postcode="57175")
    assert refs(found) == [("F-0001", "même nom et même adresse")]  # not the other Muller, elsewhere
    found = look_alikes(office, name="Dupont", street="1 rue X", emails=["lea.muller@example.org "],
                        phones=["07 00 00 00 01"])
    assert refs(found) == [("F-0002", "même téléphone (07 00 00 00 01)"),
                           ("F-0001", "même e-mail (lea.muller@example.org)")]
    assert look_alikes(office, name="Müller", street="", emails=[""], phones=["12"]) == []


def test_a_registration_shows_its_look_alikes(office):
    intake.import_feed(office, json.dumps({"requests": [{
        "ref": "P-9", "kind": "registration", "submitted_at": "2026-11-20T10:00:00+01:00",
        "family": {"ref": "F-9000", "name": "Muller",
                   "address": {"street": "12 rue de l'église", "postcode": "57175", "city": "Gandrange"},
                   "guardians": [{"first_name": "Léa", "last_name": "Muller", "email": "autre@example.org",
                                  "phone": "0611223344"}],
                   "children": [{"ref": "E-9001", "first_name": "Tom", "last_name": "Muller",
                                 "birth_date": "2019-02-11", "school": "École maternelle", "class": "MS"}]}}]}))
    from gandrange_desk.services import queue

    [item] = queue.pending_items(office)
    found = registration_look_alikes(office, item.id)
    assert refs(found) == [("F-0001", "même nom et même adresse, même téléphone (06 11 22 33 44)")]


def test_new_family_warns_then_opens_the_existing_file(qtbot, office, monkeypatch):
    dialog = NewFamilyDialog(office)
    qtbot.addWidget(dialog)
    dialog.name.setText("Müller")
    dialog.street.setText("12 rue de l'Église")
    dialog.email.setText("lea.muller@example.org")
    dialog.create()
    assert not dialog.lookalikes.isHidden()
    assert dialog.lookalikes.model.rows[0].ref == "F-0001"
    assert dialog.create_button.text() == "Créer &quand même"
    assert dialog.family_id is None  # nothing written yet
    dialog.lookalikes.open_button.click()
    assert dialog.existing_id == dialog.lookalikes.model.rows[0].id and dialog.result() == dialog.DialogCode.Accepted
    with office.read() as s:
        assert s.execute(select(func.count(Family.id))).scalar() == 3

    opened = []
    monkeypatch.setattr("gandrange_desk.ui.families.file.NewFamilyDialog.exec",
                        lambda self: (setattr(self, "existing_id", 1), 1)[1])
    monkeypatch.setattr("gandrange_desk.ui.families.file.open_family_file",
                        lambda desk, family_id, parent=None, on_saved=None: opened.append(family_id))
    new_family(office)
    assert opened == [1]


def test_create_anyway_after_the_warning(qtbot, office):
    dialog = NewFamilyDialog(office)
    qtbot.addWidget(dialog)
    dialog.name.setText("Muller")
    dialog.street.setText("8 avenue Foch")
    dialog.first.setText("Anne")
    dialog.last.setText("Muller")
    dialog.create()
    assert [r.ref for r in dialog.lookalikes.model.rows] == ["F-0003"]
    dialog.create()  # "Créer quand même": the same entries, seen once
    assert dialog.family_id is not None
    with office.read() as s:
        assert s.execute(select(func.count(Family.id))).scalar() == 4
