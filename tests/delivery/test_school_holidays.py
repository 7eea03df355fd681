"""School holidays past the package's data (31/08/2028 today): said, entered, imported, used."""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

import pytest

from gandrange_desk.cli import main
from gandrange_desk.errors import DeskError, PermissionDenied, ValidationFailed
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.system import school_holidays as sh
from tests.builders import load_example_settings

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

PERISCOLAIRE = SimpleNamespace(opens="school_days", weekday_numbers=[0, 1, 3, 4])
CENTRE_DE_LOISIRS = SimpleNamespace(opens="holiday_weekdays", weekday_numbers=[0, 1, 2, 3, 4])
NOEL_2028 = (date(2028, 12, 23), date(2029, 1, 7), "Vacances de Noël")

ICS = """BEGIN:VCALENDAR\r
VERSION:2.0\r
PRODID:-//Ministère de l'Éducation nationale//Calendrier scolaire//FR\r
BEGIN:VEVENT\r
DTSTART;VALUE=DATE:20281021\r
DTEND;VALUE=DATE:20281106\r
SUMMARY:Vacances de la Toussaint - Zone B\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART;VALUE=DATE:20281223\r
DTEND;VALUE=DATE:20290108\r
SUMMARY:Vacances de Noël - Zones A\\, B et C\r
END:VEVENT\r
BEGIN:VEVENT\r
DTSTART;VALUE=DATE:20290217\r
DTEND;VALUE=DATE:20290305\r
SUMMARY:Vacances d'Hiver - Zone A\r
END:VEVENT\r
END:VCALENDAR\r
"""

CSV = """\ufeffDescription;Population;Date de début;Date de fin;Académies;Zones;annee_scolaire
Vacances de la Toussaint;-;2028-10-20T22:00:00+00:00;2028-11-05T23:00:00+00:00;Nancy-Metz;Zone B;2028-2029
Vacances de la Toussaint;-;2028-10-20T22:00:00+00:00;2028-11-05T23:00:00+00:00;Strasbourg;Zone B;2028-2029
Vacances de Noël;-;2028-12-22T23:00:00+00:00;2029-01-07T23:00:00+00:00;Nancy-Metz;Zone B;2028-2029
Vacances d'Hiver;-;2029-02-16T23:00:00+00:00;2029-03-04T23:00:00+00:00;Lyon;Zone A;2028-2029
Vacances d'Hiver;Enseignants;2029-02-09T23:00:00+00:00;2029-02-25T23:00:00+00:00;Nancy-Metz;Zone B;2028-2029
Pont de l'Ascension;-;2029-05-09T22:00:00+00:00;2029-05-13T22:00:00+00:00;Nancy-Metz;Zone B;2028-2029
Vacances de la Toussaint;-;2027-10-22T22:00:00+00:00;2027-11-07T23:00:00+00:00;Nancy-Metz;Zone B;2027-2028
"""


def test_the_package_data_ends_and_says_so():
    assert sh.package_last_day() == date(2028, 8, 31)
    assert sh.package_covers(2027) and not sh.package_covers(2028)
    assert sh.school_year_of(date(2028, 12, 28)) == 2028
    assert sh.school_year_of(date(2029, 6, 30)) == 2028


def test_christmas_2028_is_a_school_day_until_entered():
    """The found bug: past the data, 28/12/2028 is silently a school day. Entered, it is not."""
    bare = Calendar(zone="B", subdivision="57")
    assert bare.is_open(PERISCOLAIRE, date(2028, 12, 28))
    entered = Calendar(zone="B", subdivision="57", school_holidays=[NOEL_2028])
    assert entered.closed_reason(PERISCOLAIRE, date(2028, 12, 28)) == "Vacances scolaires (zone B) : Vacances de Noël"
    assert entered.is_open(CENTRE_DE_LOISIRS, date(2028, 12, 28))
    assert entered.closed_reason(PERISCOLAIRE, date(2029, 1, 8)) is None  # classes resume
    # The package's own years are untouched.
    assert entered.closed_reason(PERISCOLAIRE, date(2027, 12, 23)) == "Vacances scolaires (zone B) : Vacances de Noël"


