"""One decision, one e-mail: the grid's inline decisions and the queue write the same message.

Two children of one family asked for Repas on 13/03 and the Mercredi on 18/03; one copy of the
database decides them from the grid (`cells.decide_cells`), the other from the Validation queue
(`queue.accept` / `queue.refuse`). The families must read exactly the same words, with each
child's block under its unit, never "2 réservations acceptées les : 13/03, 13/03".
"""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
from sqlalchemy import select

from gandrange_desk.db import make_engine
from gandrange_desk.models import OutboxMessage, Request
from gandrange_desk.services import queue
from gandrange_desk.services.context import Actor, Desk
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.services.reservations import cells
from tests.builders import load_example_settings, make_family

AGENT = Actor("sfoncin", "Sandrine Foncin", "agent")


@pytest.fixture
def twin(desk, clock, backend, tmp_path):
    if backend != "sqlite":
        pytest.skip("two copies of one database file: SQLite (the round itself runs on both backends)")
    clock.set(2026, 3, 11, 12, 0)
    load_example_settings(desk)
    make_family(desk, "Keller", ref="F-0042", guardians=[
        {"first_name": "Sophie", "last_name": "Keller", "email": "sophie.keller@example.org"}],
        children=[{"ref": "E-1", "first_name": "Jules", "birth_date": date(2019, 5, 2)},
                  {"ref": "E-2", "first_name": "Emma", "birth_date": date(2017, 1, 9)}])
    entries = [
        {"ref": f"P-{child}-{unit}", "kind": "booking", "submitted_at": "2026-03-10T09:00:00+01:00",
         "family_ref": "F-0042", "child_ref": child, "activity": activity, "unit": unit, "dates": days}
        for child in ("E-1", "E-2")
        for activity, unit, days in (("PERISCOLAIRE", "Repas", ["2026-03-13"]),
                                     ("MERCREDI", "Journée complète", ["2026-03-18"]))]
    intake.import_feed(desk, json.dumps({"requests": entries}))
    path = desk.engine.url.database
    desk.engine.dispose()
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(path, copy)
    grid = Desk(desk.engine, AGENT, clock)
    validation = Desk(make_engine(f"sqlite:///{copy}"), AGENT, clock)
    yield grid, validation
    validation.engine.dispose()


def mails(desk) -> list[tuple[str, str, str, str]]:
    with desk.read() as s:
        return [(m.recipients, m.subject, m.body_text, m.related_requests) for m in s.execute(
            select(OutboxMessage).order_by(OutboxMessage.subject)).scalars()]


def pending_cells(desk) -> list[tuple[int, int, date]]:
    with desk.read() as s:
        return [(r.child_id, r.unit_id, r.day) for r in s.execute(select(Request).where(
            Request.status == "pending").order_by(Request.id)).scalars()]


def test_accepted_from_the_grid_or_the_queue_reads_the_same(twin):
    grid, validation = twin
    result = cells.decide_cells(grid, pending_cells(grid), True)
    assert result.messages == 2
    queue.accept(validation, None)
    assert mails(grid) == mails(validation)
    peri = next(body for _, subject, body, _ in mails(grid) if "Périscolaire" in subject)
    assert "Repas — Emma Keller\n1 réservation acceptée le : 13/03" in peri
    assert "Repas — Jules Keller\n1 réservation acceptée le : 13/03" in peri
    assert "13/03, 13/03" not in peri


def test_refused_from_the_grid_or_the_queue_reads_the_same(twin):
    grid, validation = twin
    cells.decide_cells(grid, pending_cells(grid), False, reason="Plus de place disponible.")
    queue.refuse(validation, None, "Plus de place disponible.")
    assert mails(grid) == mails(validation)
    assert all("Motif : Plus de place disponible." in body for _, _, body, _ in mails(grid))
