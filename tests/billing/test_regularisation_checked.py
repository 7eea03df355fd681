"""Preparing does not compare again an invoiced month found right and unchanged since (issue 14:
prepare at 8,000 families), and a month that changed in any way is still regularised."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from sqlalchemy import delete, event, select, update

from gandrange_desk.models import Booking, DraftDay, Invoice, InvoiceLine, QuotientRecord, RegularisationCheck
from gandrange_desk.services.billing import draft_days, invoicing
from gandrange_desk.services.reservations import cells
from tests.billing.test_invoicing import NOV, NOV_DAYS, lines_of
from tests.billing.test_regularisation import DEC, clock_jan, got, november  # noqa: F401 - fixture
from tests.builders import load_example_settings, make_booking, make_family, unit_id

pytestmark = pytest.mark.usefixtures("cli_user")


@contextlib.contextmanager
def scans(desk):
    """The grouped reads of billed days a prepare makes: one per invoiced month it compares."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        text = " ".join(statement.split()).lower()
        if "from billed_day" in text and "group by billed_day.child_id" in text:
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


def checked(desk):
    """The invoiced months known as right (a month being prepared keeps its drafts' proof there)."""
    issued = select(Invoice.month).where(Invoice.status == "issued")
    with desk.read() as s:
        return s.execute(select(RegularisationCheck.month).where(RegularisationCheck.month.in_(issued))
                         .order_by(RegularisationCheck.month)).scalars().all()


def test_an_invoiced_month_found_right_is_not_compared_again(november):
    desk = november["desk"]
    families = [november["martin"], november["sansqf"], november["tardif"]]
    # Issuing November recorded it as right: its drafts were proved to bill what the comparison finds.
    assert checked(desk) == [date(2026, 11, 1)]
    clock_jan(desk)
    with scans(desk) as first:
        result = invoicing.prepare(desk, DEC)
    assert first == [] and result.regularisations == 0
    before = everything(desk, families)
    with desk.unit_of_work() as s:  # forgotten: the month is compared in full, and found the same
        s.execute(delete(RegularisationCheck))
    with scans(desk) as second:
        again = invoicing.prepare(desk, DEC)
    assert len(second) == 1
    assert (again.invoices, again.total_cents, again.regularisations) == (
        result.invoices, result.total_cents, result.regularisations)
    assert everything(desk, families) == before
    assert checked(desk) == [date(2026, 11, 1)]  # found right again, with its prepared December
    with scans(desk) as third:
        invoicing.prepare(desk, DEC)
    assert third == []


def test_a_cell_booked_after_the_issue_is_still_regularised(november):
    desk = november["desk"]
    clock_jan(desk)
    cells.book_cells(desk, [(november["tardif_child"], november["repas"], NOV_DAYS[7])])
    with scans(desk) as seen:
        result = invoicing.prepare(desk, DEC)
    assert len(seen) == 1
    _, lines = lines_of(desk, november["tardif"], DEC)
    assert [line[0] for line in got(lines)] == [
        "Régularisation novembre 2026 — Périscolaire — Repas : jours ajoutés",
        "Régularisation novembre 2026 — Majoration hors délai — Périscolaire — Repas"]
    assert result.regularisations == 2


def test_a_cell_removed_by_hand_between_prepare_and_issue_is_still_regularised(desk, clock):
    """The proof is made on what prepare read: a row gone without a trace before the issue (which
    `_refuse_stale` cannot see) moves the fingerprint, and December compares November in full."""
    repas, family, child = _small_november(desk, clock)
    invoicing.prepare(desk, NOV)
    with desk.unit_of_work() as s:
        s.execute(delete(Booking).where(Booking.child_id == child, Booking.day == NOV_DAYS[0]))
    invoicing.issue(desk, NOV)
    clock_jan(desk)
    with scans(desk) as seen:
        invoicing.prepare(desk, DEC)
    assert len(seen) == 1
    _, lines = lines_of(desk, family, DEC)
    assert got(lines) == [("Régularisation novembre 2026 — Périscolaire — Repas : jours retirés", -1, 420, -420,
                           NOV_DAYS[0].isoformat())]


