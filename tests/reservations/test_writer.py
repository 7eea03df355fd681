"""The one cell writer: a round written at once must equal the same round written row by row.

The same queue is built twice (two copies of one database). On one copy the writer writes each
decision as soon as the rules judged it (its one-row case: one conditional UPDATE, one cell, one
audit row at a time); on the other it writes the whole round at the end, grouped into a few
statements. Every request, cell, audit row and e-mail must come out identical, and so must the
refusals.
"""

from __future__ import annotations

import json
import shutil
from datetime import date

import pytest
from sqlalchemy import select

from gandrange_desk.db import make_engine
from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import AuditEntry, Booking, Invoice, InvoiceStatus, OutboxMessage, Request, Unit
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.services import queue
from gandrange_desk.services.context import Actor, Desk
from gandrange_desk.services.reservations.engine import CellBatch
from tests.builders import load_example_settings, make_family, unit_id
from tests.queue.test_queue import _reserve


@pytest.fixture
def twin(desk, clock, backend, tmp_path):
    """(per-request desk, bulk desk) on two copies of one queue of bookings and cancellations."""
    if backend != "sqlite":
        pytest.skip("copies of the database file: SQLite only (PostgreSQL runs the bulk path in the concurrency tests)")
    clock.set(2026, 5, 4, 10, 0)
    load_example_settings(desk)
    with desk.unit_of_work() as s:
        s.get(Unit, unit_id(s, "MERCREDI", "Matin")).capacity = 2
    entries = []
    for n in range(4):
        make_family(desk, f"Fam{n}", ref=f"F-{n}", children=[
            {"ref": f"E-{n}", "first_name": f"Enfant{n}", "birth_date": date(2019, 1, 1)}])
        _reserve(desk, f"E-{n}", "MERCREDI", "Journée complète", [date(2026, 5, 6), date(2026, 5, 13), date(2026, 5, 20)])
        entries += [
            {"ref": f"P-{n}-c", "kind": "cancellation", "submitted_at": "2026-05-04T09:00:00+02:00",
             "family_ref": f"F-{n}", "child_ref": f"E-{n}", "activity": "MERCREDI", "unit": "Journée complète",
             "dates": ["2026-05-06", "2026-05-13", "2026-05-20"]},
            {"ref": f"P-{n}-b", "kind": "booking", "submitted_at": "2026-05-04T08:00:00+02:00",
             "family_ref": f"F-{n}", "child_ref": f"E-{n}", "activity": "PERISCOLAIRE", "unit": "Repas",
             "dates": ["2026-05-05", "2026-05-07", "2026-05-11", "2026-05-12"]},
            {"ref": f"P-{n}-m", "kind": "booking", "submitted_at": "2026-04-20T08:00:00+02:00",
             "family_ref": f"F-{n}", "child_ref": f"E-{n}", "activity": "MERCREDI", "unit": "Matin",
             "dates": ["2026-05-27"]},
        ]
    intake.import_feed(desk, json.dumps({"requests": entries}))
    path = desk.engine.url.database
    desk.engine.dispose()
    copy = tmp_path / "copy.sqlite3"
    shutil.copy(path, copy)
    actor = Actor("sfoncin", "Sandrine Foncin", "agent")
    one = Desk(desk.engine, actor, clock)
    many = Desk(make_engine(f"sqlite:///{copy}"), actor, clock)
    yield one, many
    many.engine.dispose()


def rows(desk) -> dict:
    with desk.read() as s:
        return {
            "requests": [tuple(getattr(r, c) for c in (
                "id", "status", "to_state", "billing", "billing_override_reason", "capacity_override", "reason",
                "decided_by", "decided_at")) for r in s.execute(select(Request).order_by(Request.id)).scalars()],
            "cells": s.execute(select(Booking.child_id, Booking.unit_id, Booking.day, Booking.state, Booking.late,
                                      Booking.updated_by).order_by(Booking.child_id, Booking.unit_id, Booking.day)).all(),
            "audit": s.execute(select(AuditEntry.action, AuditEntry.entity_id, AuditEntry.family_id,
                                      AuditEntry.before, AuditEntry.after, AuditEntry.user_login)
                               .where(AuditEntry.action == "decide").order_by(AuditEntry.entity_id)).all(),
            "mails": s.execute(select(OutboxMessage.family_id, OutboxMessage.recipients, OutboxMessage.subject,
                                      OutboxMessage.body_text, OutboxMessage.related_requests)
                               .order_by(OutboxMessage.family_id, OutboxMessage.subject)).all(),
        }


def both(monkeypatch, one, many, fn):
    original = CellBatch.decide

    def one_at_a_time(self, *args, **kwargs):
        outcome = original(self, *args, **kwargs)
        self.writer.flush()
        return outcome

    with monkeypatch.context() as m:
        m.setattr(CellBatch, "decide", one_at_a_time)
        first = fn(one)
    second = fn(many)
    return first, second


def test_accept_with_overrides_and_capacity_override(twin, monkeypatch):
    one, many = twin
    items = queue.pending_items(one)
    cancels = [i for i in items if i.kind == "cancellation"]
    overrides = {cancels[0].id: ("excused", "Certificat médical"), cancels[2].id: ("billed", "Trop tard")}
    ids = [i.id for i in items]
    a, b = both(monkeypatch, one, many, lambda d: queue.accept(d, ids, overrides=overrides, capacity_override=True))
    assert a.decided == b.decided and a.messages == b.messages == 8
    assert rows(one) == rows(many)


def test_accept_with_round_billing(twin, monkeypatch):
    one, many = twin
    ids = [i.id for i in queue.pending_items(one) if i.kind == "cancellation"]
    both(monkeypatch, one, many, lambda d: queue.accept(d, ids, billing="billed"))
    assert rows(one) == rows(many)


def test_refuse(twin, monkeypatch):
    one, many = twin
    both(monkeypatch, one, many, lambda d: queue.refuse(d, None, "Plus de place disponible."))
    after = rows(one)
    assert after == rows(many)
    assert {r[1] for r in after["requests"] if r[6]} == {"refused"}


def test_same_refusals_same_words_nothing_written(twin, monkeypatch):
    one, many = twin
    for d in (one, many):
        with d.unit_of_work() as s:
            s.add(Invoice(family_id=1, month=date(2026, 5, 1), status=InvoiceStatus.ISSUED, number="2026-000001"))
    before = rows(one)

    def attempt(d):
        with pytest.raises(ValidationFailed) as info:
            queue.accept(d, None)
        return info.value.problems

    a, b = both(monkeypatch, one, many, attempt)
    assert a == b
    assert any("complet (2 places)" in p for p in a)
    # May is invoiced: its requests are not refused for that (regularisation, not a lock).
    assert not any("émises" in p or "verrouillé" in p for p in a)
    assert rows(one) == before == rows(many)


def test_issued_month_decided_the_same_way_and_counted(twin, monkeypatch):
    one, many = twin
    for d in (one, many):
        with d.unit_of_work() as s:
            s.add(Invoice(family_id=1, month=date(2026, 5, 1), status=InvoiceStatus.ISSUED, number="2026-000001"))
    a, b = both(monkeypatch, one, many, lambda d: queue.accept(d, None, capacity_override=True))
    assert a.decided == b.decided and rows(one) == rows(many)
    # Every cell request of the queue is in May, the month already invoiced.
    assert a.regularisations == b.regularisations == len(a.decided)
    assert "d'un mois déjà facturé : régularisation sur la prochaine facture." in a.summary()
