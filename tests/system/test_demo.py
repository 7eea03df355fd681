"""`gandrange-desk demo`: a realistic, deterministic school year on an empty database."""

from __future__ import annotations

import json
from collections import Counter
from datetime import date

import pytest
from schwifty import IBAN
from sqlalchemy import func, select

from gandrange_desk import clock as real_clock
from gandrange_desk.cli import main
from gandrange_desk.db import make_engine
from gandrange_desk.errors import DeskError, PermissionDenied
from gandrange_desk.models import (
    Activity, Booking, Child, DeskUser, Family, Guardian, Mandate, QuotientRecord, Request, School, Structure,
    Unit,
)
from gandrange_desk.services.system import schema
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.context import Desk
from gandrange_desk.demo import billing as demo_billing
from gandrange_desk.demo import fr_iban, run_demo
from gandrange_desk.services.system.users import authenticate

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

FAMILIES = 40


def fingerprint(desk) -> dict:
    with desk.read() as s:
        return {
            "families": s.execute(select(Family.ref, Family.name, Family.street, Family.payment_mode,
                                         Family.portal_state, Family.search_text).order_by(Family.ref)).all(),
            "children": s.execute(select(Child.ref, Child.first_name, Child.birth_date, Child.class_name,
                                         Child.allergies, Child.pai).order_by(Child.ref)).all(),
            "bookings": s.execute(select(Child.ref, Unit.name, Booking.day, Booking.state, Booking.late)
                                  .join(Child, Child.id == Booking.child_id).join(Unit)
                                  .order_by(Child.ref, Unit.name, Booking.day)).all(),
            "requests": s.execute(select(Request.kind, Request.status, Request.ref, Request.day,
                                         Request.submitted_at, Request.late, Request.billing, Request.payload)
                                  .order_by(Request.id)).all(),
            "mandates": s.execute(select(Mandate.rum, Mandate.iban).order_by(Mandate.rum)).all(),
        }


@pytest.fixture
def demo(desk):
    summary = run_demo(desk, families=FAMILIES, seed=7, extras=False)
    return summary


def test_counts_and_users(desk, demo):
    assert demo.families == FAMILIES
    with desk.read() as s:
        assert s.execute(select(func.count(Family.id))).scalar_one() == FAMILIES
        children = s.execute(select(func.count(Child.id))).scalar_one()
        assert FAMILIES < children <= 2 * FAMILIES
        assert children == demo.children
        assert [x.name for x in s.execute(select(School).order_by(School.position)).scalars()] == [
            "École maternelle", "École élémentaire"]
        assert s.execute(select(func.count(Activity.id))).scalar_one() == 3
        # Classes match the schools: PS/MS/GS in the maternelle.
        for class_name, school in s.execute(select(Child.class_name, School.name).join(School)):
            assert (class_name in ("PS", "MS", "GS")) == (school == "École maternelle")
        assert s.execute(select(func.count(QuotientRecord.id))).scalar_one() > FAMILIES // 2
        no_email = s.execute(select(func.count(func.distinct(Guardian.family_id))).where(Guardian.email == "")).scalar_one()
        assert no_email < FAMILIES // 4
        roles = dict(s.execute(select(DeskUser.login, DeskUser.role)).all())
        roles.pop("essai", None)  # the commands' desk user of tests/conftest.py
    assert roles == {"sfoncin": "agent", "nbecker": "responsable", "admin": "admin"}
    with desk.read() as s:
        structure = s.execute(select(Structure)).scalar_one()
    IBAN(structure.sepa_iban)
    ics = structure.sepa_ics  # FR + check digits + business code + national id
    assert int(ics[7:] + "152700") % 97 == 98 - int(ics[2:4])
    assert structure.issuer_name and structure.appeal_text and structure.siret
    actor = authenticate(desk, "sfoncin", "demo1234")
    assert actor.full_name == "Sandrine Foncin"
    assert demo.school_year == (date(2026, 9, 1), date(2027, 8, 31))


def test_same_seed_same_data_on_any_backend(desk, demo, clock, tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'again.sqlite3'}")
    schema.upgrade(engine)
    again = Desk(engine, desk.actor, clock)
    run_demo(again, families=FAMILIES, seed=7, extras=False)
    assert fingerprint(again) == fingerprint(desk)
    other = make_engine(f"sqlite:///{tmp_path / 'other.sqlite3'}")
    schema.upgrade(other)
    different = Desk(other, desk.actor, clock)
    run_demo(different, families=FAMILIES, seed=8, extras=False)
    assert fingerprint(different)["families"] != fingerprint(desk)["families"]
    engine.dispose()
    other.dispose()


def test_only_open_days_are_booked_within_capacity(desk, demo):
    with desk.read() as s:
        cal = Calendar.load(s)
        activities = {a.id: a for a in s.execute(select(Activity)).scalars()}
        units = {u.id: u for u in s.execute(select(Unit)).scalars()}
        rows = s.execute(select(Booking.unit_id, Booking.day, Booking.state)).all()
    assert len(rows) > FAMILIES * 30
    used = Counter()
    for unit_id, day, state in rows:
        assert cal.is_open(activities[units[unit_id].activity_id], day), (units[unit_id].name, day)
        assert date(2026, 9, 1) <= day <= date(2026, 12, 24)
        if state in ("R", "DA"):
            used[(unit_id, day)] += 1
    for (unit_id, _day), n in used.items():
        assert n <= units[unit_id].capacity
    # The year's holidays are closed: nothing on the Toussaint weekdays for périscolaire.
    assert not [r for r in rows if units[r[0]].name == "Repas" and date(2026, 10, 19) <= r[1] <= date(2026, 10, 30)]


