"""The Réglages dialog: edit, save whole or nothing, problems on their fields, read-only agent."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import select

from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import AuditEntry, Closure, Structure, Unit
from gandrange_desk.services.settings import service as svc
from gandrange_desk.services.context import Actor
from gandrange_desk.ui.settings.activities import UnitModel
from gandrange_desk.ui.settings.dialog import ACTIVITIES, CLOSURES, STRUCTURE, SettingsDialog
from tests.builders import load_example_settings, unit_id


def _capacity(desk, code, name):
    with desk.read() as s:
        return s.get(Unit, unit_id(s, code, name)).capacity


@pytest.fixture
def dialog(qtbot, responsable_desk, desk):
    load_example_settings(desk)
    d = SettingsDialog(responsable_desk)
    qtbot.addWidget(d)
    return d


def test_edit_a_capacity_and_save(dialog, desk):
    page = dialog.activities_page
    dialog.nav.setCurrentRow(ACTIVITIES)
    page.select_activity(1)  # MERCREDI
    assert page.code.text() == "MERCREDI" and page.code.isReadOnly()
    units = page.units
    assert units.data(units.index(0, UnitModel.NAME)) == "Journée complète"
    assert units.data(units.index(0, UnitModel.PRICE)) == "8,50 € à 14,00 €"
    assert units.setData(units.index(0, UnitModel.CAPACITY), "36")
    page.booking_time.setText("11:30")
    assert dialog.save()
    assert dialog.status.text() == "Réglages enregistrés."
    assert _capacity(desk, "MERCREDI", "Journée complète") == 36
    assert "time = \"11:30\"" in svc.export_text(desk)
    with desk.read() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "settings.unit.update")).scalar_one()
        assert entry.user_login == "mresp"
    # The dialog reloaded: the next save from it is not stale.
    assert dialog.activities_page.current == 1
    assert dialog.save() and dialog.status.text() == "Aucun changement à enregistrer."


def test_bad_values_show_messages_and_write_nothing(dialog, desk):
    units = dialog.activities_page.units
    units.setData(units.index(1, UnitModel.CAPACITY), "0")  # PERISCOLAIRE / Repas
    units.setData(units.index(2, UnitModel.CAPACITY), "beaucoup")
    dialog.structure_page.fields["name"].setText("")
    dialog.structure_page.fields["phone"].setText("03 00 00 00 00")
    dialog.closures_page.model.setData(dialog.closures_page.model.index(0, 0), "32/13/2026")
    assert not dialog.save()
    lines = [dialog.problems.item(i).text() for i in range(dialog.problems.count())]
    assert lines == [
        "Structure, nom de la structure : ne doit pas être vide",
        "Fermetures, ligne 1 : date invalide « 32/13/2026 » (attendu JJ/MM/AAAA)",
        "Activité PERISCOLAIRE, unité « Repas », capacité : valeur 0 hors limites (entre 1 et 10000)",
        "Activité PERISCOLAIRE, unité « Accueil soir », capacité : nombre entier attendu, trouvé « beaucoup »",
    ]
    assert dialog.status.text() == "Rien n'a été enregistré : corrigez les erreurs signalées."
    assert dialog.structure_page.fields["name"].toolTip() == "ne doit pas être vide"
    assert units.data(units.index(1, UnitModel.CAPACITY), Qt.ToolTipRole).startswith("valeur 0 hors limites")
    assert units.data(units.index(0, UnitModel.CAPACITY), Qt.ToolTipRole) is None
    assert dialog.closures_page.model.data(dialog.closures_page.model.index(0, 2), Qt.BackgroundRole) is not None
    assert dialog.nav.currentRow() == STRUCTURE
    dialog.problems.itemClicked.emit(dialog.problems.item(2))
    assert dialog.nav.currentRow() == ACTIVITIES
    assert _capacity(desk, "PERISCOLAIRE", "Repas") == 110
    with desk.read() as s:
        assert s.execute(select(Structure)).scalar_one().phone == "03 87 67 17 79"


def test_new_unit_needs_a_price_then_is_created(dialog, desk):
    page = dialog.activities_page
    page.select_activity(2)  # VACANCES
    row = page.units.add_unit()
    page.units.setData(page.units.index(row, UnitModel.NAME), "Demi-journée")
    page.units.setData(page.units.index(row, UnitModel.CAPACITY), "24")
    assert not dialog.save()
    assert dialog.problems.item(0).text() == "Activité VACANCES, unité « Demi-journée », prix : obligatoire"
    page.units.setData(page.units.index(row, UnitModel.PRICE), "6,50")
    assert dialog.save(), [dialog.problems.item(i).text() for i in range(dialog.problems.count())]
    assert _capacity(desk, "VACANCES", "Demi-journée") == 24
    assert 'name = "Demi-journée"' in svc.export_text(desk) and 'price = "6.50"' in svc.export_text(desk)


def test_closure_added_in_french_dates(dialog, desk):
    dialog.nav.setCurrentRow(CLOSURES)
    model = dialog.closures_page.model
    row = model.add_row()
    model.setData(model.index(row, 0), "07/05/2027")
    model.setData(model.index(row, 1), "08/05/2027")
    model.setData(model.index(row, 2), "Pont de l'Ascension")
    assert dialog.save()
    with desk.read() as s:
        last = s.execute(select(Closure).order_by(Closure.first_day.desc())).scalars().first()
        assert (last.first_day.isoformat(), last.last_day.isoformat(), last.label) == (
            "2027-05-07", "2027-05-08", "Pont de l'Ascension")


def test_stale_save_is_refused_naming_who(dialog, desk, monkeypatch):
    other = svc.current_document(desk)
    other.document["structure"]["phone"] = "03 11 11 11 11"
    svc.apply_document(desk.as_actor(Actor("nbecker", "Nathalie Becker", "admin")), other.document, other.versions)
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(a[2]) or QMessageBox.No)
    dialog.structure_page.fields["email"].setText("autre@example.org")
    assert not dialog.save()
    assert "la fiche de la structure a été modifiée par nbecker" in shown[0]
    with desk.read() as s:
        structure = s.execute(select(Structure)).scalar_one()
        assert (structure.phone, structure.email) == ("03 11 11 11 11", "periscolaire@mairie-gandrange.example")


def test_agent_sees_the_settings_read_only(qtbot, desk, agent_desk):
    load_example_settings(desk)
    d = SettingsDialog(agent_desk)
    qtbot.addWidget(d)
    assert d.notice.isVisibleTo(d) and not d.save_button.isEnabled()
    assert d.structure_page.fields["name"].isReadOnly()
    units = d.activities_page.units
    assert not units.flags(units.index(0, UnitModel.CAPACITY)) & Qt.ItemIsEditable
    assert not d.save()
    assert _capacity(desk, "PERISCOLAIRE", "Repas") == 110


def test_removing_a_booked_unit_is_refused_in_window_words(dialog, desk):
    from datetime import date

    from tests.builders import make_booking, make_family

    family = make_family(desk)
    child = family.children[0].id
    make_booking(desk, child, unit_id(desk, "PERISCOLAIRE", "Accueil soir"), date(2026, 12, 3))
    page = dialog.activities_page
    page.units.remove_unit(2)
    assert not dialog.save()
    assert dialog.problems.item(0).text() == (
        "Activités : l'unité « Accueil soir » de l'activité « PERISCOLAIRE » ne peut pas être retirée : "
        "des réservations ou des demandes l'utilisent")
    assert _capacity(desk, "PERISCOLAIRE", "Accueil soir") == 45


def test_prices_changed_in_the_tariff_editor_are_taken_not_undone(dialog, desk):
    from tests.builders import EXAMPLE_SETTINGS

    units = dialog.activities_page.units
    units.setData(units.index(1, UnitModel.CAPACITY), "100")
    # What "Tarifs…" would save meanwhile: new Repas prices.
    text = EXAMPLE_SETTINGS.read_text(encoding="utf-8").replace('price = "3.30"', 'price = "3.40"')
    svc.import_settings(desk, text)
    dialog._take_fresh_prices()
    assert units.data(units.index(1, UnitModel.PRICE)) == "3,40 € à 4,90 €"
    assert units.data(units.index(1, UnitModel.CAPACITY)) == "100"
    assert dialog.save()
    assert _capacity(desk, "PERISCOLAIRE", "Repas") == 100
    assert 'price = "3.40"' in svc.export_text(desk)


def test_closing_with_unsaved_edits_asks(dialog, monkeypatch):
    asked = []
    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: asked.append(a[2]) or QMessageBox.No)
    assert not dialog.is_modified()
    dialog.reject()
    assert asked == []
    dialog.structure_page.fields["siret"].setText("21570242700018")
    assert dialog.is_modified()
    dialog.reject()
    assert asked == ["Des modifications ne sont pas enregistrées. Fermer et les abandonner quand même ?"]


def test_new_activity_from_the_window(dialog, desk):
    page = dialog.activities_page
    page.add_activity()
    assert not page.code.isReadOnly()
    page.code.setText("STAGE")
    page.name.setText("Stage d'été")
    page.opens.setCurrentIndex(page.opens.findData("holiday_weekdays"))
    for code in ("mon", "tue", "wed", "thu", "fri"):
        page.weekdays[code].setChecked(True)
    page.booking_days.setValue(5)
    page.booking_time.setText("12:00")
    row = page.units.add_unit()
    page.units.setData(page.units.index(row, UnitModel.NAME), "Semaine")
    page.units.setData(page.units.index(row, UnitModel.PRICE), "45")
    assert dialog.save(), [dialog.problems.item(i).text() for i in range(dialog.problems.count())]
    assert page.list.item(3).text() == "STAGE — Stage d'été"
    text = svc.export_text(desk)
    assert 'code = "STAGE"' in text and 'opens = "holiday_weekdays"' in text
    assert "booking_deadline = { working_days = 5, time = \"12:00\" }" in text
    assert _capacity(desk, "STAGE", "Semaine") is None


def test_a_closure_outside_the_school_year_is_refused_as_the_import_refuses_it(dialog, desk):
    # The clock says 26/11/2026: the school year 2026-2027, give or take one year.
    with desk.read() as s:
        before = [(c.first_day, c.last_day, c.label) for c in s.execute(select(Closure)).scalars()]
    dialog.nav.setCurrentRow(CLOSURES)
    model = dialog.closures_page.model
    row = model.add_row()
    model.setData(model.index(row, 0), "01/07/2062")
    model.setData(model.index(row, 1), "02/07/2062")
    model.setData(model.index(row, 2), "Faute de frappe")
    assert not dialog.save()
    lines = [dialog.problems.item(i).text() for i in range(dialog.problems.count())]
    assert lines == [f"Fermetures, ligne {row + 1} : fermeture du 01/07/2062 au 02/07/2062 hors de la "
                     "période admise (du 01/09/2025 au 31/08/2028, l'année scolaire à un an près)"]
    assert dialog.status.text() == "Rien n'a été enregistré : corrigez les erreurs signalées."
    assert dialog.nav.currentRow() == CLOSURES
    with desk.read() as s:
        assert [(c.first_day, c.last_day, c.label) for c in s.execute(select(Closure)).scalars()] == before
    # The import of the same closure in a file says the same thing.
    text = svc.export_text(desk).replace('closures = [', 'closures = [\n  ["2062-07-01", "2062-07-02", "Faute de frappe"],', 1)
    with pytest.raises(ValidationFailed) as info:
        svc.import_settings(desk, text)
    assert any("fermeture du 01/07/2062 au 02/07/2062 hors de la période admise (du 01/09/2025 au "
               "31/08/2028, l'année scolaire à un an près)" in p for p in info.value.problems)
