"""The cell rules of DESIGN §2: each transition, each refusal, deadlines, capacity, issued months."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from sqlalchemy import func, select

from gandrange_desk.clock import PARIS
from gandrange_desk.errors import AlreadyDecided, ValidationFailed
from gandrange_desk.models import (
    AuditEntry, Booking, Child, Invoice, OutboxMessage, Request, RequestSource, Unit,
)
from gandrange_desk.services.reservations import bookings
from gandrange_desk.services.reservations import cells
from gandrange_desk.services.reservations.bookings import BookingRefused
from gandrange_desk.services.calendar import Calendar
from tests.builders import load_example_settings, make_family, unit_id

FRI = date(2026, 3, 13)  # a périscolaire day; J-2 ouvrés à 10:00 = Wed 11/03 10:00


def paris(*args):
    return datetime(*args, tzinfo=PARIS)


@pytest.fixture
def world(desk, clock):
    clock.set(2026, 3, 11, 9, 0)
    load_example_settings(desk)
    family = make_family(desk, "Martin")
    other = make_family(desk, "Durand")
    return {
        "child": family.children[0].id, "family": family.id, "other_family": other.id,
        "other_child": other.children[0].id, "repas": unit_id(desk, "PERISCOLAIRE", "Repas"),
        "matin": unit_id(desk, "PERISCOLAIRE", "Accueil matin"),
        "mercredi": unit_id(desk, "MERCREDI", "Journée complète"),
    }


def state(desk, child, unit, day):
    with desk.read() as s:
        return bookings.cell_state(s, child, unit, day)


def requests(desk, child, unit, day):
    with desk.read() as s:
        return bookings.cell_history(s, child, unit, day)


def ask(desk, w, day=FRI, *, source=RequestSource.PORTAL, at=None, unit="repas", child="child",
        **kw):
    with desk.unit_of_work() as s:
        cal = Calendar.load(s)
        r = bookings.ask_booking(s, desk, cal, s.get(Child, w[child]), s.get(Unit, w[unit]), day,
                                 source=source, submitted_at=at or desk.now(), **kw)
        return r.id


def ask_cancel(desk, w, day=FRI, *, source=RequestSource.PORTAL, at=None, **kw):
    with desk.unit_of_work() as s:
        cal = Calendar.load(s)
        r = bookings.ask_cancellation(s, desk, cal, s.get(Child, w["child"]),
                                      s.get(Unit, w["repas"]), day, source=source,
                                      submitted_at=at or desk.now(), **kw)
        return r.id


def decide(desk, request_id, accept, **kw):
    with desk.unit_of_work() as s:
        r = bookings.apply_decision(s, desk, s.get(Request, request_id), accept, **kw)
        return r.status, r.to_state, r.billing


def count(desk, model):
    with desk.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar()


def test_booking_request_accepted(desk, world):
    rid = ask(desk, world, ref="P-1")
    assert state(desk, world["child"], world["repas"], FRI) == "DR"
    [r] = requests(desk, world["child"], world["repas"], FRI)
    assert (r.kind, r.source, r.status, r.from_state, r.to_state, r.late, r.ref) == (
        "booking", "portal", "pending", None, "DR", False, "P-1")
    assert decide(desk, rid, True) == ("accepted", "R", None)
    assert state(desk, world["child"], world["repas"], FRI) == "R"
    [r] = requests(desk, world["child"], world["repas"], FRI)
    assert r.decided_by == "systeme" and r.decided_at == desk.now()
    with desk.read() as s:
        assert s.execute(select(AuditEntry.action).where(AuditEntry.entity == "request")).scalars().all() == ["decide"]


def test_booking_refused_needs_reason_and_clears_cell(desk, world):
    rid = ask(desk, world)
    with pytest.raises(ValidationFailed, match="motivé"):
        decide(desk, rid, False)
    assert state(desk, world["child"], world["repas"], FRI) == "DR"
    assert decide(desk, rid, False, reason="Complet ce jour-là") == ("refused", None, None)
    assert state(desk, world["child"], world["repas"], FRI) is None
    assert requests(desk, world["child"], world["repas"], FRI)[0].reason == "Complet ce jour-là"


def test_withdraw(desk, world):
    rid = ask(desk, world)
    with desk.unit_of_work() as s:
        bookings.withdraw(s, desk, rid)
    assert state(desk, world["child"], world["repas"], FRI) is None
    assert requests(desk, world["child"], world["repas"], FRI)[0].status == "withdrawn"
    with pytest.raises(AlreadyDecided, match="retirée"):
        decide(desk, rid, True)


def test_decided_exactly_once(desk, world, clock):
    rid = ask(desk, world)
    clock.set(2026, 3, 11, 9, 30)
    decide(desk, rid, True)
    other = desk.as_actor(desk.actor.__class__("lbernard", "Luc Bernard", "agent"))
    with pytest.raises(AlreadyDecided) as info:
        decide(other, rid, False, reason="non")
    assert str(info.value) == "Demande déjà traitée par systeme à 09:30."
    assert state(desk, world["child"], world["repas"], FRI) == "R"


def test_stale_request_object_is_refused_by_the_conditional_update(desk, world):
    rid = ask(desk, world)
    with desk.read() as s:
        stale = s.get(Request, rid)
    decide(desk, rid, True)
    with desk.unit_of_work() as s:
        stale = s.merge(stale, load=False)  # still says "pending"
        with pytest.raises(AlreadyDecided, match="déjà traitée par systeme"):
            bookings.apply_decision(s, desk, stale, False, reason="x")


def test_office_books_directly(desk, world):
    ask(desk, world, source=RequestSource.DESK_OFFICE)
    assert state(desk, world["child"], world["repas"], FRI) == "R"
    [r] = requests(desk, world["child"], world["repas"], FRI)
    assert (r.source, r.status, r.from_state, r.to_state, r.decided_by) == (
        "desk_office", "accepted", None, "R", "systeme")


def test_late_booking_flag(desk, world):
    ask(desk, world, at=paris(2026, 3, 11, 10, 1))
    [r] = requests(desk, world["child"], world["repas"], FRI)
    assert r.late
    decide(desk, r.id, True)
    with desk.read() as s:
        assert s.execute(select(Booking.late)).scalar() is True
    # On time, exactly at the deadline.
    ask(desk, world, date(2026, 3, 16), at=paris(2026, 3, 12, 10, 0))
    assert not requests(desk, world["child"], world["repas"], date(2026, 3, 16))[0].late


def test_cancellation_excused_before_deadline(desk, world):
    ask(desk, world, source=RequestSource.DESK_OFFICE)
    rid = ask_cancel(desk, world, at=paris(2026, 3, 10, 18, 0))
    assert state(desk, world["child"], world["repas"], FRI) == "DA"
    r = requests(desk, world["child"], world["repas"], FRI)[-1]
    assert (r.kind, r.from_state, r.to_state, r.late, r.proposed_billing) == (
        "cancellation", "R", "DA", False, "excused")
    assert decide(desk, rid, True) == ("accepted", None, "excused")
    assert state(desk, world["child"], world["repas"], FRI) is None


def test_late_cancellation_billed_unless_overridden(desk, world):
    ask(desk, world, source=RequestSource.DESK_OFFICE)
    rid = ask_cancel(desk, world, at=paris(2026, 3, 12, 8, 0))
    r = requests(desk, world["child"], world["repas"], FRI)[-1]
    assert r.late and r.proposed_billing == "billed"
    assert decide(desk, rid, True) == ("accepted", "AF", "billed")
    assert state(desk, world["child"], world["repas"], FRI) == "AF"

    day = date(2026, 3, 16)
    ask(desk, world, day, source=RequestSource.DESK_OFFICE)
    rid = ask_cancel(desk, world, day, at=paris(2026, 3, 16, 7, 0))
    decide(desk, rid, True, billing="excused", billing_reason="Certificat médical")
    r = requests(desk, world["child"], world["repas"], day)[-1]
    assert (r.billing, r.proposed_billing, r.billing_override_reason) == (
        "excused", "billed", "Certificat médical")
    assert state(desk, world["child"], world["repas"], day) is None


def test_cancellation_refused_keeps_reservation(desk, world):
    ask(desk, world, source=RequestSource.DESK_OFFICE)
    rid = ask_cancel(desk, world)
    assert decide(desk, rid, False, reason="Trop tard") == ("refused", "R", None)
    assert state(desk, world["child"], world["repas"], FRI) == "R"


def test_office_cancels_directly(desk, world):
    ask(desk, world, source=RequestSource.DESK_OFFICE)
    ask_cancel(desk, world, source=RequestSource.DESK_OFFICE, billing="billed",
               billing_reason="Absence non prévenue")
    assert state(desk, world["child"], world["repas"], FRI) == "AF"
    r = requests(desk, world["child"], world["repas"], FRI)[-1]
    assert (r.status, r.from_state, r.to_state, r.billing, r.proposed_billing,
            r.billing_override_reason) == (
        "accepted", "R", "AF", "billed", "excused", "Absence non prévenue")


@pytest.mark.parametrize("day,why", [
    (date(2026, 4, 3), "jour fermé (Jour férié : Vendredi saint)"),
    (date(2026, 2, 16), "jour fermé (Vacances scolaires (zone B) : Vacances d'hiver)"),
    (date(2026, 3, 14), "jour fermé (Week-end)"),
    (date(2026, 3, 11), "jour fermé (Pas d'accueil ce jour-là pour cette activité)"),
    (date(2026, 12, 24), "jour fermé (Fermeture)"),
])
def test_closed_days_refused(desk, world, day, why):
    with pytest.raises(BookingRefused) as info:
        ask(desk, world, day)
    assert why in str(info.value)
    assert "Léa Martin — Repas du" in str(info.value)
    assert count(desk, Request) == 0 and count(desk, Booking) == 0


def test_refusals_write_nothing(desk, world):
    ask(desk, world)
    with pytest.raises(BookingRefused, match="déjà en attente"):
        ask(desk, world)
    with pytest.raises(BookingRefused, match="impossible d'annuler"):
        ask_cancel(desk, world, date(2026, 3, 16))
    with pytest.raises(BookingRefused, match="n'est pas de cette famille"):
        ask(desk, world, date(2026, 3, 16), family_id=world["other_family"])
    assert count(desk, Request) == 1 and count(desk, Booking) == 1


def test_af_is_final(desk, world):
    ask(desk, world, source=RequestSource.DESK_OFFICE)
    ask_cancel(desk, world, source=RequestSource.DESK_OFFICE, billing="billed")
    with pytest.raises(BookingRefused, match="annulée et facturée"):
        ask(desk, world)
    with pytest.raises(BookingRefused, match="annulée et facturée"):
        ask_cancel(desk, world)


def test_issued_month_is_not_locked_changes_are_flagged_for_regularisation(desk, world):
    rid = ask(desk, world)
    with desk.unit_of_work() as s:
        s.add(Invoice(family_id=world["family"], month=date(2026, 3, 1), status="issued",
                      number="2026-000001"))
    # Asked in time, still pending when March was issued: still decidable, and flagged.
    cell = (world["child"], world["repas"], FRI)
    decided = cells.decide_cells(desk, [cell], True)
    assert decided.changed == {cell: "R"} and decided.regularisations == 1
    assert decided.summary(("acceptée", "acceptées")) == (
        "1 case acceptée. 1 case d'un mois déjà facturé : régularisation sur la prochaine facture.")
    # The office books and cancels directly in March: allowed, flagged.
    later = (world["child"], world["repas"], date(2026, 3, 16))
    booked = cells.book_cells(desk, [later])
    assert booked.changed == {later: "R"} and booked.regularisations == 1
    cancelled = cells.cancel_cells(desk, [cell], billing="billed", reason="Certificat refusé")
    assert cancelled.changed == {cell: "AF"} and cancelled.regularisations == 1
    # Another family's March cell too: the month was invoiced as a whole.
    other = (world["other_child"], world["repas"], FRI)
    assert cells.book_cells(desk, [other]).regularisations == 1
    # A month not invoiced: nothing to regularise.
    may = (world["child"], world["repas"], date(2026, 5, 5))
    result = cells.book_cells(desk, [may])
    assert result.regularisations == 0 and "régularisation" not in result.summary(("réservée", "réservées"))
    assert state(desk, world["child"], world["repas"], date(2026, 3, 16)) == "R"


def test_capacity(desk, world):
    with desk.unit_of_work() as s:
        s.get(Unit, world["matin"]).capacity = 1
    ask(desk, world, unit="matin", child="other_child", source=RequestSource.DESK_OFFICE)
    with desk.read() as s:
        assert bookings.capacity_left(s, world["matin"], FRI) == 0
        assert bookings.capacity_left(s, world["repas"], FRI) == 110
    rid = ask(desk, world, unit="matin")  # a DR holds no place
    with pytest.raises(BookingRefused, match=r"complet \(1 place\)"):
        decide(desk, rid, True)
    decide(desk, rid, True, capacity_override=True)
    with desk.read() as s:
        assert bookings.capacity_left(s, world["matin"], FRI) == -1
        assert s.get(Request, rid).capacity_override


def test_history_text(desk, world, clock):
    rid = ask(desk, world, ref="P-9")
    clock.set(2026, 3, 11, 11, 15)
    decide(desk, rid, False, reason="Dossier incomplet")
    text = bookings.history_text(requests(desk, world["child"], world["repas"], FRI))
    assert text == ("Réservation — Portail, 11/03/2026 à 09:00 : refusée par systeme "
                    "le 11/03/2026 à 11:15 — « Dossier incomplet »")


# --- the grid's bulk operations ---------------------------------------------------------------

def test_book_cells_rectangle_skips_closed_days(desk, world):
    days = [date(2026, 3, d) for d in range(9, 21)]  # two weeks, weekends and Wednesdays
    result = cells.book_cells(desk, [(world["child"], world["repas"], d) for d in days])
    assert len(result.changed) == 8 and len(result.skipped) == 4
    assert all(v == "R" for v in result.changed.values())
    assert count(desk, Booking) == 8 and count(desk, Request) == 8
    # A second pass changes nothing and says why for a single cell.
    with pytest.raises(BookingRefused, match="déjà réservée"):
        cells.book_cells(desk, [(world["child"], world["repas"], FRI)])


def test_book_cells_capacity_refuses_whole(desk, world):
    with desk.unit_of_work() as s:
        s.get(Unit, world["matin"]).capacity = 1
    two = [(world["child"], world["matin"], FRI), (world["other_child"], world["matin"], FRI)]
    with pytest.raises(BookingRefused, match=r"Capacité dépassée : Accueil matin le 13/03 \(2/1\)"):
        cells.book_cells(desk, two)
    assert count(desk, Booking) == 0
    cells.book_cells(desk, two, capacity_override=True)
    assert count(desk, Booking) == 2


def test_book_cells_for_family_then_decide_inline_sends_mail(desk, world):
    cs = [(world["child"], world["repas"], d) for d in (FRI, date(2026, 3, 16))]
    result = cells.book_cells(desk, cs, for_family=True)
    assert set(result.changed.values()) == {"DR"}
    with desk.read() as s:
        assert {r.source for r in s.execute(select(Request)).scalars()} == {"desk_family"}
    cells.decide_cells(desk, cs, True)
    assert state(desk, world["child"], world["repas"], FRI) == "R"
    with desk.read() as s:
        [mail] = s.execute(select(OutboxMessage)).scalars().all()
    assert "2 réservations acceptées les : 13/03, 16/03" in mail.body_text
    assert "Périscolaire" in mail.body_text


def test_cancel_cells_requires_reason_against_rule(desk, world, clock):
    cs = [(world["child"], world["repas"], FRI)]
    cells.book_cells(desk, cs)
    clock.set(2026, 3, 12, 8, 0)  # after the deadline: facturée proposed
    with pytest.raises(ValidationFailed, match="Motif obligatoire"):
        cells.cancel_cells(desk, cs, billing="excused")
    cells.cancel_cells(desk, cs, billing="excused", reason="Certificat médical")
    assert state(desk, world["child"], world["repas"], FRI) is None
    r = requests(desk, world["child"], world["repas"], FRI)[-1]
    assert (r.billing, r.proposed_billing, r.billing_override_reason, r.late) == (
        "excused", "billed", "Certificat médical", True)


def test_ask_cancel_and_withdraw_cells_for_family(desk, world):
    cs = [(world["child"], world["repas"], FRI)]
    cells.book_cells(desk, cs)
    cells.ask_cancel_cells(desk, cs)
    assert state(desk, world["child"], world["repas"], FRI) == "DA"
    cells.decide_cells(desk, cs, False, reason="Non")
    assert state(desk, world["child"], world["repas"], FRI) == "R"
    other = [(world["child"], world["repas"], date(2026, 3, 16))]
    cells.book_cells(desk, other, for_family=True)
    cells.withdraw_cells(desk, other)
    assert state(desk, world["child"], world["repas"], date(2026, 3, 16)) is None
