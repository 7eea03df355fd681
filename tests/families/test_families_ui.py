"""The Familles tab and the family file, driven as a clerk would (pytest-qt)."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox

from gandrange_desk.services.families import file as fam
from gandrange_desk.services.context import Actor
from gandrange_desk.ui.families import docs as family_docs
from gandrange_desk.ui.families.tab import FamiliesTab
from gandrange_desk.ui.families.file import FamilyFileDialog
from tests.builders import make_family

CLERK_A = Actor("sfoncin", "Sandrine Foncin", "agent")
CLERK_B = Actor("jdupont", "Julie Dupont", "agent")


@pytest.fixture(autouse=True)
def no_modal(monkeypatch):
    """No blocking message box nor system viewer in tests."""
    monkeypatch.setattr(QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.Yes))
    shown = []
    monkeypatch.setattr(family_docs, "show_file", shown.append)
    return shown


@pytest.fixture
def families(desk):
    muller = make_family(desk, "Müller", guardians=[
        {"first_name": "Léa", "last_name": "Müller", "email": "lea.muller@example.org", "phone": "06 11 22 33 44"}],
        children=[{"first_name": "Zoé", "birth_date": date(2017, 3, 2), "allergies": "Arachide", "pai": True}])
    make_family(desk, "Martin")
    make_family(desk, "Weber", quotient=None, acknowledgement_returned=False)
    return muller


def open_file(qtbot, desk, family_id) -> FamilyFileDialog:
    dialog = FamilyFileDialog(desk, family_id)
    qtbot.addWidget(dialog)
    dialog.show()
    return dialog


def test_search_as_you_type_then_keyboard_opens_the_file(qtbot, desk, families):
    tab = FamiliesTab(desk)
    qtbot.addWidget(tab)
    tab.show()
    assert tab.model.rowCount() == 3 and tab.status.text().startswith("3 familles")
    weber = next(r for r in tab.model.rows if r.name == "Weber")
    ack_col = 7
    assert tab.model.data(tab.model.index(tab.model.rows.index(weber), ack_col)) == "⚠ non rendu"
    tab.search.setFocus()
    qtbot.keyClicks(tab.search, "lea MULLER")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 1, timeout=10_000)
    assert tab.model.rows[0].name == "Müller" and tab.status.text() == "1 famille"
    qtbot.keyClick(tab.search, Qt.Key_Down)
    assert tab.view.hasFocus() and tab.selected_id() == families.id
    qtbot.keyClick(tab.view, Qt.Key_Return)
    dialog = tab.open_dialogs[families.id]
    qtbot.addWidget(dialog)
    assert dialog.title.text() == f"Famille Müller — {families.ref}"
    assert dialog.foyer.name.text() == "Müller"
    tab.search.clear()
    qtbot.keyClicks(tab.search, "zzzz")
    qtbot.waitUntil(lambda: tab.model.rowCount() == 0, timeout=10_000)
    assert tab.status.text() == "0 famille"


def test_bad_email_is_shown_beside_the_field_and_nothing_written(qtbot, desk, families):
    dialog = open_file(qtbot, desk, families.id)
    before = fam.get_family(desk, families.id)
    dialog.tabs.setCurrentWidget(dialog.foyer)
    dialog.foyer.street.setText("")
    qtbot.keyClicks(dialog.foyer.street, "8 rue du Moulin")
    dialog.tabs.setCurrentWidget(dialog.guardians)
    email = dialog.guardians.email
    email.clear()
    qtbot.keyClicks(email, "lea.muller@exemple")
    assert dialog.tabs.tabText(1) == "Responsables *"
    qtbot.mouseClick(dialog.save_btn, Qt.LeftButton)
    assert dialog.guardians.form.error_text("email").startswith("E-mail du responsable 1 : « lea.muller@exemple »")
    assert dialog.tabs.currentIndex() == dialog.pages.index(dialog.guardians)
    assert dialog.banner.isVisible() and "rien n'a été enregistré" in dialog.banner.label.text()
    after = fam.get_family(desk, families.id)
    assert after.version == before.version and after.street == before.street
    assert after.guardians[0].email == "lea.muller@example.org"
    # Corrected, the same save goes through: both tabs' edits in one transaction.
    email.clear()
    qtbot.keyClicks(email, "lea.muller@exemple.fr")
    qtbot.mouseClick(dialog.save_btn, Qt.LeftButton)
    assert dialog.banner.label.text() == "Fiche enregistrée."
    assert dialog.guardians.form.error_text("email") == ""
    saved = fam.get_family(desk, families.id)
    assert saved.street == "8 rue du Moulin" and saved.guardians[0].email == "lea.muller@exemple.fr"
    assert dialog.tabs.tabText(1) == "Responsables" and not dialog.is_dirty()


def test_add_a_child_and_a_quotient(qtbot, desk, families):
    dialog = open_file(qtbot, desk, families.id)
    page = dialog.children_page
    dialog.tabs.setCurrentWidget(page)
    assert page.allergies.text() == "Arachide" and page.pai.isChecked()
    qtbot.mouseClick(next(b for b in page.findChildren(type(dialog.save_btn)) if b.text() == "&Ajouter"), Qt.LeftButton)
    qtbot.keyClicks(page.first_name, "Hugo")
    qtbot.keyClicks(page.birth, "31/02/2021")
    qtbot.mouseClick(dialog.save_btn, Qt.LeftButton)
    assert "Date de naissance de Hugo" in page.form.error_text("birth_date")
    assert page.list.item(1).text().startswith("⚠")
    page.birth.clear()
    qtbot.keyClicks(page.birth, "02/09/2021")
    dialog.tabs.setCurrentWidget(dialog.quotient)
    qtbot.keyClicks(dialog.quotient.value, "780")
    qtbot.mouseClick(dialog.save_btn, Qt.LeftButton)
    assert dialog.banner.label.text() == "Fiche enregistrée."
    snap = fam.get_family(desk, families.id)
    assert [c.first_name for c in snap.children] == ["Zoé", "Hugo"]
    assert snap.children[1].last_name == "Müller" and snap.quotients[-1].value == 780
    assert "Quotient en vigueur : <b>780</b>" in dialog.quotient.current.text()


def test_stale_save_is_refused_and_reload_shows_the_other_change(qtbot, desk, clock, families):
    first = open_file(qtbot, desk.as_actor(CLERK_A), families.id)
    second = open_file(qtbot, desk.as_actor(CLERK_B), families.id)
    clock.set(2026, 11, 26, 14, 5)
    qtbot.keyClicks(first.foyer.city, "-Centre")
    qtbot.mouseClick(first.save_btn, Qt.LeftButton)
    assert first.banner.label.text() == "Fiche enregistrée."
    qtbot.keyClicks(second.foyer.notes, "Papa le mardi")
    qtbot.mouseClick(second.save_btn, Qt.LeftButton)
    text = second.banner.label.text()
    assert "modifiée par sfoncin le 26/11/2026 à 14:05" in text and "ne sont pas enregistrées" in text
    assert second.banner.reload.isVisible()
    assert fam.get_family(desk, families.id).notes == ""
    qtbot.mouseClick(second.banner.reload, Qt.LeftButton)
    assert second.foyer.city.text() == "Gandrange-Centre" and not second.banner.isVisible()
    assert not second.is_dirty()


def test_quotient_missing_and_health_hidden_for_a_reader(qtbot, desk, families):
    weber = next(r for r in fam.search(desk, "weber").rows)
    dialog = open_file(qtbot, desk, weber.id)
    assert "Aucun quotient : tarif de la tranche la plus haute" in dialog.quotient.current.text()
    reader = open_file(qtbot, desk.as_actor(Actor("lecteur", "Lecteur", "lecture")), families.id)
    assert reader.children_page.health_hidden.isVisibleTo(reader.children_page)
    assert not reader.children_page.allergies.isVisibleTo(reader.children_page)
    assert reader.children_page.allergies.text() == ""


def test_send_credentials_letter_and_export(qtbot, desk, families, no_modal, tmp_path):
    nomail = make_family(desk, "Sanmail", guardians=[{"first_name": "Paul", "last_name": "Sanmail", "email": ""}],
                         portal_state="to_create")
    dialog = open_file(qtbot, desk, nomail.id)
    dialog.tabs.setCurrentWidget(dialog.portal)
    assert dialog.portal.channel.text() == "pas d'adresse e-mail : lettre à imprimer"
    qtbot.mouseClick(dialog.portal.send, Qt.LeftButton)
    [letter] = no_modal
    assert "Vos identifiants du Portail Famille" in PdfReader(letter).pages[0].extract_text()
    assert dialog.portal.state.currentText() == "Envoyé"
    json_path, pdf_path = dialog.export_to(tmp_path)
    assert "Sanmail" in json_path.read_text(encoding="utf-8")
    assert "Sanmail" in PdfReader(io.BytesIO(pdf_path.read_bytes())).pages[0].extract_text()


def test_new_family_dialog_refuses_then_creates(qtbot, desk, families):
    from gandrange_desk.ui.families.file import NewFamilyDialog

    dialog = NewFamilyDialog(desk)
    qtbot.addWidget(dialog)
    qtbot.keyClicks(dialog.name, "Nguyen")
    qtbot.keyClicks(dialog.postcode, "571")
    dialog.create()
    assert dialog.form.error_text("foyer.postcode").startswith("Code postal : le code postal doit comporter 5 chiffres")
    assert dialog.form.error_text("guardians[0].first_name") and dialog.family_id is None
    assert fam.search(desk, "nguyen").rows == []
    dialog.postcode.clear()
    qtbot.keyClicks(dialog.postcode, "57175")
    qtbot.keyClicks(dialog.first, "Minh")
    qtbot.keyClicks(dialog.email, "minh.nguyen@example.org")
    dialog.create()
    assert dialog.result() == dialog.DialogCode.Accepted
    snap = fam.get_family(desk, dialog.family_id)
    assert snap.guardians[0].full_name == "Minh Nguyen" and snap.guardians[0].holds_portal_account


def test_document_to_redo_from_the_documents_tab(qtbot, desk, families):
    from gandrange_desk.models import Document, OutboxMessage
    from sqlalchemy import select

    with desk.unit_of_work() as s:
        s.add(Document(family_id=families.id, kind="Attestation CAF", filename="caf.pdf", content=b"%PDF",
                       received_at=desk.now()))
    dialog = open_file(qtbot, desk, families.id)
    page = dialog.documents
    dialog.tabs.setCurrentWidget(page)
    qtbot.mouseClick(page.redo_btn, Qt.LeftButton)
    assert "Motif" in page.message.text()
    qtbot.keyClicks(page.reason, "Illisible")
    qtbot.mouseClick(page.redo_btn, Qt.LeftButton)
    assert page.model.data(page.model.index(0, 3)) == "À refaire"
    assert page.model.data(page.model.index(0, 4)) == "Illisible"
    with desk.read() as s:
        mail = s.execute(select(OutboxMessage)).scalar_one()
    assert "Motif : Illisible" in mail.body_text


def test_from_the_file_to_the_childrens_bookings_in_the_grid(qtbot, desk, families):
    from tests.builders import load_example_settings
    from gandrange_desk.ui.main_window import MainWindow

    load_example_settings(desk)
    window = MainWindow(desk)
    qtbot.addWidget(window)
    window.show()
    dialog = window.tab_widget(0).open_family(families.id)
    qtbot.addWidget(dialog)
    assert dialog.show_in_grid()
    grid = window.tab_widget(1)
    assert window.tabs.currentIndex() == 1 and grid.family_chip.text().startswith("Famille Müller")
    assert [grid.model.index(r, 0).data() for r in range(grid.model.rowCount())] == ["MÜLLER Zoé"]
    window.close()