def test_drafts_changed_after_prepare_are_not_recorded_right(desk, clock):
    """A draft deleted before the issue: the drafts issued are not the ones proved, so the month
    is compared in full next time, and the family left out is billed by regularisation."""
    repas, family, child = _small_november(desk, clock)
    other = make_family(desk, "Autre", ref="F-AUT")
    make_booking(desk, other.children[0].id, repas, NOV_DAYS[2])
    clock.set(2026, 12, 1, 9, 0)
    invoicing.prepare(desk, NOV)
    with desk.unit_of_work() as s:
        gone = s.execute(select(Invoice.id).where(Invoice.family_id == other.id)).scalar_one()
        s.execute(delete(DraftDay).where(DraftDay.invoice_id == gone))
        s.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id == gone))
        s.execute(delete(Invoice).where(Invoice.id == gone))
    invoicing.issue(desk, NOV)
    assert checked(desk) == []
    clock_jan(desk)
    invoicing.prepare(desk, DEC)
    _, lines = lines_of(desk, other.id, DEC)
    assert [(line[0], line[1]) for line in got(lines)] == [
        ("Régularisation novembre 2026 — Périscolaire — Repas : jours ajoutés", 1)]


def test_a_draft_billed_day_edited_by_hand_is_not_recorded_right(desk, clock):
    repas, family, child = _small_november(desk, clock)
    invoicing.prepare(desk, NOV)
    with desk.unit_of_work() as s:
        # The draft's days of the month are one row (one price): all of them edited.
        s.execute(update(DraftDay).where(DraftDay.child_id == child, DraftDay.month == NOV).values(price_cents=1))
    invoicing.issue(desk, NOV)
    assert checked(desk) == []
    clock_jan(desk)
    result = invoicing.prepare(desk, DEC)
    assert result.regularisations == 1


def test_issuing_a_month_keeps_the_other_months_known_right_unless_it_regularises_them(november):
    desk = november["desk"]
    make_booking(desk, november["lea"], november["repas"], date(2026, 12, 1))
    make_booking(desk, november["lea"], november["repas"], date(2027, 1, 5))
    clock_jan(desk)
    invoicing.prepare(desk, DEC)
    invoicing.issue(desk, DEC)
    assert checked(desk) == [date(2026, 11, 1), date(2026, 12, 1)]
    # A November day booked late: January regularises November, so November is no longer known right.
    cells.book_cells(desk, [(november["tardif_child"], november["repas"], NOV_DAYS[7])])
    desk.now.set(2027, 2, 2, 9, 0)
    jan = date(2027, 1, 1)
    with scans(desk) as seen:
        result = invoicing.prepare(desk, jan)
    assert len(seen) == 1 and result.regularisations == 2  # November only; December skipped
    invoicing.issue(desk, jan)
    assert checked(desk) == [date(2026, 12, 1), date(2027, 1, 1)]
    desk.now.set(2027, 3, 2, 9, 0)
    with scans(desk) as seen:
        again = invoicing.prepare(desk, date(2027, 2, 1))
    assert len(seen) == 1 and again.regularisations == 0  # November compared, now right


def _small_november(desk, clock):
    clock.set(2026, 10, 20, 9, 0)
    load_example_settings(desk)
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    fam = make_family(desk, "Petit", ref="F-PET")
    child = fam.children[0].id
    for day in NOV_DAYS[:3]:
        make_booking(desk, child, repas, day)
    clock.set(2026, 12, 1, 9, 0)
    return repas, fam.id, child


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
    assert checked(desk) == []  # something to regularise: no longer known as right


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


def test_a_month_found_right_while_another_draft_regularises_it_is_compared_after_that_issue(november):
    """January's drafts regularise a November day; the day is then removed and February's
    prepare finds November right. Issuing January moves November's billed days: November is
    compared again, and the day January billed is given back."""
    desk = november["desk"]
    clock_jan(desk)
    jan, feb = date(2027, 1, 1), date(2027, 2, 1)
    cells.book_cells(desk, [(november["tardif_child"], november["repas"], NOV_DAYS[7])])
    desk.now.set(2027, 2, 2, 9, 0)
    assert invoicing.prepare(desk, jan).regularisations == 2
    with desk.unit_of_work() as s:  # removed by hand: January's drafts are not refused for it
        s.execute(delete(Booking).where(Booking.child_id == november["tardif_child"], Booking.day == NOV_DAYS[7]))
    invoicing.prepare(desk, feb)
    assert checked(desk) == [date(2026, 11, 1)]
    invoicing.issue(desk, jan)
    assert date(2026, 11, 1) not in checked(desk)
    desk.now.set(2027, 3, 2, 9, 0)
    with scans(desk) as seen:
        result = invoicing.prepare(desk, feb)
    assert len(seen) == 1
    _, lines = lines_of(desk, november["tardif"], feb)
    assert [(line[0], line[1]) for line in got(lines)] == [
        ("Régularisation novembre 2026 — Périscolaire — Repas : jours retirés", -1),
        ("Régularisation novembre 2026 — Majoration hors délai — Périscolaire — Repas : retirée", -1)]
    assert result.regularisations == 2


