"""The CAF report: acts and hours booked, attended and billed by age band; children; opening days."""

from __future__ import annotations

import io
from datetime import date
from decimal import Decimal

import openpyxl
import pytest
from pypdf import PdfReader

from gandrange_desk.cli import main
from gandrange_desk.errors import PermissionDenied, ValidationFailed
from gandrange_desk.models import Attendance
from gandrange_desk.services.attendance import settings
from gandrange_desk.services.exports import lists
from gandrange_desk.services.reports.caf import band, caf_pdf, caf_report
from tests.builders import load_example_settings, make_booking, make_family, unit_id

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

START, END = date(2026, 11, 16), date(2026, 11, 27)  # today is Thursday 26 November


def _nov(day: int) -> date:
    return date(2026, 11, day)


@pytest.fixture
def period(desk):
    load_example_settings(desk)
    soir = unit_id(desk, "PERISCOLAIRE", "Accueil soir")
    current = settings.current(desk)
    settings.save(desk, current.rules, {soir: (120, True)})
    fam = make_family(desk, "Muller", children=[
        {"first_name": "Léa", "birth_date": date(2018, 4, 12)},
        {"first_name": "Hugo", "birth_date": date(2021, 1, 10)},
        {"first_name": "Zoé", "birth_date": date(2020, 11, 20)}])  # 6 on 20 November 2026
    lea, hugo, zoe = (next(c.id for c in fam.children if c.first_name == name) for name in ("Léa", "Hugo", "Zoé"))
    for day, state in ((16, "R"), (17, "R"), (19, "R"), (20, "R"), (23, "AF"), (27, "R")):
        make_booking(desk, lea, soir, _nov(day), state=state)
    make_booking(desk, hugo, soir, _nov(26), state="DA")
    make_booking(desk, zoe, soir, _nov(19))
    make_booking(desk, zoe, soir, _nov(24))
    marks = ((lea, 16, "present"), (lea, 17, "absent"), (lea, 19, "excused"), (hugo, 24, "walk_in"),
             (zoe, 19, "present"), (zoe, 24, "present"))
    with desk.unit_of_work() as s:
        for child, day, presence in marks:
            s.add(Attendance(child_id=child, unit_id=soir, day=_nov(day), presence=presence,
                             recorded_at=desk.now(), recorded_by="sfoncin"))
    return {"soir": soir}


def test_age_band_on_the_day():
    assert band(date(2020, 11, 20), _nov(19)) == 0 and band(date(2020, 11, 20), _nov(20)) == 1
    assert band(date(2020, 2, 29), date(2026, 2, 28)) == 0 and band(date(2020, 2, 29), date(2026, 3, 1)) == 1


def test_figures(responsable_desk, period):
    report = caf_report(responsable_desk, START, END, lists.activity_id_of(responsable_desk, "periscolaire"))
    (activity,) = report.activities
    assert activity.name == "Périscolaire" and len(activity.open_days) == 8
    soir = next(u for u in activity.units if u.unit_id == period["soir"])
    under, over = soir.bands
    assert (under.booked, under.attended, under.presumed, under.billed) == (2, 2, 0, 2)
    assert (over.booked, over.attended, over.presumed, over.billed) == (7, 3, 1, 6)
    assert soir.hours(over.attended) == Decimal("6.00") and soir.hours_text == "2 h"
    assert activity.hours("attended") == Decimal("10.00")
    assert activity.children == [2, 1]  # Hugo and Zoé (5 on the 16th), Léa
    assert report.notes == [
        "Valeur horaire non renseignée (seuls les actes sont comptés) : Périscolaire — Accueil matin, "
        "Périscolaire — Repas. Réglez-la dans Présences et CAF.",
        "1 acte réalisé est compté d'après la réservation : le pointage de ces jours n'a pas été saisi.",
        "Les actes réalisés s'arrêtent au 26/11/2026 ; les réservations vont jusqu'à la fin de la période."]


