"""`invoices …` commands, and several processes issuing at once without gap or duplicate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

from pypdf import PdfReader
from sqlalchemy import select

from gandrange_desk.cli import main
from gandrange_desk.clock import PARIS
from gandrange_desk.models import Booking, Invoice, InvoiceStatus
from gandrange_desk.services.billing import invoicing
from tests.builders import load_example_settings, make_family, unit_id
import pytest

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

ROOT = Path(__file__).resolve().parents[2]


def _families_with_bookings(desk, months: list[date], per_month: int) -> None:
    """`per_month` families booked on the first weekdays of each month (updated long ago)."""
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    past = datetime(2026, 8, 1, 9, 0, tzinfo=PARIS)
    for m_index, month in enumerate(months):
        days = [month + timedelta(days=i) for i in range(10) if (month + timedelta(days=i)).weekday() in (0, 1, 3, 4)]
        for n in range(per_month):
            fam = make_family(desk, f"Fam{m_index}x{n:02d}")
            with desk.unit_of_work() as s:
                for d in days[:3]:
                    s.add(Booking(child_id=fam.children[0].id, unit_id=repas, day=d, state="R",
                                  updated_at=past))


def _year_of_issue(rows) -> int:
    """The year the numbers must carry: the subprocesses issue on the real clock, not on the
    test's (26/11/2026), so from January 2027 on the numbers are 2027-…"""
    years = {r.issue_date.year for r in rows}
    assert len(years) == 1, years
    return years.pop()


def test_commands_prepare_issue_list_print(desk, db_url, capsys, tmp_path):
    load_example_settings(desk)
    _families_with_bookings(desk, [date(2026, 9, 1)], 2)
    assert main(["--db", db_url, "invoices", "prepare", "--month", "2026-09"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Septembre 2026 : 2 factures préparées, total ")
    assert main(["--db", db_url, "invoices", "list", "--month", "2026-09", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in rows] == ["draft", "draft"] and all(r["lines"] == 1 for r in rows)
    assert main(["--db", db_url, "invoices", "issue", "--month", "2026-09"]) == 0
    assert "2 factures émises (" in capsys.readouterr().out
    out_pdf = tmp_path / "sept.pdf"
    assert main(["--db", db_url, "invoices", "print", "--month", "2026-09", "--out", str(out_pdf)]) == 0
    assert len(PdfReader(str(out_pdf)).pages) == 2
    capsys.readouterr()
    # An issued month cannot be prepared again; a bad month is one French sentence.
    assert main(["--db", db_url, "invoices", "prepare", "--month", "2026-09"]) == 1
    assert "déjà émises" in capsys.readouterr().err
    assert main(["--db", db_url, "invoices", "issue", "--month", "2026-9x"]) == 1
    assert capsys.readouterr().err.startswith("Mois invalide")


def test_agent_cannot_issue_from_the_command_line(desk, db_url, capsys, monkeypatch):
    from gandrange_desk.services.system.users import create_user

    monkeypatch.setenv("GANDRANGE_DESK_PASSWORD", "motdepasse2")
    load_example_settings(desk)
    create_user(desk, "admin", "Admin", "admin", "motdepasse1")
    create_user(desk, "sfoncin", "Sandrine Foncin", "agent", "motdepasse2")
    _families_with_bookings(desk, [date(2026, 9, 1)], 1)
    assert main(["--db", db_url, "--user", "sfoncin", "invoices", "prepare", "--month", "2026-09"]) == 0
    assert main(["--db", db_url, "--user", "sfoncin", "invoices", "issue", "--month", "2026-09"]) == 1
    assert "responsable" in capsys.readouterr().err


def test_processes_issuing_at_once_leave_no_gap_nor_duplicate(desk, db_url):
    """Three workstations issue three months at the same moment on one database."""
    load_example_settings(desk)
    months = [date(2026, 8, 3).replace(day=1), date(2026, 9, 1), date(2026, 10, 1)]
    _families_with_bookings(desk, months, 12)
    for m in months:
        invoicing.prepare(desk, m)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}  # the desk user of tests/conftest.py acts
    procs = [subprocess.Popen([sys.executable, "-m", "gandrange_desk", "--db", db_url, "invoices", "issue",
                               "--month", f"{m:%Y-%m}"], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
             for m in months]
    results = [p.communicate(timeout=300) for p in procs]
    assert [p.returncode for p in procs] == [0, 0, 0], results
    with desk.read() as s:
        rows = s.execute(select(Invoice.number, Invoice.month, Invoice.issue_date)
                         .where(Invoice.status == InvoiceStatus.ISSUED).order_by(Invoice.number)).all()
    year = _year_of_issue(rows)
    numbers = [r.number for r in rows]
    assert numbers == [f"{year}-{n:06d}" for n in range(1, 37)]
    # Each run took one contiguous block: numbers follow the order of issue.
    blocks = [r.month for r in rows]
    assert sum(1 for a, b in zip(blocks, blocks[1:]) if a != b) == 2


def test_two_workstations_issuing_the_same_month(desk, db_url):
    load_example_settings(desk)
    _families_with_bookings(desk, [date(2026, 9, 1)], 10)
    invoicing.prepare(desk, date(2026, 9, 1))
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    procs = [subprocess.Popen([sys.executable, "-m", "gandrange_desk", "--db", db_url, "invoices", "issue",
                               "--month", "2026-09"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                              text=True) for _ in range(2)]
    results = [p.communicate(timeout=300) for p in procs]
    codes = sorted(p.returncode for p in procs)
    assert codes == [0, 1], results
    loser = next(err for (out, err), p in zip(results, procs) if p.returncode == 1)
    # The loser may first have waited for the winner's write lock, and says so on its own line.
    lines = [line for line in loser.splitlines() if not line.startswith("La base est occupée")]
    assert lines[0].startswith("Aucune facture en préparation pour septembre 2026"), loser
    with desk.read() as s:
        rows = s.execute(select(Invoice.number, Invoice.issue_date).order_by(Invoice.number)).all()
    year = _year_of_issue(rows)
    assert [r.number for r in rows] == [f"{year}-{n:06d}" for n in range(1, 11)]


def test_recap_command_adds_up_the_month_per_unit(desk, db_url, capsys):
    load_example_settings(desk)
    _families_with_bookings(desk, [date(2026, 9, 1)], 2)
    assert main(["--db", db_url, "invoices", "prepare", "--month", "2026-09"]) == 0
    capsys.readouterr()
    assert main(["--db", db_url, "invoices", "recap", "--month", "2026-09", "--json"]) == 0
    recap = json.loads(capsys.readouterr().out)
    assert (recap["invoices"], recap["drafts"], recap["meals"], recap["warning"]) == (2, 2, 6, None)
    assert [(r["activity"], r["unit"], r["quantity"]) for r in recap["rows"]] == [("Périscolaire", "Repas", 6)]
    assert sum(r["amount_cents"] for r in recap["rows"]) == recap["total_cents"]
