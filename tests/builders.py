"""Shared test builders: settings of the design's example and families made in one call.

    load_example_settings(desk, valid_from=date(2025, 1, 1)) -> ImportSummary
    make_family(desk_or_session, name="Martin", ...) -> Family (children/guardians loaded)
    unit_id(desk_or_session, "PERISCOLAIRE", "Repas") -> int
    school_id(desk_or_session, "École élémentaire") -> int
    make_booking(desk_or_session, child_id, unit_id, day, state="R", ...) -> Booking id
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gandrange_desk.models import (
    Activity, Booking, Child, Request, RequestKind, RequestSource, RequestStatus, Family, Guardian, Mandate, PaymentMode, PickupPerson, PortalState,
    QuotientRecord, School, Unit,
)
from gandrange_desk.clock import PARIS
from gandrange_desk.services.context import Desk
from gandrange_desk.services.search import family_search_text

EXAMPLE_SETTINGS = Path(__file__).parent / "data" / "settings.toml"
_seq = itertools.count(1)


def load_example_settings(desk: Desk, valid_from: date | None = date(2025, 1, 1), path: Path | None = None):
    """Import tests/data/settings.toml; its prices apply from `valid_from` (default 2025-01-01,
    so every test date is priced; pass None for "the import date" as the command does)."""
    from gandrange_desk.services.settings.service import import_settings

    text = (path or EXAMPLE_SETTINGS).read_text(encoding="utf-8")
    return import_settings(desk, text, default_valid_from=valid_from)


@contextmanager
def _session(target):
    if isinstance(target, Session):
        yield target
        target.flush()
    else:
        with target.unit_of_work() as s:
            yield s


def school_id(target, name: str = "École élémentaire") -> int:
    with _session(target) as s:
        found = s.execute(select(School.id).where(School.name == name)).scalar_one_or_none()
        if found is None:
            school = School(name=name, position=99)
            s.add(school)
            s.flush()
            found = school.id
        return found


def unit_id(target, activity_code: str = "PERISCOLAIRE", unit_name: str = "Repas") -> int:
    with _session(target) as s:
        return s.execute(select(Unit.id).join(Activity).where(
            Activity.code == activity_code, Unit.name == unit_name)).scalar_one()


def make_family(target, name: str = "Martin", *, ref: str | None = None,
                guardians: list[dict] | None = None, children: list[dict] | None = None,
                quotient: int | None = 800, quotient_from: date = date(2025, 1, 1),
                payment_mode: str = PaymentMode.CHEQUE, iban: str | None = None,
                street: str = "12 rue de la Gare", postcode: str = "57175", city: str = "Gandrange",
                phone: str = "", portal_state: str = PortalState.ACTIVE,
                acknowledgement_returned: bool = True) -> Family:
    """A family with its guardians, children, quotient and (for prélèvement) a mandate.

    `guardians`: dicts of Guardian columns (default one guardian « Claire <name> » with an
    e-mail); pass `email=""` in a guardian for a family without e-mail.
    `children`: dicts of Child columns plus `school` (a school name, created if missing) and
    optional `pickup` (list of PickupPerson column dicts); default one child « Léa <name> »,
    born 2018-04-12, CE2 at the École élémentaire. Refs are generated when not given.
    With a Desk, commits its own transaction; with a Session, only flushes.
    """
    n = next(_seq)
    ref = ref or f"F-T{n:04d}"
    if guardians is None:
        guardians = [{"first_name": "Claire", "last_name": name,
                      "email": f"claire.{name.lower()}{n}@example.org", "phone": "06 12 34 56 78"}]
    if children is None:
        children = [{"first_name": "Léa", "last_name": name, "birth_date": date(2018, 4, 12),
                     "class_name": "CE2"}]
    with _session(target) as s:
        family = Family(ref=ref, name=name, street=street, postcode=postcode, city=city, phone=phone,
                        payment_mode=payment_mode, portal_state=portal_state,
                        portal_login=(ref.lower() if portal_state != PortalState.TO_CREATE else None),
                        acknowledgement_returned=acknowledgement_returned)
        for i, g in enumerate(guardians):
            values = {"relation": "Mère" if i == 0 else "Père", "holds_portal_account": i == 0, **g}
            family.guardians.append(Guardian(position=i, **values))
        for i, c in enumerate(children):
            c = dict(c)
            school = c.pop("school", "École élémentaire")
            pickups = c.pop("pickup", [])
            c.setdefault("last_name", name)
            c.setdefault("ref", f"E-T{n:04d}-{i + 1}")
            c.setdefault("birth_date", date(2018, 4, 12))
            child = Child(school_id=school_id(s, school) if school else None, **c)
            child.pickup_persons = [PickupPerson(**p) for p in pickups]
            family.children.append(child)
        if quotient is not None:
            family.quotients.append(QuotientRecord(value=quotient, valid_from=quotient_from))
        family.search_text = family_search_text(family)
        s.add(family)
        s.flush()
        if payment_mode == PaymentMode.PRELEVEMENT:
            holder = guardians[0]["first_name"] + " " + guardians[0]["last_name"] if guardians else name
            s.add(Mandate(family_id=family.id, rum=f"RUM-{ref}", iban=iban or "FR7630006000011234567890189",
                          bic="AGRIFRPP", holder=holder, signed_on=date(2025, 8, 28)))
            s.flush()
        return family


def make_booking(target, child_id: int, unit_id: int, day: date, state: str = "R", *, late: bool = False,
                 submitted_at: datetime | None = None, source: str = RequestSource.PORTAL,
                 by: str = "sfoncin") -> int:
    """A cell in `state` (DR, R, DA, AF) with the request history the state machine would have
    written: R = an accepted booking; DR = a pending booking; DA = R plus a pending cancellation;
    AF = R plus a cancellation accepted as billed. No calendar check: tests choose open days."""
    submitted_at = submitted_at or datetime.combine(day, time(8, 0), tzinfo=PARIS) - timedelta(days=7)
    decided_at = submitted_at + timedelta(hours=2)
    with _session(target) as s:
        family_id = s.get(Child, child_id).family_id
        base = {"source": source, "family_id": family_id, "child_id": child_id, "unit_id": unit_id,
                "day": day, "submitted_at": submitted_at, "late": late}
        pending = state == "DR"
        s.add(Request(kind=RequestKind.BOOKING, from_state=None, to_state="DR" if pending else "R",
                      status=RequestStatus.PENDING if pending else RequestStatus.ACCEPTED,
                      decided_by=None if pending else by, decided_at=None if pending else decided_at, **base))
        if state in ("DA", "AF"):
            cancel = dict(base, submitted_at=decided_at + timedelta(hours=1))
            if state == "DA":
                s.add(Request(kind=RequestKind.CANCELLATION, from_state="R", to_state="DA",
                              status=RequestStatus.PENDING, proposed_billing="billed" if late else "excused",
                              **cancel))
            else:
                s.add(Request(kind=RequestKind.CANCELLATION, from_state="R", to_state="AF",
                              status=RequestStatus.ACCEPTED, proposed_billing="billed", billing="billed",
                              decided_by=by, decided_at=decided_at + timedelta(hours=2), **cancel))
        booking = Booking(child_id=child_id, unit_id=unit_id, day=day, state=state, late=late,
                          updated_at=decided_at, updated_by=by)
        s.add(booking)
        s.flush()
        return booking.id
