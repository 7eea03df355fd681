"""Fuzzing the feed: whatever the file holds, a French refusal or a whole import, never a traceback
and never a partial write."""

from __future__ import annotations

import json
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gandrange_desk.errors import DeskError
from gandrange_desk.models import Booking, Family, FeedEntry, Request
from gandrange_desk.services.intake import feed as intake
from tests.builders import load_example_settings, make_family

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

FUZZ = settings(max_examples=60, deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)

VALID = [
    {"ref": "P-1", "kind": "booking", "submitted_at": "2026-03-11T09:12:00+01:00", "family_ref": "F-0042",
     "child_ref": "E-0107", "activity": "PERISCOLAIRE", "unit": "Repas", "dates": ["2026-03-13"]},
    {"ref": "P-2", "kind": "period_booking", "submitted_at": "2026-03-10T09:12:00+01:00",
     "family_ref": "F-0042", "child_ref": "E-0107", "activity": "PERISCOLAIRE", "unit": "Accueil soir",
     "from": "2026-03-16", "to": "2026-04-01", "week_type": "all", "weekdays": ["mon", "thu"]},
    {"ref": "P-3", "kind": "registration", "submitted_at": "2026-03-01T20:00:00+01:00",
     "family": {"ref": "F-2000", "name": "Weber", "address": {"street": "1 rue", "postcode": "57175", "city": "Gandrange"},
                "guardians": [{"first_name": "Anne", "last_name": "Weber", "email": "anne@example.org"}],
                "children": [{"ref": "E-3000", "first_name": "Tom", "last_name": "Weber",
                              "birth_date": "2019-01-01", "school": "École maternelle", "class": "GS"}]}},
    {"ref": "P-4", "kind": "family_change", "submitted_at": "2026-03-01T20:00:00+01:00",
     "family_ref": "F-0042", "changes": {"address.city": "Rombas", "guardians[0].phone": "06 01 02 03 04"}},
]


@pytest.fixture
def office(desk, clock):
    clock.set(2026, 3, 11, 12, 0)
    load_example_settings(desk)
    make_family(desk, "Keller", ref="F-0042", children=[
        {"ref": "E-0107", "first_name": "Jules", "birth_date": date(2019, 5, 2),
         "pickup": [{"name": "Paul Hoffmann", "relation": "Voisin"}]}])
    return desk


def snapshot(desk):
    with desk.read() as s:
        return tuple(s.execute(select(func.count()).select_from(m)).scalar()
                     for m in (Request, FeedEntry, Booking, Family))


def attempt(desk, data):
    """Import; on refusal, prove nothing moved. Any other exception fails the test."""
    before = snapshot(desk)
    try:
        intake.import_feed(desk, data)
    except DeskError as exc:
        assert str(exc).strip(), "a refusal must say why"
        assert "Traceback" not in str(exc)
        assert snapshot(desk) == before
        return False
    return True


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes(office, data):
    attempt(office, data)


@FUZZ
@given(json_values)
def test_random_json_documents(office, doc):
    attempt(office, json.dumps(doc))
    attempt(office, json.dumps({"requests": doc}))
    attempt(office, json.dumps({"requests": [doc]}))


@FUZZ
@given(st.integers(0, len(VALID) - 1), st.lists(st.tuples(st.text(max_size=12), json_values, st.booleans()),
                                                 min_size=1, max_size=3), st.data())
def test_valid_entries_with_random_damage(office, which, damage, data):
    entry = json.loads(json.dumps(VALID[which]))
    ok_ref = f"Z-{data.draw(st.integers(0, 10**9))}"
    entry["ref"] = ok_ref + "-x"
    for key, value, delete in damage:
        key = data.draw(st.sampled_from(sorted(entry) + [key]))
        if delete:
            entry.pop(key, None)
        else:
            entry[key] = value
    attempt(office, json.dumps({"requests": [VALID[0] | {"ref": ok_ref}, entry]}))


def test_valid_feed_goes_in_whole(office):
    assert attempt(office, json.dumps({"requests": VALID}))
    assert snapshot(office)[1] == 4