def _drafts_as_written(desk):
    """The month's drafts as a full replacement would leave them (row ids and versions aside)."""
    drafts = select(Invoice.id).where(Invoice.month == DEC, Invoice.status == "draft")
    with desk.read() as s:
        invoices = sorted(s.execute(select(Invoice.family_id, Invoice.total_cents, Invoice.anomalies, Invoice.number,
                                           Invoice.issued_at, Invoice.prepared_at)
                                    .where(Invoice.id.in_(drafts))).tuples())
        ids = list(s.execute(drafts).scalars())
        days = sorted(day for rows in draft_days.read(s.connection(), ids).values() for day in draft_days.expand(rows))
        lines = sorted(s.execute(select(Invoice.family_id, InvoiceLine.position, InvoiceLine.label, InvoiceLine.dates,
                                        InvoiceLine.amount_cents)
                                 .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                                 .where(Invoice.id.in_(drafts))).tuples())
    return invoices, days, lines


def test_preparing_again_rewrites_the_drafts_as_a_full_replacement_would(november):
    desk = november["desk"]
    repas, lea, tardif_child = november["repas"], november["lea"], november["tardif_child"]
    clock_jan(desk)
    for day in (1, 2, 3):
        make_booking(desk, lea, repas, date(2026, 12, day))
    make_booking(desk, tardif_child, repas, date(2026, 12, 1))
    make_booking(desk, november["sansqf_child"], repas, date(2026, 12, 2))
    invoicing.prepare(desk, DEC)
    with desk.read() as s:
        first = dict(s.execute(select(Invoice.family_id, Invoice.id).where(Invoice.month == DEC)).all())
    # Between the two runs: a draft's billed day edited and another deleted by hand, a cell
    # of an issued month booked (a regularisation), a family's only December cell deleted.
    with desk.unit_of_work() as s:
        s.execute(update(DraftDay).where(DraftDay.invoice_id == first[november["martin"]],
                                         DraftDay.month == DEC).values(price_cents=999))
        s.execute(delete(DraftDay).where(DraftDay.invoice_id == first[november["sansqf"]]))
        s.execute(delete(Booking).where(Booking.child_id == tardif_child, Booking.day == date(2026, 12, 1)))
    make_booking(desk, lea, repas, NOV_DAYS[8])
    again = invoicing.prepare(desk, DEC)
    assert again.regularisations == 1
    rewritten = _drafts_as_written(desk)
    with desk.read() as s:
        now = dict(s.execute(select(Invoice.family_id, Invoice.id).where(Invoice.month == DEC)).all())
        versions = dict(s.execute(select(Invoice.family_id, Invoice.version).where(Invoice.month == DEC)).all())
    assert november["tardif"] not in now  # nothing left to bill: its draft is gone
    assert now == {f: i for f, i in first.items() if f != november["tardif"]}  # the others kept their rows
    assert set(versions.values()) == {2}  # an edit begun on the previous drafts fails
    assert (999,) not in {(d[5],) for d in rewritten[1]}
    with desk.unit_of_work() as s:  # the same run over no drafts at all
        drafts = select(Invoice.id).where(Invoice.month == DEC, Invoice.status == "draft")
        s.execute(delete(DraftDay).where(DraftDay.invoice_id.in_(drafts)))
        s.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(drafts)))
        s.execute(delete(Invoice).where(Invoice.id.in_(drafts)))
    afresh = invoicing.prepare(desk, DEC)
    assert (afresh.invoices, afresh.total_cents, afresh.regularisations) == (
        again.invoices, again.total_cents, again.regularisations)
    assert _drafts_as_written(desk) == rewritten
