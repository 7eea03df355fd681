"""The attendance billing rules in the settings file ([attendance]) and in the Réglages window:
the same AppSetting keys the attendance screen's dialog saves, so invoicing reads one truth."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import AppSetting, AuditEntry
from gandrange_desk.services.attendance import settings as attendance_settings
from gandrange_desk.services.settings import service as svc
from gandrange_desk.ui.settings.dialog import SettingsDialog
from tests.builders import EXAMPLE_SETTINGS, load_example_settings

SECTION = """
[attendance]
bill_no_shows = false
walk_in_surcharge_percent = 15
walk_in_surcharge = "0.80"
"""


def _stored(desk) -> dict:
    with desk.read() as s:
        return {r.key: r.value for r in s.execute(select(AppSetting).where(AppSetting.key.like("attendance.%"))).scalars()}


def test_file_section_sets_the_rules_and_export_writes_them_back(desk):
    load_example_settings(desk)
    assert attendance_settings.current(desk).rules.bill_no_shows is True
    summary = svc.import_settings(desk, EXAMPLE_SETTINGS.read_text(encoding="utf-8") + SECTION)
    rules = attendance_settings.current(desk).rules
    assert (rules.bill_no_shows, rules.bill_walk_ins, rules.walk_in_surcharge_percent,
            rules.walk_in_surcharge_cents) == (False, True, 15, 80)
    assert _stored(desk)["attendance.walk_in_surcharge_cents"] == "80"
    assert ("majoration fixe d'une présence sans réservation : 0,00\u00a0€ → 0,80\u00a0€" in summary.updated)
    exported = svc.export_text(desk)
    assert "[attendance]\nbill_no_shows = false\nbill_walk_ins = true\nwalk_in_surcharge_percent = 15\n" \
           'walk_in_surcharge = "0.80"' in exported
    with desk.read() as s:
        entry = s.execute(select(AuditEntry).where(AuditEntry.action == "settings.attendance")).scalar_one()
        assert json.loads(entry.after)["attendance.bill_no_shows"] == "0"
    # A file without the section leaves the saved rules alone; the exported file re-imports as is.
    load_example_settings(desk)
    assert attendance_settings.current(desk).rules.walk_in_surcharge_percent == 15
    assert not svc.import_settings(desk, exported).changed


def test_bad_values_are_refused_with_their_place_and_nothing_saved(desk):
    load_example_settings(desk)
    text = EXAMPLE_SETTINGS.read_text(encoding="utf-8") + """
[attendance]
bill_no_shows = "oui"
walk_in_surcharge_percent = 500
walk_in_surcharge = "1.234"
bill_late = true
"""
    with pytest.raises(ValidationFailed) as err:
        svc.import_settings(desk, text)
    problems = err.value.problems
    assert "attendance.bill_late : clé inconnue" in problems
    assert "attendance.bill_no_shows : true ou false attendu, trouvé « oui »" in problems
    assert "attendance.walk_in_surcharge_percent : valeur 500 hors limites (entre 0 et 200)" in problems
    assert any(p.startswith("attendance.walk_in_surcharge : prix invalide") for p in problems)
    assert attendance_settings.current(desk).rules.bill_no_shows is True


def test_reglages_window_edits_the_rules(qtbot, responsable_desk, desk):
    load_example_settings(desk)
    dialog = SettingsDialog(responsable_desk)
    qtbot.addWidget(dialog)
    page = dialog.attendance_page
    assert page.fields["bill_walk_ins"].isChecked()
    page.fields["bill_walk_ins"].setChecked(False)
    page.fields["walk_in_surcharge"].setValue(1.5)
    assert dialog.save()
    rules = attendance_settings.current(desk).rules
    assert (rules.bill_walk_ins, rules.walk_in_surcharge_cents) == (False, 150)
    # The attendance screen's own dialog saves the same keys: the window shows what it saved.
    attendance_settings.save(desk, rules.__class__(**{**rules.__dict__, "walk_in_surcharge_percent": 20}), {})
    dialog.reload()
    assert page.fields["walk_in_surcharge_percent"].value() == 20
    assert page.fields["walk_in_surcharge"].value() == 1.5