def test_huge_files_are_refused_without_reading_them_all(office, tmp_path):
    path = tmp_path / "huge.json"
    with open(path, "wb") as f:
        f.truncate(intake.MAX_FEED_BYTES + 1)
    with pytest.raises(DeskError) as info:
        intake.import_feed_file(office, path)
    assert "trop volumineux" in str(info.value)


def test_many_bad_entries_give_a_bounded_message(office):
    before = snapshot(office)
    bad = [{"ref": f"B-{i}", "kind": "booking", "submitted_at": "2026-03-11T09:00:00+01:00",
            "family_ref": "F-404", "child_ref": "E-404", "activity": "PERISCOLAIRE", "unit": "Repas",
            "dates": ["2026-03-13"]} for i in range(20000)]
    with pytest.raises(DeskError) as info:
        intake.import_feed(office, json.dumps({"requests": bad}))
    lines = str(info.value).splitlines()
    assert lines[0] == "Flux refusé, rien n'a été importé (20000 problèmes) :"
    assert lines[-1] == "… et 19800 autres problèmes."
    assert snapshot(office) == before


@settings(max_examples=30, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(st.one_of(st.binary(max_size=200), json_values.map(lambda v: json.dumps({"requests": [v]}).encode())))
def test_intake_command_never_a_traceback(office, db_url, tmp_path_factory, data):
    from gandrange_desk.cli import main

    path = tmp_path_factory.mktemp("feed") / "feed.json"
    path.write_bytes(data)
    before = snapshot(office)
    code = main(["--db", db_url, "intake", str(path)])  # raises nothing: a French line and a status
    assert code in (0, 1)
    if code == 1:
        assert snapshot(office) == before


MEMBER_PATHS = ["guardians[+1]", "children[+1]", "children[E-0107].allergies", "children[E-0107].pai",
                "children[E-0107].pickups[+1]", "children[E-0107].pickups[0]", "children[0].pickups[+2]"]
CHILD = {"first_name": "Tom", "last_name": "Keller", "birth_date": "2021-06-02", "school": "École maternelle"}
GUARDIAN = {"first_name": "Anne", "last_name": "Weber", "email": "anne@example.org", "phone": "06 11 22 33 44"}
PICKUP = {"name": "Odile Keller", "relation": "Grand-mère", "phone": "0610101010", "forbidden": False}
GOOD = {"guardians[+1]": [GUARDIAN], "children[+1]": [CHILD], "children[E-0107].allergies": ["Kiwi\nLait", ""],
        "children[E-0107].pai": [True, False], "children[E-0107].pickups[+1]": [PICKUP],
        "children[E-0107].pickups[0]": [PICKUP, None], "children[0].pickups[+2]": [PICKUP]}


def value_for(path: str):
    """Mostly what the form takes, then the same with a key or two damaged, then anything."""
    good = st.sampled_from(GOOD[path])
    damaged = good.filter(lambda g: isinstance(g, dict)).flatmap(lambda g: st.dictionaries(
        st.sampled_from(sorted(g) + ["x"]), json_values, min_size=1, max_size=2).map(lambda d: {**g, **d}))
    return st.one_of(good, good, damaged, json_values)


member_changes = st.lists(st.sampled_from(MEMBER_PATHS), min_size=1, max_size=3, unique=True).flatmap(
    lambda paths: st.fixed_dictionaries({path: value_for(path) for path in paths}))


@FUZZ
@given(member_changes)
def test_member_changes_are_refused_in_french_or_decided_without_a_traceback(office, changes):
    from gandrange_desk.services import queue

    entry = {"ref": "P-M", "kind": "family_change", "submitted_at": "2026-03-01T20:00:00+01:00",
             "family_ref": "F-0042", "changes": changes}
    if not attempt(office, json.dumps({"requests": [entry]})):
        return
    rid = next(i.id for i in queue.pending_items(office) if i.kind == "family_change" and i.ref == "P-M")
    view = queue.family_change_view(office, rid)
    assert all(isinstance(c.new, str) and isinstance(c.old, str) for c in view)
    queue.accept_family_change(office, rid, [c.path for c in view], reason="Essai.")
    with office.unit_of_work() as s:  # the next example starts from the same family
        s.execute(FeedEntry.__table__.delete())
