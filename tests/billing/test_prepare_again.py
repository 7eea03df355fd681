"""Preparing a month again builds only the drafts whose inputs changed (issue 14: prepare at
8,000 families): an unchanged month writes no line nor billed day and gives the same drafts; one
changed cell rebuilds exactly that family's draft; a draft's row changed by hand is rebuilt."""

from __future__ import annotations

import contextlib
from datetime import date

import pytest
from sqlalchemy import delete, event, select, update

from gandrange_desk.models import DraftDay, Invoice, InvoiceLine
from gandrange_desk.services.billing import draft_days, invoicing
from tests.billing.test_invoicing import NOV_DAYS
from tests.billing.test_regularisation import DEC, clock_jan, november  # noqa: F401 - fixture
from tests.billing.test_regularisation_checked import _drafts_as_written
from tests.builders import make_booking

pytestmark = pytest.mark.usefixtures("cli_user")


@contextlib.contextmanager
def writes(desk):
    """The statements a prepare writes the drafts' lines and billed days with."""
    seen: list[str] = []

    def note(_conn, _cursor, statement, *_args):
        text = " ".join(statement.split()).lower()
        if text.startswith(("insert", "update", "delete")) and ("draft_day" in text or "invoice_line" in text):
            seen.append(text)

    event.listen(desk.engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(desk.engine, "before_cursor_execute", note)


@contextlib.contextmanager
def built(monkeypatch):
    """The families whose draft a prepare builds."""
    families: list[int] = []
    real = invoicing.family_draft

    def spy(family_id, *args, **kwargs):
        families.append(family_id)
        return real(family_id, *args, **kwargs)

    monkeypatch.setattr(invoicing, "family_draft", spy)
    yield families


def _december(november):
    desk, repas = november["desk"], november["repas"]
    clock_jan(desk)
    for day in (1, 2, 3):
        make_booking(desk, november["lea"], repas, date(2026, 12, day))
    make_booking(desk, november["tardif_child"], repas, date(2026, 12, 1))
    make_booking(desk, november["sansqf_child"], repas, date(2026, 12, 2))
    make_booking(desk, november["lea"], repas, NOV_DAYS[8])  # a regularisation of November
    return invoicing.prepare(desk, DEC)


def _afresh(desk):
    """The same month prepared over no drafts at all."""
    with desk.unit_of_work() as s:
        drafts = select(Invoice.id).where(Invoice.month == DEC, Invoice.status == "draft")
        s.execute(delete(DraftDay).where(DraftDay.invoice_id.in_(drafts)))
        s.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(drafts)))
        s.execute(delete(Invoice).where(Invoice.id.in_(drafts)))
    result = invoicing.prepare(desk, DEC)
    return result, _drafts_as_written(desk)


def _summary(result):
    return result.invoices, result.total_cents, result.regularisations, result.with_anomalies, result.unpriced


def test_preparing_twice_without_a_change_writes_nothing_and_gives_the_same_drafts(november, monkeypatch):
    desk = november["desk"]
    first = _december(november)
    assert first.invoices == 3 and first.regularisations == 1
    drafts = _drafts_as_written(desk)
    with desk.read() as s:
        versions = dict(s.execute(select(Invoice.id, Invoice.version).where(Invoice.month == DEC)).all())
    with built(monkeypatch) as families, writes(desk) as written:
        again = invoicing.prepare(desk, DEC)
    assert families == [] and written == []  # nothing built, no line nor billed day written
    assert _summary(again) == _summary(first)
    assert _drafts_as_written(desk) == drafts
    with desk.read() as s:  # stamped as prepared again: an edit begun before fails as it did
        assert dict(s.execute(select(Invoice.id, Invoice.version).where(Invoice.month == DEC)).all()) == {
            i: v + 1 for i, v in versions.items()}
    fresh, fresh_drafts = _afresh(desk)
    assert _summary(fresh) == _summary(first) and fresh_drafts == drafts


def test_one_changed_cell_rebuilds_exactly_that_familys_draft(november, monkeypatch):
    desk = november["desk"]
    _december(november)
    with desk.read() as s:
        draft_of = dict(s.execute(select(Invoice.family_id, Invoice.id).where(Invoice.month == DEC)).all())
    make_booking(desk, november["sansqf_child"], november["repas"], date(2026, 12, 3))
    with built(monkeypatch) as families, writes(desk) as written:
        again = invoicing.prepare(desk, DEC)
    assert families == [november["sansqf"]]
    assert written  # its new day and line
    with desk.read() as s:
        found = draft_days.read(s.connection(), list(draft_of.values()))
    days = [(i, d) for i, rows in found.items() for _f, c, _u, d, *_ in draft_days.expand(rows)
            if c == november["sansqf_child"] and d >= DEC]
    assert sorted(days) == [(draft_of[november["sansqf"]], date(2026, 12, d)) for d in (2, 3)]
    rewritten = _drafts_as_written(desk)
    fresh, fresh_drafts = _afresh(desk)
    assert _summary(fresh) == _summary(again) and fresh_drafts == rewritten


def test_a_draft_row_changed_by_hand_is_rebuilt_even_when_its_totals_are_the_same(november, monkeypatch):
    desk = november["desk"]
    _december(november)
    with desk.read() as s:
        draft_of = dict(s.execute(select(Invoice.family_id, Invoice.id).where(Invoice.month == DEC)).all())
    with desk.unit_of_work() as s:  # the state of a billed day, its price kept: same count and sums
        s.execute(update(DraftDay).where(DraftDay.invoice_id == draft_of[november["tardif"]])
                  .values(state="AF"))
        s.execute(update(InvoiceLine).where(InvoiceLine.invoice_id == draft_of[november["martin"]],
                                            InvoiceLine.position == 0).values(quantity=InvoiceLine.quantity + 1))
    with built(monkeypatch) as families:
        again = invoicing.prepare(desk, DEC)
    assert sorted(families) == sorted([november["tardif"], november["martin"]])
    rewritten = _drafts_as_written(desk)
    assert {d[4] for d in rewritten[1]} == {"R"}
    fresh, fresh_drafts = _afresh(desk)
    assert _summary(fresh) == _summary(again) and fresh_drafts == rewritten


