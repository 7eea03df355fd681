"""Attendance changes billing as the settings say: no-shows, excused absences, walk-ins and their
surcharge, on the draft's lines, on the issued PDF, and in the next month's regularisation."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from gandrange_desk.models import Invoice, InvoiceStatus
from gandrange_desk.services.attendance import records, settings as attendance_settings
from gandrange_desk.services.attendance.rules import AttendanceRules
from gandrange_desk.services.billing import invoicing
from tests.billing.test_invoicing import NOV, NOV_DAYS, book, lines_of, set_price, setup  # noqa: F401
from tests.builders import make_family, unit_id

DEC = date(2026, 12, 1)
REPAS = "Périscolaire — Repas"


def rules(desk, **values):
    current = attendance_settings.current(desk)
    attendance_settings.save(desk, AttendanceRules(**{**current.rules.__dict__, **values}), {})


def got(lines):
    return [(l.label, l.quantity, l.unit_price_cents, l.amount_cents, l.dates) for l in lines]


@pytest.fixture
def family(setup, clock):
    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    set_price(desk, repas, 420)
    fam = make_family(desk, "Pointage")
    child = fam.children[0].id
    book(desk, child, repas, NOV_DAYS[:4])
    clock.set(2026, 11, 30, 18, 0)
    return desk, fam, child, repas


def test_no_show_billed_or_not_and_excused_never(family):
    desk, fam, child, repas = family
    records.record(desk, child, repas, NOV_DAYS[0], "absent")
    records.record(desk, child, repas, NOV_DAYS[1], "excused")
    records.record(desk, child, repas, NOV_DAYS[2], "present")
    invoicing.prepare(desk, NOV)
    inv, lines = lines_of(desk, fam.id)
    assert got(lines) == [
        (REPAS, 2, 420, 840, f"{NOV_DAYS[2]},{NOV_DAYS[3]}"),
        (f"{REPAS} (absence non excusée)", 1, 420, 420, NOV_DAYS[0].isoformat()),
        (f"{REPAS} (absence excusée, non facturée)", 1, 0, 0, NOV_DAYS[1].isoformat()),
    ]
    assert inv.total_cents == 1260

    rules(desk, bill_no_shows=False)
    invoicing.prepare(desk, NOV)
    inv, lines = lines_of(desk, fam.id)
    assert got(lines) == [
        (REPAS, 2, 420, 840, f"{NOV_DAYS[2]},{NOV_DAYS[3]}"),
        (f"{REPAS} (absence non excusée, non facturée)", 1, 0, 0, NOV_DAYS[0].isoformat()),
        (f"{REPAS} (absence excusée, non facturée)", 1, 0, 0, NOV_DAYS[1].isoformat()),
    ]
    assert inv.total_cents == 840


def test_walk_in_billed_with_its_surcharge_then_not_at_all(family):
    desk, fam, child, repas = family
    other = make_family(desk, "Imprevu")
    walker = other.children[0].id
    rules(desk, walk_in_surcharge_percent=10, walk_in_surcharge_cents=50)
    records.record(desk, walker, repas, NOV_DAYS[5], "walk_in")
    records.record(desk, walker, repas, NOV_DAYS[7], "walk_in")
    result = invoicing.prepare(desk, NOV)
    inv, lines = lines_of(desk, other.id)
    # 10 % of 4,20 € (0,42 €) plus 0,50 €.
    assert got(lines) == [
        (f"{REPAS} (présences sans réservation)", 2, 420, 840, f"{NOV_DAYS[5]},{NOV_DAYS[7]}"),
        (f"Majoration présence sans réservation — {REPAS}", 2, 92, 184, f"{NOV_DAYS[5]},{NOV_DAYS[7]}"),
    ]
    assert inv.total_cents == 1024 and result.invoices == 2

    rules(desk, bill_walk_ins=False)
    result = invoicing.prepare(desk, NOV)
    assert result.invoices == 1  # walk-ins alone make no invoice when they are not billed
    inv, _ = lines_of(desk, other.id)
    assert inv is None


def test_issued_pdf_says_what_was_billed_and_what_was_not(family, clock):
    desk, fam, child, repas = family
    rules(desk, walk_in_surcharge_cents=100)
    records.record(desk, child, repas, NOV_DAYS[1], "excused")
    records.record(desk, child, repas, NOV_DAYS[5], "walk_in")
    clock.set(2026, 12, 1, 9, 0)
    invoicing.prepare(desk, NOV)
    invoicing.issue(desk, NOV)
    with desk.read() as s:
        inv = s.execute(select(Invoice).where(Invoice.family_id == fam.id)).scalar_one()
        assert inv.status == InvoiceStatus.ISSUED
        text = " ".join(" ".join(p.extract_text().split()) for p in PdfReader(io.BytesIO(inv.pdf)).pages)
    assert "absence excusée, non facturée" in text
    assert "présence sans réservation" in text
    assert "Majoration présence sans réservation" in text
    assert "17,80" in text  # 3 × 4,20 + 4,20 + 1,00


def test_attendance_changed_after_issue_is_regularised_once(family, clock):
    desk, fam, child, repas = family
    rules(desk, walk_in_surcharge_cents=100)
    clock.set(2026, 12, 1, 9, 0)
    invoicing.prepare(desk, NOV)
    invoicing.issue(desk, NOV)
    _, lines = lines_of(desk, fam.id)
    assert [l.amount_cents for l in lines] == [1680]
    # Marked after the invoice: an excused absence and a walk-in of the invoiced month.
    clock.set(2026, 12, 2, 9, 0)
    note = records.record(desk, child, repas, NOV_DAYS[2], "excused").note
    assert "régularisé sur la prochaine facture" in note
    records.record(desk, child, repas, NOV_DAYS[6], "walk_in")
    book(desk, child, repas, [date(2026, 12, 1)])
    clock.set(2027, 1, 5, 9, 0)
    invoicing.prepare(desk, DEC)
    inv, lines = lines_of(desk, fam.id, DEC)
    assert got(lines) == [
        (REPAS, 1, 420, 420, "2026-12-01"),
        (f"Régularisation novembre 2026 — {REPAS} : présences sans réservation facturées", 1, 420, 420,
         NOV_DAYS[6].isoformat()),
        (f"Régularisation novembre 2026 — {REPAS} : absences excusées retirées", -1, 420, -420,
         NOV_DAYS[2].isoformat()),
        (f"Régularisation novembre 2026 — Majoration présence sans réservation — {REPAS}", 1, 100, 100,
         NOV_DAYS[6].isoformat()),
    ]
    assert inv.total_cents == 520
    invoicing.issue(desk, DEC)
    book(desk, child, repas, [date(2027, 1, 4)])
    clock.set(2027, 2, 2, 9, 0)
    invoicing.prepare(desk, date(2027, 1, 1))
    _, lines = lines_of(desk, fam.id, date(2027, 1, 1))
    assert [l.kind for l in lines] == ["normal"]  # billed once


def test_a_mark_after_preparing_makes_the_drafts_stale(family, clock):
    from gandrange_desk.errors import DeskError

    desk, fam, child, repas = family
    clock.set(2026, 12, 1, 9, 0)
    invoicing.prepare(desk, NOV)
    clock.set(2026, 12, 1, 10, 0)
    records.record(desk, child, repas, NOV_DAYS[3], "excused")
    with pytest.raises(DeskError, match="ont changé depuis la préparation"):
        invoicing.issue(desk, NOV)


def test_a_cell_booked_after_preparing_makes_the_drafts_stale(family, clock):
    """Found through the bookings written since preparing (index on updated_at), the same
    refusal as before: a November cell booked after the drafts counts (the cell and its request),
    a December cell does not."""
    from gandrange_desk.errors import DeskError
    from gandrange_desk.services.reservations import cells

    desk, fam, child, repas = family
    clock.set(2026, 12, 1, 9, 0)
    invoicing.prepare(desk, NOV)
    clock.set(2026, 12, 1, 10, 0)
    cells.book_cells(desk, [(child, repas, date(2026, 12, 3))])  # December: not this month's drafts
    cells.book_cells(desk, [(child, repas, NOV_DAYS[5])])
    with pytest.raises(DeskError, match=r"ont changé depuis la préparation \(2 changements\)"):
        invoicing.issue(desk, NOV)
    invoicing.prepare(desk, NOV)
    assert invoicing.issue(desk, NOV).invoices == 1


def test_attestation_lists_billed_days_and_real_attendance(family, clock):
    from gandrange_desk.services.billing import attestations

    desk, fam, child, repas = family
    records.record(desk, child, repas, NOV_DAYS[0], "present")
    records.record(desk, child, repas, NOV_DAYS[1], "excused")
    records.record(desk, child, repas, NOV_DAYS[2], "absent")
    clock.set(2026, 12, 1, 9, 0)
    invoicing.prepare(desk, NOV)
    invoicing.issue(desk, NOV)
    att = attestations.period_attestation(desk, fam.id, NOV, date(2026, 11, 30))
    # Billed: the days booked less the excused one (the no-show is billed, the settings say so).
    assert sorted((a.unit_label, a.days, a.amount_cents) for a in att.billed) == [
        (REPAS, [NOV_DAYS[0], NOV_DAYS[3]], 840), (f"{REPAS} (absence non excusée)", [NOV_DAYS[2]], 420)]
    # There: marked present, and the day nobody marked, from its reservation.
    assert [(a.days, a.presumed) for a in att.attendance] == [([NOV_DAYS[0], NOV_DAYS[3]], [NOV_DAYS[3]])]