def test_unknown_year_is_warned_until_holidays_are_entered(desk, clock):
    load_example_settings(desk)
    clock.set(2028, 10, 2, 9, 0)
    text = sh.check_in_use(desk)
    assert text.startswith("Attention : les vacances scolaires de l'année scolaire 2028-2029 ne sont pas connues")
    assert "jusqu'au 31/08/2028" in text and "holidays import" in text
    assert sh.check_period(desk, date(2027, 12, 1), date(2027, 12, 31)) == ""
    sh.add_holiday(desk, *NOEL_2028)
    assert sh.check_in_use(desk) == ""
    with desk.read() as s:
        cal = Calendar.load(s)
    assert not cal.is_open(PERISCOLAIRE, date(2028, 12, 28))


def test_entries_are_checked(desk):
    load_example_settings(desk)
    with pytest.raises(ValidationFailed) as caught:
        sh.add_holiday(desk, date(2029, 1, 7), date(2028, 12, 23), " ")
    assert caught.value.problems == ["Le dernier jour (23/12/2028) précède le premier (07/01/2029).",
                                     "Le nom des vacances est obligatoire (ex. « Vacances de Noël »)."]
    first = sh.add_holiday(desk, *NOEL_2028)
    with pytest.raises(DeskError, match="chevauchent « Vacances de Noël » \\(23/12/2028 – 07/01/2029\\)"):
        sh.add_holiday(desk, date(2029, 1, 2), date(2029, 1, 10), "Autre")
    sh.remove_holiday(desk, first)
    assert sh.list_holidays(desk) == []


def test_an_agent_does_not_change_the_calendar(agent_desk):
    with pytest.raises(PermissionDenied):
        sh.add_holiday(agent_desk, *NOEL_2028)


def test_ministry_ics_of_our_zone(tmp_path):
    periods = sh.parse_calendar(ICS, "B")
    assert periods == [(date(2028, 10, 21), date(2028, 11, 5), "Vacances de la Toussaint"),
                       (date(2028, 12, 23), date(2029, 1, 7), "Vacances de Noël")]


def test_ministry_csv_of_our_zone():
    periods = sh.parse_calendar(CSV, "B")
    assert periods == [(date(2027, 10, 23), date(2027, 11, 7), "Vacances de la Toussaint"),
                       (date(2028, 10, 21), date(2028, 11, 5), "Vacances de la Toussaint"),
                       (date(2028, 12, 23), date(2029, 1, 7), "Vacances de Noël")]


def test_import_replaces_the_unknown_years_only(desk, tmp_path, capsys):
    load_example_settings(desk)
    sh.add_holiday(desk, date(2028, 12, 20), date(2028, 12, 31), "Saisie provisoire")
    path = tmp_path / "fr-en-calendrier-scolaire.csv"
    path.write_text(CSV, encoding="utf-8")
    url = str(desk.engine.url.render_as_string(hide_password=False))
    assert main(["--db", url, "holidays", "import", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("2 périodes de vacances importées :")
    assert [(r.first_day, r.label) for r in sh.list_holidays(desk)] == [
        (date(2028, 10, 21), "Vacances de la Toussaint"), (date(2028, 12, 23), "Vacances de Noël")]


def test_a_file_of_something_else_is_refused(desk, tmp_path):
    load_example_settings(desk)
    path = tmp_path / "notes.csv"
    path.write_text("nom;prénom\nKeller;Léa\n", encoding="utf-8")
    with pytest.raises(DeskError, match="Fichier non reconnu"):
        sh.import_calendar(desk, path)
    assert sh.list_holidays(desk) == []


def test_commands_say_it_before_invoicing(desk, db_url, capsys, clock):
    load_example_settings(desk)
    assert main(["--db", db_url, "invoices", "prepare", "--month", "2028-12"]) == 0
    assert "les vacances scolaires de l'année scolaire 2028-2029 ne sont pas connues" in capsys.readouterr().err
    assert main(["--db", db_url, "holidays", "add", "2028-12-23", "2029-01-07", "--label", "Vacances de Noël"]) == 0
    assert main(["--db", db_url, "invoices", "prepare", "--month", "2028-12"]) == 0
    assert "ne sont pas connues" not in capsys.readouterr().err
    assert main(["--db", db_url, "invoices", "prepare", "--month", "2027-12"]) == 0
    assert "ne sont pas connues" not in capsys.readouterr().err


def test_status_command(desk, db_url, capsys):
    load_example_settings(desk)
    status = main(["--db", db_url, "holidays", "status"])
    out = capsys.readouterr().out
    assert out.startswith("Données officielles des vacances scolaires jusqu'au 31/08/2028.")
    year = sh.school_year_of(date.today())
    assert (status == 0) == sh.package_covers(year)
