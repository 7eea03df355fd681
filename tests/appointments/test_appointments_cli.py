"""`gandrange-desk appointments slots|list|book` driven in-process (the real clock: future days)."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

from pypdf import PdfReader
from sqlalchemy import select

from gandrange_desk import clock as real_clock
from gandrange_desk.cli import main
from gandrange_desk.models import Appointment, DeskUser, OutboxMessage, Structure
from gandrange_desk.services.calendar import Calendar
from tests.builders import make_family
import pytest

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")


def working_week(desk) -> date:
    """The Monday of a week, at least two weeks ahead on the real clock (the commands' clock),
    whose five weekdays are all working days: a week with Easter Monday, 1 May or Christmas
    would leave fewer slots, and the test would then depend on the day it runs."""
    with desk.read() as s:
        calendar = Calendar.load(s)
    day = real_clock.today() + timedelta(days=14)
    monday = day + timedelta(days=(7 - day.weekday()) % 7)
    while not all(calendar.is_working_day(monday + timedelta(days=i)) for i in range(5)):
        monday += timedelta(days=7)
    return monday


def run(capsys, db_url, *args) -> tuple[int, str, str]:
    code = main(["--db", db_url, *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_appointments_commands(desk, db_url, capsys, tmp_path):
    with desk.unit_of_work() as s:
        s.add(Structure(name="Service Enfance-Jeunesse — Commune de Gandrange", phone="03 87 67 17 79"))
        s.add(DeskUser(login="sfoncin", full_name="Sandrine Foncin", role="agent"))
    family = make_family(desk, "Keller")
    monday = working_week(desk)
    friday = monday + timedelta(days=4)
    sunday = monday + timedelta(days=6)

    code, out, err = run(capsys, db_url, "appointments", "slots", "--from", monday.isoformat(), "--to",
                         sunday.isoformat(), "--start", "09:00", "--end", "12:00", "--minutes", "45",
                         "--pause", "10:30-11:00", "--clerk", "sfoncin", "--json")
    assert code == 0, err
    result = json.loads(out)
    # 09:00, 09:45, 11:15 per working day: the 10:30 slot would run into the pause.
    assert (result["days"], result["created"]) == (5, 15)
    assert sorted(result["skipped_days"])[-2:] == [(sunday - timedelta(days=1)).isoformat(), sunday.isoformat()]

    code, out, err = run(capsys, db_url, "appointments", "list", "--day", monday.isoformat(), "--json")
    assert code == 0, err
    slots = json.loads(out)
    assert [s["starts_at"][11:16] for s in slots] == ["09:00", "09:45", "11:15"]
    assert {s["status"] for s in slots} == {"free"} and slots[0]["clerk"] == "sfoncin"

    code, out, err = run(capsys, db_url, "appointments", "book", "--slot", str(slots[0]["id"]),
                         "--family", family.ref)
    assert code == 0, err
    assert "réservé pour la famille Keller. Confirmation envoyée à claire.keller" in out
    with desk.read() as s:
        [mail] = s.execute(select(OutboxMessage)).scalars().all()
    assert mail.subject.startswith("Rendez-vous au bureau périscolaire le lundi ")

    code, out, err = run(capsys, db_url, "appointments", "book", "--slot", str(slots[0]["id"]),
                         "--visitor", "Nadia Haddad", "--phone", "0612345678")
    assert code == 1 and "vient d'être pris par essai (la famille Keller)" in err and out == ""
    code, out, err = run(capsys, db_url, "appointments", "book", "--slot", str(slots[1]["id"]),
                         "--visitor", "Nadia Haddad", "--phone", "0612345678", "--no-mail", "--json")
    assert code == 0 and json.loads(out)["visitor_name"] == "Nadia Haddad"

    pdf = tmp_path / "jour.pdf"
    code, out, err = run(capsys, db_url, "appointments", "list", "--day", monday.isoformat(), "--out", str(pdf))
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].endswith(": 2/3 créneaux pris")
    assert "09:00" in lines[1] and f"Keller ({family.ref})" in lines[1] and "Sandrine Foncin" in lines[1]
    assert "Nadia Haddad (visiteur)  06 12 34 56 78" in lines[2]
    assert "Nadia Haddad (visiteur)" in PdfReader(io.BytesIO(pdf.read_bytes())).pages[0].extract_text()

    # Errors: one French sentence, exit 1, nothing written.
    code, out, err = run(capsys, db_url, "appointments", "book", "--slot", "999999", "--family", family.ref)
    assert code == 1 and err.startswith("Rendez-vous introuvable (n° 999999)")
    code, out, err = run(capsys, db_url, "appointments", "book", "--slot", str(slots[1]["id"]), "--family", "F-NONE")
    assert code == 1 and "Aucune famille n'a la référence « F-NONE »." in err
    code, out, err = run(capsys, db_url, "appointments", "list", "--day", "2026-13-01")
    assert code == 1 and "Date illisible pour le jour (--day)" in err
    with desk.read() as s:
        before = len(s.execute(select(Appointment)).all())
    code, out, err = run(capsys, db_url, "appointments", "slots", "--from", friday.isoformat(), "--to",
                         friday.isoformat(), "--minutes", "dix", "--clerk", "sfoncin")
    assert code == 1 and "Durée d'un créneau (--minutes) : « dix » n'est pas un nombre entier." in err
    code, out, err = run(capsys, db_url, "appointments", "slots", "--from", friday.isoformat(), "--to",
                         friday.isoformat(), "--clerk", "personne")
    assert code == 1 and "Agents : « personne » n'est pas un utilisateur actif du bureau." in err
    with desk.read() as s:
        assert len(s.execute(select(Appointment)).all()) == before