def test_another_version_of_the_billing_code_builds_every_draft_again(november, monkeypatch):
    from gandrange_desk.services.billing import draft_keys

    desk = november["desk"]
    _december(november)
    monkeypatch.setattr(draft_keys, "_CODE", [b"another version"])
    with built(monkeypatch) as families:
        invoicing.prepare(desk, DEC)
    assert sorted(families) == sorted([november["martin"], november["sansqf"], november["tardif"]])


def test_a_quotient_entered_for_one_family_rebuilds_that_familys_draft_only(november, monkeypatch):
    from gandrange_desk.models import QuotientRecord

    desk = november["desk"]
    _december(november)
    with desk.unit_of_work() as s:  # from December: its own price changes, no other family's
        s.add(QuotientRecord(family_id=november["sansqf"], value=650, valid_from=date(2026, 12, 1)))
    with built(monkeypatch) as families:
        again = invoicing.prepare(desk, DEC)
    assert families == [november["sansqf"]]
    rewritten = _drafts_as_written(desk)
    fresh, fresh_drafts = _afresh(desk)
    assert _summary(fresh) == _summary(again) and fresh_drafts == rewritten


def test_a_first_prepare_keeps_its_rows_sums_as_the_database_reads_them_back(november, monkeypatch):
    """A month prepared over no drafts stores each draft's row sums computed from the values it
    writes (`draft_keys.content_of_rows`), not read back: they are the ones the next run reads
    from the database, so preparing again builds nothing."""
    from gandrange_desk.services.billing import draft_keys

    desk = november["desk"]
    _december(november)
    _afresh(desk)
    with desk.read() as s:
        keys = dict(s.execute(select(Invoice.id, Invoice.draft_key).where(Invoice.month == DEC)).all())
        rows_now = draft_keys.content_of_drafts(s.connection(), DEC)
    assert len(keys) == 3 and {i: draft_keys.split(k)[1] for i, k in keys.items()} == rows_now
    with built(monkeypatch) as families, writes(desk) as written:
        invoicing.prepare(desk, DEC)
    assert families == [] and written == []


def test_the_rows_sums_from_values_are_the_databases_for_odd_rows_too(november):
    """Negative amounts (SQL's `%` keeps the sign), a state or kind outside the usual ones, a
    line without child: the sums made from the values equal those the database makes."""
    from gandrange_desk.services.billing import draft_keys

    desk = november["desk"]
    _december(november)
    with desk.unit_of_work() as s:
        invoice_id = s.execute(select(Invoice.id).where(Invoice.month == DEC).order_by(Invoice.id).limit(1)).scalar()
        s.execute(update(DraftDay).where(DraftDay.invoice_id == invoice_id)
                  .values(price_cents=-1_234_567, surcharge_cents=-89, state="XYZ", pai=True))
        s.execute(update(InvoiceLine).where(InvoiceLine.invoice_id == invoice_id)
                  .values(child_id=None, kind="autre", unit_price_cents=-999_999, amount_cents=-1_999_998,
                          label="Régularisation — été", dates=""))
    with desk.read() as s:
        # Through the ORM's types (dates, booleans), as the values are made before they are written.
        records = s.execute(select(DraftDay.family_id, DraftDay.child_id, DraftDay.unit_id, DraftDay.month,
                                   DraftDay.days, DraftDay.state, DraftDay.price_cents, DraftDay.surcharge_cents,
                                   DraftDay.pai).where(DraftDay.invoice_id == invoice_id)).tuples().all()
        lines = [dict(row._mapping) for row in s.execute(
            select(InvoiceLine.child_id, InvoiceLine.unit_id, InvoiceLine.kind, InvoiceLine.quantity,
                   InvoiceLine.unit_price_cents, InvoiceLine.amount_cents, InvoiceLine.label, InvoiceLine.dates)
            .where(InvoiceLine.invoice_id == invoice_id).order_by(InvoiceLine.position))]
        positions = s.execute(select(InvoiceLine.position).where(InvoiceLine.invoice_id == invoice_id)
                              .order_by(InvoiceLine.position)).scalars().all()
        from_database = draft_keys.content_of_drafts(s.connection(), DEC, [invoice_id])[invoice_id]
    assert records and lines and positions == list(range(len(lines)))
    assert draft_keys.content_of_rows(records, lines) == from_database


def test_the_cycle_collector_resumes_as_it_was_once_the_run_is_over(november, monkeypatch):
    """A prepare pauses Python's cycle collector while it builds the drafts (a million small
    tuples at 8,000 families) and resumes it, as it was, after its own objects are freed: a
    collection at the resume would walk them all for nothing."""
    import gc

    desk = november["desk"]
    _december(november)
    paused_in_run: list[bool] = []
    real = invoicing.family_draft

    def spy(*args, **kwargs):
        paused_in_run.append(not gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(invoicing, "family_draft", spy)
    was = gc.isenabled()
    try:
        gc.enable()
        result, _rows = _afresh(desk)  # every draft built
        assert result.invoices and paused_in_run and all(paused_in_run)
        assert gc.isenabled()
        gc.disable()
        invoicing.prepare(desk, DEC)
        assert not gc.isenabled()  # a caller that had it off keeps it off
    finally:
        if was:
            gc.enable()
