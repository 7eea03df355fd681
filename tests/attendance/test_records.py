"""Attendance taking (pointage): the sheet, one mark per tap, corrections, refusals, settings."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from gandrange_desk.errors import DeskError, PermissionDenied, StaleEdit, ValidationFailed
from gandrange_desk.models import Attendance, AuditEntry
from gandrange_desk.services.attendance import records, settings
from gandrange_desk.services.attendance.periods import billing_for_period
from gandrange_desk.services.attendance.rules import AttendanceRules
from tests.builders import load_example_settings, make_booking, make_family, unit_id

TODAY = date(2026, 11, 26)  # a Thursday: the périscolaire is open
WEDNESDAY = date(2026, 11, 25)


@pytest.fixture
def day(desk):
    load_example_settings(desk)
    soir = unit_id(desk, "PERISCOLAIRE", "Accueil soir")
    muller = make_family(desk, "Muller", children=[
        {"first_name": "Léa", "class_name": "CE2", "allergies": "Arachide"},
        {"first_name": "Hugo", "class_name": "CP", "pai": True}])
    weber = make_family(desk, "Weber", children=[{"first_name": "Tom", "class_name": "CM1",
                                                  "school": "École maternelle"}])
    lea, hugo = [c.id for c in muller.children]
    tom = weber.children[0].id
    make_booking(desk, lea, soir, TODAY)
    make_booking(desk, hugo, soir, TODAY, state="DA")
    return {"soir": soir, "lea": lea, "hugo": hugo, "tom": tom}


def test_the_sheet_lists_who_is_expected(agent_desk, day):
    sheet = records.sheet(agent_desk, TODAY, day["soir"])
    assert [(r.name, r.class_name, r.state, r.health) for r in sheet.rows] == [
        ("MULLER Hugo", "CP", "DA", "PAI"), ("MULLER Léa", "CE2", "R", "Allergie : Arachide")]
    assert sheet.editable and sheet.unit.label == "Périscolaire — Accueil soir"
    assert sheet.summary() == ("2 enfants attendus : 0 présent, 0 absent, 0 absent excusé, 2 non pointés.")
    # A walk-in joins the sheet, after a search by name.
    found = records.walk_in_candidates(agent_desk, "tom web", TODAY, day["soir"])
    assert [(c.name, c.school_name) for c in found] == [("WEBER Tom", "École maternelle")]
    assert records.walk_in_candidates(agent_desk, "lea", TODAY, day["soir"]) == []  # already expected
    records.record(agent_desk, day["tom"], day["soir"], TODAY, "walk_in", late_time="18:45", expected=None)
    records.record(agent_desk, day["lea"], day["soir"], TODAY, "present", expected=None)
    sheet = records.sheet(agent_desk, TODAY, day["soir"])
    assert sheet.summary() == ("2 enfants attendus : 1 présent, 0 absent, 0 absent excusé, 1 non pointé ; "
                               "1 présent sans réservation.")
    tom_row = sheet.rows[-1]
    assert (tom_row.presence_label, tom_row.late_time, tom_row.recorded_by) == (
        "Présent sans réservation", "18:45", "sfoncin")
    # One site only: the maternelle has Tom alone.
    maternelle = dict((name, sid) for sid, name in records.sites(agent_desk))["École maternelle"]
    assert [r.name for r in records.sheet(agent_desk, TODAY, day["soir"], maternelle).rows] == ["WEBER Tom"]


def test_a_tap_marks_a_correction_is_audited(desk, agent_desk, day):
    result = records.record(agent_desk, day["lea"], day["soir"], TODAY, "present", expected=None)
    assert result.text == "Léa Muller : « Présent »."
    assert result.changes.attendance == {(day["lea"], day["soir"], TODAY)}
    records.record(agent_desk, day["lea"], day["soir"], TODAY, "excused", expected="present")
    with desk.read() as s:
        row = s.execute(select(Attendance)).scalar_one()
        assert (row.presence, row.recorded_by) == ("excused", "sfoncin")
        audit = s.execute(select(AuditEntry).where(AuditEntry.action == "attendance.correct")).scalar_one()
        assert '"presence": "present"' in audit.before and '"presence": "excused"' in audit.after
    cleared = records.clear(agent_desk, day["lea"], day["soir"], TODAY, expected="excused")
    assert cleared.text == "Léa Muller : pointage effacé."
    with desk.read() as s:
        assert s.execute(select(func.count()).select_from(Attendance)).scalar_one() == 0


def test_another_workstation_marked_first(desk, agent_desk, day):
    from gandrange_desk.services.context import Actor

    office = desk.as_actor(Actor("nbecker", "Nathalie Becker", "responsable"))
    records.record(office, day["lea"], day["soir"], TODAY, "absent", expected=None)
    # The tablet still showed Léa unmarked: its tap is refused, naming who marked her.
    with pytest.raises(StaleEdit) as exc:
        records.record(agent_desk, day["lea"], day["soir"], TODAY, "present", expected=None)
    assert "Léa Muller a déjà été pointé « Absent » par nbecker à 09:00" in str(exc.value)
    with pytest.raises(StaleEdit):
        records.clear(agent_desk, day["lea"], day["soir"], TODAY, expected="present")
    with desk.read() as s:
        assert s.execute(select(Attendance.presence)).scalar_one() == "absent"


@pytest.mark.parametrize("when, child, presence, late, words", [
    (date(2026, 11, 27), "lea", "present", "", "n'est pas encore arrivé"),
    (WEDNESDAY, "lea", "present", "", "est fermé le 25/11/2026"),
    (TODAY, "lea", "walk_in", "", "Léa Muller est réservé(e) pour Périscolaire — Accueil soir le 26/11/2026 : "
                                  "pointez « Présent »."),
    (TODAY, "tom", "present", "", "Tom Weber n'est pas attendu(e) pour Périscolaire — Accueil soir le "
                                  "26/11/2026 : aucune réservation ; pointez « Présent sans réservation »."),
    (TODAY, "lea", "absent", "18:30", "ne se note que pour un enfant présent"),
    (TODAY, "lea", "present", "6h30", "Heure d'arrivée illisible « 6h30 »"),
    (TODAY, "lea", "maybe", "", "Pointage inconnu « maybe »"),
])
def test_refusals_write_nothing(desk, agent_desk, day, when, child, presence, late, words):
    with pytest.raises(DeskError) as exc:
        records.record(agent_desk, day[child], day["soir"], when, presence, late_time=late)
    assert words in str(exc.value)
    with desk.read() as s:
        assert s.execute(select(func.count()).select_from(Attendance)).scalar_one() == 0


def test_the_rest_marked_absent_at_the_end(desk, agent_desk, day):
    records.record(agent_desk, day["lea"], day["soir"], TODAY, "present", expected=None)
    result = records.mark_unmarked(agent_desk, TODAY, day["soir"])
    assert result.text == "1 enfant non pointé marqué absent." and result.count == 1
    assert records.mark_unmarked(agent_desk, TODAY, day["soir"]).text == (
        "Tous les enfants attendus sont déjà pointés.")
    with desk.read() as s:
        assert dict(s.execute(select(Attendance.child_id, Attendance.presence)).all()) == {
            day["lea"]: "present", day["hugo"]: "absent"}


def test_a_mark_in_an_invoiced_month_says_it_goes_to_the_next_invoice(desk, agent_desk, day):
    from tests import payments_builders as b

    b.invoice(desk, make_family(desk, "Klein").id, date(2026, 11, 1), [])
    result = records.record(agent_desk, day["lea"], day["soir"], TODAY, "excused")
    assert result.note == ("Les factures de novembre 2026 sont émises : ce changement sera régularisé sur la "
                           "prochaine facture.")


def test_settings_say_what_an_absence_costs(desk, agent_desk, responsable_desk, day):
    records.record(agent_desk, day["lea"], day["soir"], TODAY, "absent")
    with desk.read() as s:
        assert (day["lea"], day["soir"], TODAY) in billing_for_period(s, TODAY, TODAY)
    current = settings.current(agent_desk)
    assert current.rules == AttendanceRules()  # defaults: bill no-shows and walk-ins, no surcharge
    soir = current.unit(day["soir"])
    assert soir.pickup and soir.caf_minutes is None
    assert not current.unit(unit_id(desk, "PERISCOLAIRE", "Accueil matin")).pickup
    assert not current.unit(unit_id(desk, "PERISCOLAIRE", "Repas")).pickup
    with pytest.raises(PermissionDenied):
        settings.save(agent_desk, AttendanceRules(bill_no_shows=False), {})
    with pytest.raises(ValidationFailed) as exc:
        settings.save(responsable_desk, AttendanceRules(walk_in_surcharge_percent=300), {day["soir"]: (0, True)})
    assert "Majoration d'une présence sans réservation (% du prix) : un nombre entier entre 0 et 200." in str(exc.value)
    assert "Périscolaire — Accueil soir : une durée entre 1 minute et 24 heures" in str(exc.value)
    result = settings.save(responsable_desk, AttendanceRules(bill_no_shows=False, walk_in_surcharge_percent=20),
                           {day["soir"]: (90, True)})
    assert result.changes.settings
    assert result.text() == ("Réglages enregistrés : facturer les absences non excusées d'un enfant réservé, "
                             "majoration d'une présence sans réservation (% du prix), heures CAF de "
                             "Périscolaire — Accueil soir.")
    assert settings.current(agent_desk).unit(day["soir"]).hours_text == "1,5 h"
    with desk.read() as s:
        assert (day["lea"], day["soir"], TODAY) not in billing_for_period(s, TODAY, TODAY)
        assert s.execute(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.action == "settings.attendance")).scalar_one() == 1
    assert settings.save(responsable_desk, settings.current(desk).rules, {day["soir"]: (90, True)}).text() == (
        "Aucun changement.")


@pytest.mark.parametrize("text, minutes", [("1,5", 90), ("2", 120), ("0.75", 45), ("1 h 30", 90), ("", None)])
def test_parse_hours(text, minutes):
    assert settings.parse_hours(text) == minutes


def test_two_devices_mark_the_same_child_at_once(desk, engine, agent_desk, day):
    """The first mark of a child arrives from two devices together: one wins, the other is told,
    whether it waited on the row's lock (unique index) or found the row already there."""
    import threading

    from gandrange_desk.services.context import Desk

    holder_ready, release = threading.Event(), threading.Event()
    tablet = Desk(engine, agent_desk.actor, desk.now)

    def tablet_marks():
        with tablet.unit_of_work() as s:
            s.add(Attendance(child_id=day["lea"], unit_id=day["soir"], day=TODAY, presence="absent",
                             recorded_at=desk.now(), recorded_by="tablette"))
            s.flush()
            holder_ready.set()
            release.wait(10)

    holder = threading.Thread(target=tablet_marks)
    holder.start()
    assert holder_ready.wait(10)
    threading.Timer(0.3, release.set).start()  # the tablet commits while the PC waits
    with pytest.raises(StaleEdit) as exc:
        records.record(agent_desk, day["lea"], day["soir"], TODAY, "present", expected=None)
    holder.join(10)
    assert "Léa Muller" in str(exc.value)
    with desk.read() as s:
        assert s.execute(select(Attendance.presence, Attendance.recorded_by)).one() == ("absent", "tablette")
