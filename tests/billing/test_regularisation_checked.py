"""Preparing does not compare again an invoiced month found right and unchanged since (issue 14:
prepare at 8,000 families), and a month that changed in any way is still regularised."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from sqlalchemy import delete, event, select

from gandrange_desk.models import Booking, QuotientRecord, RegularisationCheck
from gandrange_desk.services.billing import invoicing
from gandrange_desk.services.reservations import cells
from tests.billing.test_invoicing import NOV_DAYS, lines_of
from tests.billing.test_regularisation import DEC, clock_jan, got, november  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("cli_user")


@contextlib.contextmanager
def scans(desk):
    """The grouped reads of billed days a prepare makes: one per invoiced month it compares."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        text = " ".join(statement.split()).lower()
        if "from billed_day" in text and "group by" in text:
            seen.append(text)

    event.listen(desk.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(desk.engine, "before_cursor_execute", note)


def everything(desk, family_ids):
    out = {}
    for family_id in family_ids:
        inv, lines = lines_of(desk, family_id, DEC)
        out[family_id] = (inv.total_cents if inv else None, got(lines))
    return out


def test_an_invoiced_month_found_right_is_not_compared_again(november):
    desk = november["desk"]
    families = [november["martin"], november["sansqf"], november["tardif"]]
    clock_jan(desk)
    with scans(desk) as first:
        result = invoicing.prepare(desk, DEC)
    assert len(first) == 1 and result.regularisations == 0  # November compared, found right
    with desk.read() as s:
        assert s.execute(select(RegularisationCheck.month)).scalars().all() == [date(2026, 11, 1)]
    before = everything(desk, families)
    with scans(desk) as second:
        again = invoicing.prepare(desk, DEC)
    assert second == []  # nothing changed: November is not read again
    assert (again.invoices, again.total_cents, again.regularisations) == (
        result.invoices, result.total_cents, result.regularisations)
    assert everything(desk, families) == before


def test_a_cell_booked_after_the_check_is_still_regularised(november):
    desk = november["desk"]
    clock_jan(desk)
    invoicing.prepare(desk, DEC)  # November found right
    cells.book_cells(desk, [(november["tardif_child"], november["repas"], NOV_DAYS[7])])
    with scans(desk) as seen:
        result = invoicing.prepare(desk, DEC)
    assert len(seen) == 1
    _, lines = lines_of(desk, november["tardif"], DEC)
    assert got(lines) == [
        ("Régularisation novembre 2026 — Périscolaire — Repas : jours ajoutés", 1, 420, 420, NOV_DAYS[7].isoformat()),
        ("Régularisation novembre 2026 — Majoration hors délai — Périscolaire — Repas", 1, 100, 100,
         NOV_DAYS[7].isoformat()),
    ]
    assert result.regularisations == 2
    with desk.read() as s:  # something to regularise: no longer known as right
        assert s.execute(select(RegularisationCheck.month)).scalars().all() == []


def test_a_cell_removed_without_a_trace_is_still_regularised(november):
    desk = november["desk"]
    clock_jan(desk)
    invoicing.prepare(desk, DEC)
    # No request, no timestamp: the row is simply gone (a repair by hand, a restored file).
    with desk.unit_of_work() as s:
        s.execute(delete(Booking).where(Booking.child_id == november["sansqf_child"], Booking.day == NOV_DAYS[0]))
    invoicing.prepare(desk, DEC)
    _, lines = lines_of(desk, november["sansqf"], DEC)
    assert got(lines) == [("Régularisation novembre 2026 — Périscolaire — Repas : jours retirés", -1, 490, -490,
                           NOV_DAYS[0].isoformat())]


def test_a_back_dated_quotient_after_the_check_is_still_regularised(november):
    desk = november["desk"]
    clock_jan(desk)
    invoicing.prepare(desk, DEC)
    with desk.unit_of_work() as s:
        s.add(QuotientRecord(family_id=november["sansqf"], value=650, valid_from=date(2026, 9, 1)))
    invoicing.prepare(desk, DEC)
    _, lines = lines_of(desk, november["sansqf"], DEC)
    assert got(lines) == [("Régularisation novembre 2026 — Périscolaire — Repas : prix corrigé (3,30 € au lieu "
                           "de 4,90 €)", 4, -160, -640, ",".join(d.isoformat() for d in NOV_DAYS[:4]))]