def test_every_cell_is_explained_by_its_requests(desk, demo):
    with desk.read() as s:
        last = {}
        for child_id, unit_id, day, to_state, status, kind in s.execute(
                select(Request.child_id, Request.unit_id, Request.day, Request.to_state, Request.status,
                       Request.kind).where(Request.day.is_not(None)).order_by(Request.id)):
            if status != "refused":
                last[(child_id, unit_id, day)] = (to_state, status, kind)
        cells = {(c, u, d): st for c, u, d, st in s.execute(
            select(Booking.child_id, Booking.unit_id, Booking.day, Booking.state))}
    for cell, state in cells.items():
        assert last[cell][0] == state
        if state == "DR":
            assert last[cell][1:] == ("pending", "booking")
        if state == "DA":
            assert last[cell][1:] == ("pending", "cancellation")
    excused = [cell for cell, (to_state, _st, kind) in last.items() if kind == "cancellation" and to_state is None]
    assert excused and not any(cell in cells for cell in excused)


def test_queue_has_pending_requests_some_late(desk, demo, clock):
    now = clock()
    with desk.read() as s:
        cal = Calendar.load(s)
        activities = {u.id: u.activity for u in s.execute(select(Unit)).scalars()}
        pending = s.execute(select(Request).where(Request.status == "pending")).scalars().all()
        kinds = Counter(r.kind for r in pending)
        assert kinds["booking"] > 0 and kinds["cancellation"] > 0
        assert kinds["registration"] >= 3 and kinds["family_change"] >= 4
        for r in pending:
            assert r.submitted_at <= now
            if r.kind in ("booking", "cancellation"):
                a = activities[r.unit_id]
                days, hhmm = ((a.booking_deadline_days, a.booking_deadline_time) if r.kind == "booking"
                              else (a.cancellation_deadline_days, a.cancellation_deadline_time))
                assert r.late == cal.is_late(r.submitted_at, r.day, days, hhmm)
                assert r.day >= date(2026, 11, 20)
            if r.kind == "registration":
                family = json.loads(r.payload)["family"]
                assert family["ref"].startswith("F-") and family["children"]
                assert all(c["school"] in ("École maternelle", "École élémentaire") for c in family["children"])
            if r.kind == "family_change":
                assert json.loads(r.payload)["changes"]
    assert demo.pending == len(pending)


def test_some_late_with_a_bigger_run(desk, clock):
    summary = run_demo(desk, families=150, seed=3, extras=False)
    assert summary.pending_late > 0
    with desk.read() as s:
        late = s.execute(select(func.count(Request.id)).where(Request.status == "pending", Request.late)).scalar_one()
        billed = s.execute(select(func.count(Booking.id)).where(Booking.state == "AF")).scalar_one()
    assert late == summary.pending_late
    assert billed > 0


def test_mandates_have_valid_ibans(desk, demo):
    with desk.read() as s:
        prelevement = s.execute(select(Family.id).where(Family.payment_mode == "prelevement")).scalars().all()
        mandates = s.execute(select(Mandate)).scalars().all()
    assert sorted(m.family_id for m in mandates) == sorted(prelevement)
    assert FAMILIES // 6 <= len(mandates) <= FAMILIES // 2
    for m in mandates:
        iban = IBAN(m.iban)  # raises on a bad check digit
        assert iban.country_code == "FR" and len(m.iban) == 27
        assert m.rum and m.bic and m.signed_on <= date(2026, 11, 26)
    for seed in range(50):
        import random

        IBAN(fr_iban(random.Random(seed), "30004"))


def test_search_text_is_the_services_own(desk, demo):
    from sqlalchemy.orm import selectinload

    from gandrange_desk.services.search import family_search_text

    with desk.read() as s:
        families = s.execute(select(Family).options(selectinload(Family.guardians), selectinload(Family.children))
                             ).scalars().all()
        assert families
        for family in families:
            assert family.search_text == family_search_text(family)


def test_refuses_a_database_that_is_not_empty(desk, demo):
    with pytest.raises(DeskError) as err:
        run_demo(desk, families=3, extras=False)
    assert "contient déjà des paramètres" in str(err.value)


def test_agent_cannot_run_it(agent_desk):
    with pytest.raises(PermissionDenied):
        run_demo(agent_desk, families=3, extras=False)


def test_hooks_of_later_features_are_called(desk, monkeypatch):
    calls = []
    fake = lambda d, rng: calls.append((d, rng.random())) or "Factures : 3 émises"  # noqa: E731
    monkeypatch.setattr(demo_billing, "add_billing", fake)
    summary = run_demo(desk, families=5)
    assert calls and calls[0][0] is desk
    # The door's marks come first, so the monthly run bills what the door saw.
    assert summary.extras[0].startswith("Pointage : ") and summary.extras[1].startswith("Factures : 3 émises (")


def test_command(db_url, capsys):
    assert main(["--db", db_url, "--json", "demo", "--families", "6", "--seed", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["families"] == 6
    assert {u["login"] for u in result["users"]} == {"sfoncin", "nbecker", "admin"}
    assert main(["--db", db_url, "demo", "--families", "6"]) == 1
    assert "base vide" in capsys.readouterr().err
    # A school year that starts after the real today (the command's clock), whenever this runs.
    assert main(["--db", db_url, "demo", "--year", str(real_clock.today().year + 1)]) == 1
    assert "n'a pas encore commencé" in capsys.readouterr().err
