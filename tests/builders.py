"""Shared test builders: settings of the design's example and families made in one call.

    load_example_settings(desk, valid_from=date(2025, 1, 1)) -> ImportSummary
    make_family(desk_or_session, name="Martin", ...) -> Family (children/guardians loaded)
    unit_id(desk_or_session, "PERISCOLAIRE", "Repas") -> int
    school_id(desk_or_session, "École élémentaire") -> int
"""

from __future__ import annotations

import itertools
from contextlib import contextmanager
from datetime import date
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from gandrange_desk.models import (
    Activity, Child, Family, Guardian, Mandate, PaymentMode, PickupPerson, PortalState,
    QuotientRecord, School, Unit,
)
from gandrange_desk.services.context import Desk
from gandrange_desk.services.search import family_search_text

EXAMPLE_SETTINGS = Path(__file__).parent / "data" / "settings.toml"
_seq = itertools.count(1)


def load_example_settings(desk: Desk, valid_from: date | None = date(2025, 1, 1), path: Path | None = None):
    """Import tests/data/settings.toml; its prices apply from `valid_from` (default 2025-01-01,
    so every test date is priced; pass None for "the import date" as the command does)."""
    from gandrange_desk.services.settings import import_settings

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
