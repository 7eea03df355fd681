"""Money after issue (DESIGN §5): no locked months; what was billed per day against today's truth.

A November is issued, then real life happens: a cancellation asked in time but pending at
issue is decided, `queue accept --all` runs, a feed arrives with an entry for November, a
quotient comes back-dated, the office books a late day that carries a surcharge. December's
invoice carries each difference once, as "Régularisation novembre 2026" lines.
"""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from sqlalchemy import func, select, update

from gandrange_desk.cli import main
from gandrange_desk.clock import PARIS
from gandrange_desk.models import (
    Activity, BilledDay, Booking, Invoice, InvoiceStatus, QuotientRecord, Request, RequestStatus, Tariff, Unit,
)
from gandrange_desk.services import queue
from gandrange_desk.services.billing import invoicing
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.services.reservations import cells
from tests.billing.test_invoicing import NOV, NOV_DAYS, lines_of
from tests.builders import load_example_settings, make_booking, make_family, unit_id

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

DEC = date(2026, 12, 1)


def plain(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def got(lines):
    return [(plain(l.label), l.quantity, l.unit_price_cents, l.amount_cents, l.dates) for l in lines]


@pytest.fixture
def november(desk, clock):
    """November 2026 issued on 1 December: three families, one DA and one DR pending at issue."""
    clock.set(2026, 10, 20, 9, 0)
    load_example_settings(desk)
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    with desk.unit_of_work() as s:  # Repas: 1,00 € more for a booking accepted hors délai
        s.execute(update(Tariff).where(Tariff.unit_id == repas).values(late_surcharge_cents=100))
    martin = make_family(desk, "Martin", ref="F-MAR", children=[{"ref": "E-MAR", "first_name": "Léa"}])
    sansqf = make_family(desk, "Sansqf", ref="F-SQF", quotient=None)
    tardif = make_family(desk, "Tardif", ref="F-TAR")
    lea = martin.children[0].id
    for day in NOV_DAYS[:6]:
        make_booking(desk, lea, repas, day)
    make_booking(desk, lea, repas, NOV_DAYS[12], state="DA")  # 23/11, asked in time: excusée
    make_booking(desk, lea, repas, NOV_DAYS[13], state="DR")  # 24/11, asked in time
    for day in NOV_DAYS[:4]:
        make_booking(desk, sansqf.children[0].id, repas, day)
    make_booking(desk, tardif.children[0].id, repas, NOV_DAYS[0])
    clock.set(2026, 12, 1, 9, 0)
    result = invoicing.prepare(desk, NOV)
    assert result.invoices == 3 and result.regularisations == 0
    invoicing.issue(desk, NOV)
    clock.set(2026, 12, 2, 10, 0)
    return {"desk": desk, "repas": repas, "lea": lea, "martin": martin.id, "sansqf": sansqf.id,
            "tardif": tardif.id, "tardif_child": tardif.children[0].id, "sansqf_child": sansqf.children[0].id}


def test_issue_records_what_was_billed_per_day(november):
    desk = november["desk"]
    with desk.read() as s:
        rows = s.execute(select(BilledDay.day, BilledDay.state, BilledDay.price_cents, BilledDay.surcharge_cents)
                         .where(BilledDay.child_id == november["lea"]).order_by(BilledDay.day)).all()
    # Six reserved days at 4,20 € (QF 800); the pending DA and DR were not billed.
    assert rows == [(d, "R", 420, 0) for d in NOV_DAYS[:6]]


def test_pending_requests_at_issue_stay_decidable_and_accept_all_runs(november, db_url, capsys):
    desk = november["desk"]
    assert main(["--db", db_url, "queue", "list"]) == 0
    assert "mois facturé : régularisation sur la prochaine facture" in capsys.readouterr().out
    assert main(["--db", db_url, "queue", "accept", "--all"]) == 0
    out = capsys.readouterr().out
    assert "2 demandes acceptées" in out
    assert "2 cases d'un mois déjà facturé : régularisation sur la prochaine facture." in out
    with desk.read() as s:
        states = dict(s.execute(select(Booking.day, Booking.state).where(Booking.child_id == november["lea"])).all())
    assert NOV_DAYS[12] not in states and states[NOV_DAYS[13]] == "R"  # excusée: no cell; accepted: R
    clock_jan(desk)
    invoicing.prepare(desk, DEC)
    _, lines = lines_of(desk, november["martin"], DEC)
    # The excused cancellation was never billed: nothing to do. The booking accepted late is added.
    assert got(lines) == [("Régularisation novembre 2026 — Périscolaire — Repas : jours ajoutés", 1, 420, 420,
                           NOV_DAYS[13].isoformat())]


def test_feed_with_an_entry_for_an_issued_month_is_taken_and_flagged(november):
    desk = november["desk"]
    doc = {"requests": [
        {"ref": "P-9001", "kind": "cancellation", "submitted_at": "2026-12-02T09:00:00+01:00",
         "family_ref": "F-MAR", "child_ref": "E-MAR", "activity": "PERISCOLAIRE", "unit": "Repas",
         "dates": [NOV_DAYS[4].isoformat()]},
        {"ref": "P-9002", "kind": "booking", "submitted_at": "2026-12-02T09:00:00+01:00",
         "family_ref": "F-MAR", "child_ref": "E-MAR", "activity": "PERISCOLAIRE", "unit": "Repas",
         "dates": ["2026-12-14"]},
    ]}
    result = intake.import_feed(desk, json.dumps(doc))
    assert (result.entries, result.requests, result.regularisations) == (2, 2, 1)
    assert "1 case d'un mois déjà facturé : régularisation sur la prochaine facture" in result.summary()
    items = {i.ref: i for i in queue.pending_items(desk)}
    assert items["P-9001"].regularisation and not items["P-9002"].regularisation
    assert items["P-9001"].as_json()["regularisation"] is True
    # A late cancellation proposes "facturée"; a medical certificate makes it excusée.
    decided = queue.accept(desk, [items["P-9001"].id], overrides={items["P-9001"].id: ("excused", "Certificat médical")})
    assert decided.regularisations == 1
    clock_jan(desk)
    invoicing.prepare(desk, DEC)
    _, lines = lines_of(desk, november["martin"], DEC)
    assert got(lines) == [("Régularisation novembre 2026 — Périscolaire — Repas : jours retirés", -1, 420, -420,
                           NOV_DAYS[4].isoformat())]


def test_back_dated_quotient_and_late_surcharge_regularised_once(november, clock):
    desk = november["desk"]
    # The family's quotient arrives in December, valid from 1 September: November was billed
    # at the top bracket (4,90 €), it should have been 3,30 €.
    with desk.unit_of_work() as s:
        s.add(QuotientRecord(family_id=november["sansqf"], value=650, valid_from=date(2026, 9, 1)))
    # The office books a November day after the deadline: billed with its surcharge.
    cell = (november["tardif_child"], november["repas"], NOV_DAYS[7])
    booked = cells.book_cells(desk, [cell])
    assert booked.regularisations == 1
    clock_jan(desk)
    result = invoicing.prepare(desk, DEC)
    _, lines = lines_of(desk, november["sansqf"], DEC)
    assert got(lines) == [("Régularisation novembre 2026 — Périscolaire — Repas : prix corrigé (3,30 € au lieu "
                           "de 4,90 €)", 4, -160, -640, ",".join(d.isoformat() for d in NOV_DAYS[:4]))]
    inv, lines = lines_of(desk, november["tardif"], DEC)
    assert got(lines) == [
        ("Régularisation novembre 2026 — Périscolaire — Repas : jours ajoutés", 1, 420, 420, NOV_DAYS[7].isoformat()),
        ("Régularisation novembre 2026 — Majoration hors délai — Périscolaire — Repas", 1, 100, 100,
         NOV_DAYS[7].isoformat()),
    ]
    assert inv.total_cents == 520
    assert result.regularisations == 3 and "3 lignes de régularisation" in result.text()
    # Issued in December, the differences are billed once: January has nothing to regularise.
    invoicing.issue(desk, DEC)
    clock.set(2027, 2, 2, 9, 0)
    again = invoicing.prepare(desk, date(2027, 1, 1))
    assert (again.invoices, again.regularisations) == (0, 0)


def test_cancelling_a_late_booking_removes_its_surcharge_too(november):
    desk = november["desk"]
    # The late booking billed with its surcharge in November, then cancelled as excused.
    cell = (november["tardif_child"], november["repas"], NOV_DAYS[1])
    cells.book_cells(desk, [cell])
    clock_jan(desk)
    invoicing.prepare(desk, DEC)
    invoicing.issue(desk, DEC)
    desk.now.set(2027, 1, 5, 9, 0)
    cells.cancel_cells(desk, [cell], billing="excused", reason="Erreur du bureau")
    desk.now.set(2027, 2, 2, 9, 0)
    invoicing.prepare(desk, date(2027, 1, 1))
    _, lines = lines_of(desk, november["tardif"], date(2027, 1, 1))
    assert got(lines) == [
        ("Régularisation novembre 2026 — Périscolaire — Repas : jours retirés", -1, 420, -420, NOV_DAYS[1].isoformat()),
        ("Régularisation novembre 2026 — Majoration hors délai — Périscolaire — Repas : retirée", -1, 100, -100,
         NOV_DAYS[1].isoformat()),
    ]


def test_a_cancellation_pending_at_issue_of_a_billed_day_keeps_it_billed_until_decided(november):
    desk = november["desk"]
    cell = (november["lea"], november["repas"], NOV_DAYS[2])
    assert cells.ask_cancel_cells(desk, [cell]).regularisations == 1  # R → DA in November
    clock_jan(desk)
    invoicing.prepare(desk, DEC)
    assert lines_of(desk, november["martin"], DEC)[1] == []  # still billed: nothing yet
    desk.now.set(2027, 1, 4, 10, 0)
    cells.decide_cells(desk, [cell], False, reason="Hors délai")  # refused: stays R
    invoicing.prepare(desk, DEC)
    assert lines_of(desk, november["martin"], DEC)[1] == []


def test_another_month_issued_since_preparation_makes_drafts_stale(november, clock):
    desk = november["desk"]
    make_booking(desk, november["lea"], november["repas"], date(2026, 12, 3))
    make_booking(desk, november["lea"], november["repas"], date(2027, 1, 4))
    cells.book_cells(desk, [(november["lea"], november["repas"], NOV_DAYS[6])])  # November changed
    clock.set(2027, 2, 1, 9, 0)
    invoicing.prepare(desk, date(2027, 1, 1))  # January prepared before December: both regularise it
    clock.set(2027, 2, 1, 9, 30)
    invoicing.prepare(desk, DEC)
    invoicing.issue(desk, DEC)
    with pytest.raises(invoicing.DeskError, match="décembre 2026 ont été émises depuis la préparation"):
        invoicing.issue(desk, date(2027, 1, 1))
    clock.set(2027, 2, 1, 10, 0)
    invoicing.prepare(desk, date(2027, 1, 1))  # prepared again: November's day is billed once
    _, lines = lines_of(desk, november["martin"], date(2027, 1, 1))
    assert [l.kind for l in lines] == ["normal"]
    invoicing.issue(desk, date(2027, 1, 1))


def clock_jan(desk):
    desk.now.set(2027, 1, 4, 9, 0)


def test_days_without_a_tariff_are_listed_never_billed_at_zero(desk, clock, db_url, capsys):
    clock.set(2026, 11, 26, 9, 0)
    load_example_settings(desk)
    with desk.unit_of_work() as s:
        activity = s.execute(select(Activity).where(Activity.code == "PERISCOLAIRE")).scalar_one()
        s.add(Unit(activity_id=activity.id, name="Goûter", position=9))
    gouter = unit_id(desk, "PERISCOLAIRE", "Goûter")
    fam = make_family(desk, "Goûter")
    for day in NOV_DAYS[:7]:
        make_booking(desk, fam.children[0].id, gouter, day)
    clock.set(2026, 12, 1, 9, 0)
    assert main(["--db", db_url, "invoices", "prepare", "--month", "2026-11"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("Novembre 2026 : 0 facture préparée, total 0,00")
    assert "7 jours sans tarif (non facturés) :" in out
    assert "Pas de tarif pour Périscolaire — Goûter le 02/11/2026 (Léa Goûter) : jour non facturé." in out
    assert "… et 2 autres." in out
    assert main(["--db", db_url, "invoices", "prepare", "--month", "2026-11", "--json"]) == 0
    assert len(json.loads(capsys.readouterr().out)["unpriced"]) == 7


def test_tariff_imported_without_a_date_prices_the_months_before(desk, clock):
    # Imported on 26 November without valid_from: the prices start that day, yet the first tariff
    # of a unit applies from the start, so the beginning of November is billed.
    clock.set(2026, 11, 26, 9, 0)
    load_example_settings(desk, valid_from=None)
    with desk.read() as s:
        assert s.execute(select(func.min(Tariff.valid_from))).scalar_one() == date(2026, 11, 26)
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    fam = make_family(desk, "Import")
    for day in NOV_DAYS[:3]:
        make_booking(desk, fam.children[0].id, repas, day)
    clock.set(2026, 12, 1, 9, 0)
    result = invoicing.prepare(desk, NOV)
    assert (result.invoices, result.total_cents, result.unpriced) == (1, 3 * 420, [])


def test_prepare_with_pending_and_decided_requests_keeps_every_request(november):
    """Deciding in an issued month writes the request like anywhere else (no side path)."""
    desk = november["desk"]
    queue.accept(desk, None)
    with desk.read() as s:
        assert s.execute(select(func.count()).select_from(Request).where(
            Request.status == RequestStatus.PENDING)).scalar_one() == 0
        assert s.execute(select(func.count()).select_from(Invoice).where(
            Invoice.status == InvoiceStatus.ISSUED)).scalar_one() == 3