def test_the_billing_settings_change_what_is_billed(responsable_desk, period):
    settings.save(responsable_desk, settings.current(responsable_desk).rules.__class__(
        bill_no_shows=False, bill_walk_ins=False), {})
    soir = next(u for a in caf_report(responsable_desk, START, END).activities for u in a.units
                if u.unit_id == period["soir"])
    assert (soir.bands[0].billed, soir.bands[1].billed) == (1, 5)  # no walk-in, no no-show


def test_spreadsheet_and_pdf(responsable_desk, period, tmp_path):
    activity = lists.activity_id_of(responsable_desk, "PERISCOLAIRE")
    lists.export(responsable_desk, "caf", tmp_path / "caf.xlsx", start=START, end=END, activity_id=activity)
    book = openpyxl.load_workbook(tmp_path / "caf.xlsx", data_only=True)
    assert book.sheetnames == ["Heures et actes", "Enfants", "Jours d'ouverture", "Remarques"]
    rows = list(book["Heures et actes"].iter_rows(values_only=True))
    header = rows[0]
    soir = [r for r in rows[1:] if r[1] == "Accueil soir"]
    assert [(r[3], r[4], r[5], r[6], r[7]) for r in soir] == [("Moins de 6 ans", 2, 2, 0, 2), ("6 ans et plus", 7, 3, 1, 6)]
    assert soir[1][header.index("Heures réalisées")] == 6.0 and soir[1][header.index("Heures par acte")] == 2.0
    matin = [r for r in rows[1:] if r[1] == "Accueil matin"]
    assert matin[0][header.index("Heures réalisées")] is None  # no hour value: acts only
    total = rows[-1]
    assert total[header.index("Actes réservés")] == 9 and total[header.index("Heures réalisées")] == 10.0
    assert list(book["Enfants"].iter_rows(min_row=2, values_only=True))[:2] == [
        ("Périscolaire", "Moins de 6 ans", 2), ("Périscolaire", "6 ans et plus", 1)]
    days = list(book["Jours d'ouverture"].iter_rows(min_row=2, values_only=True))[0]
    assert days[1] == 8 and days[4] == "16/11, 17/11, 19/11, 20/11, 23/11, 24/11, 26/11, 27/11"
    pdf, _report = caf_pdf(responsable_desk, START, END, activity)
    text = " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).split())
    assert "RAPPORT CAF" in text and "Périscolaire — 8 jours d'ouverture" in text
    assert "Enfants accueillis (âge au premier jour de la période) : 2 de moins de 6 ans, 1 de 6 ans et plus" in text
    assert "Heures réalisées 10,00" in text


def test_refusals(desk, agent_desk, responsable_desk, period):
    with pytest.raises(PermissionDenied):
        caf_report(agent_desk, START, END)
    with pytest.raises(ValidationFailed) as exc:
        caf_report(responsable_desk, END, START)
    assert "Le dernier jour de la période précède le premier." in str(exc.value)
    with pytest.raises(ValidationFailed):
        caf_report(responsable_desk, date(2025, 1, 1), date(2026, 1, 1))


def test_the_command(desk, db_url, period, tmp_path, capsys):
    out = tmp_path / "caf.xlsx"
    assert main(["--db", db_url, "caf", "report", "--from", "2026-11-16", "--to", "2026-11-27",
                 "--activity", "PERISCOLAIRE", "--out", str(out)]) == 0
    assert "Rapport CAF du 16/11/2026 au 27/11/2026 — Périscolaire" in capsys.readouterr().out
    assert openpyxl.load_workbook(out).sheetnames[0] == "Heures et actes"
    assert main(["--db", db_url, "caf", "report", "--from", "2026-11-16", "--to", "2026-11-27",
                 "--activity", "piscine", "--out", str(out)]) == 1
    assert "Activité inconnue « piscine »" in capsys.readouterr().err
