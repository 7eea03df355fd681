"""A draft's billed days are written compactly (`draft_day`, issue 14: a month's first prepare at
8,000 families) and one per row once issued (`billed_day`): what the invoice bills and what the
next months regularise are the same as when every draft's day was a row; migration 0016 moves
the drafts' rows of an existing base without losing one."""

from __future__ import annotations

from datetime import date

import pytest
from alembic import command
from sqlalchemy import func, select, text

from gandrange_desk.models import BilledDay, DraftDay, Invoice
from gandrange_desk.services.billing import draft_days, invoicing
from gandrange_desk.services.system import schema
from tests.billing.test_invoicing import NOV_DAYS, lines_of
from tests.billing.test_regularisation import DEC, clock_jan, got, november  # noqa: F401 - fixture
from tests.builders import make_booking

pytestmark = pytest.mark.usefixtures("cli_user")
JAN = date(2027, 1, 1)


def _december(november):
    desk, repas, lea = november["desk"], november["repas"], november["lea"]
    clock_jan(desk)
    for day in (1, 2, 3):
        make_booking(desk, lea, repas, date(2026, 12, day))
    make_booking(desk, november["tardif_child"], repas, date(2026, 12, 1), late=True)  # surcharged
    make_booking(desk, lea, repas, NOV_DAYS[8])  # a regularisation of November, on December's invoice
    return invoicing.prepare(desk, DEC)


def _drafts_days(desk, month) -> list[tuple]:
    with desk.read() as s:
        ids = list(s.execute(select(Invoice.id).where(Invoice.month == month, Invoice.status == "draft")).scalars())
        return sorted((i, *day) for i, rows in draft_days.read(s.connection(), ids).items()
                      for day in draft_days.expand(rows))


def _billed_rows(desk, ids=None) -> list[tuple]:
    with desk.read() as s:
        query = select(BilledDay.invoice_id, BilledDay.family_id, BilledDay.child_id, BilledDay.unit_id,
                       BilledDay.day, BilledDay.state, BilledDay.price_cents, BilledDay.surcharge_cents,
                       BilledDay.pai, BilledDay.current)
        if ids is not None:
            query = query.where(BilledDay.invoice_id.in_(ids))
        return sorted(s.execute(query).tuples())


def test_issued_days_are_the_drafts_one_per_row_and_a_day_added_after_is_regularised(november):
    desk, lea = november["desk"], november["lea"]
    result = _december(november)
    assert result.invoices == 2 and result.regularisations == 1
    days = _drafts_days(desk, DEC)
    with desk.read() as s:
        compact_rows = s.execute(select(func.count()).select_from(DraftDay)).scalar_one()
    # Léa's three December days at one price are one row; with November's regularised day and
    # Tardif's surcharged day, three rows for five days.
    assert len(days) == 5 and compact_rows == 3
    assert [(d[4], d[5], d[6], d[7]) for d in days if d[2] == november["tardif_child"]] == [
        (date(2026, 12, 1), "R", 420, 100)]
    invoicing.issue(desk, DEC)
    with desk.read() as s:
        issued = list(s.execute(select(Invoice.id).where(Invoice.month == DEC, Invoice.status == "issued")).scalars())
        assert s.execute(select(func.count()).select_from(DraftDay)).scalar_one() == 0
    # Every day the drafts billed is now a row of its invoice, and the current one of its cell.
    assert _billed_rows(desk, issued) == [(*d, True) for d in days]
    with desk.read() as s:
        older = s.execute(select(func.count()).select_from(BilledDay).where(
            BilledDay.child_id == lea, BilledDay.day == NOV_DAYS[8], BilledDay.current.is_(True))).scalar_one()
    assert older == 1  # November's day billed once, by December's invoice
    # A day booked after the issue: January's invoice adds it, and only it.
    make_booking(desk, lea, november["repas"], date(2026, 12, 4))
    desk.now.set(2027, 2, 1, 9, 0)
    invoicing.prepare(desk, JAN)
    _, lines = lines_of(desk, november["martin"], JAN)
    assert got(lines) == [("Régularisation décembre 2026 — Périscolaire — Repas : jours ajoutés", 1, 420, 420,
                           "2026-12-04")]


def test_migration_0016_moves_the_drafts_days_without_losing_one(november, engine):
    desk = november["desk"]
    _december(november)
    days = _drafts_days(desk, DEC)
    issued_before = _billed_rows(desk)
    with engine.begin() as conn:
        command.downgrade(schema.alembic_config(conn), "0015")
    # At 0015 the drafts' days are rows of billed_day, never current; one cell twice in the same
    # draft, the same row again (no prepare writes it so), must survive the move as well.
    downgraded = _billed_rows(desk)
    assert sorted(r for r in downgraded if not r[-1] and r not in issued_before) == [(*d, False) for d in days]
    twice = days[0]
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO billed_day (invoice_id, family_id, child_id, unit_id, day, state, price_cents, "
                          "surcharge_cents, pai, current) VALUES (:i, :f, :c, :u, :d, :st, :p, :sur, :pai, :cur)"),
                     dict(zip(("i", "f", "c", "u", "d", "st", "p", "sur", "pai"), twice), cur=False))
    schema.upgrade(engine)
    assert _billed_rows(desk) == issued_before  # the issued invoices' rows did not move
    assert _drafts_days(desk, DEC) == sorted([*days, twice])
    with desk.read() as s:  # the same days, fewer rows
        assert s.execute(select(func.count()).select_from(DraftDay)).scalar_one() == 4
    # The month prepared and issued on the migrated base bills what it did before.
    again = invoicing.prepare(desk, DEC)
    assert (again.invoices, again.regularisations) == (2, 1)
    assert _drafts_days(desk, DEC) == days
    invoicing.issue(desk, DEC)
    with desk.read() as s:
        issued = list(s.execute(select(Invoice.id).where(Invoice.month == DEC, Invoice.status == "issued")).scalars())
    assert _billed_rows(desk, issued) == [(*d, True) for d in days]
