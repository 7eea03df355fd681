"""Issue 11, fuzzed: hostile text in any field of a feed entry, any value in a settings file, any
text as a command's argument. Always a French refusal or a whole success; never a traceback,
never a partial write, never a message that cannot itself be printed."""

from __future__ import annotations

import json
import os
import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from gandrange_desk.cli import main
from gandrange_desk.errors import DeskError
from gandrange_desk.models import AuditEntry, Booking, Closure, FeedEntry, Request, Structure
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.services.settings.service import import_settings
from tests.builders import EXAMPLE_SETTINGS
from tests.intake.test_intake_fuzz import VALID, office  # noqa: F401 (the fixture)

# BOUNDARY_FUZZ=500 for a longer hunt; the suite keeps it short.
FUZZ = settings(max_examples=int(os.environ.get("BOUNDARY_FUZZ", "40")), deadline=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])

# Text a hostile or broken portal could send: controls, NUL, lone surrogates, markup, long runs.
hostile = st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=20),
    st.sampled_from(["a@b.fr\r\nBcc: x@evil", "\x00", "\ud800", "9999-12-31", "0001-01-01", "x" * 500,
                     "<Nm>&;`", "+33 1", "ABCDE", "children[9].class", "1e30"]),
)


def _counts(desk):
    with desk.read() as s:
        return tuple(s.execute(select(func.count()).select_from(m)).scalar()
                     for m in (Request, FeedEntry, Booking, AuditEntry))


def _paths(value, here=()):
    """Every place in an entry holding a text, as a key path."""
    if isinstance(value, str):
        yield here
    elif isinstance(value, dict):
        for k, item in value.items():
            yield from _paths(item, here + (k,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, here + (i,))


@FUZZ
@given(st.integers(0, len(VALID) - 1), st.data(), hostile)
def test_hostile_text_in_any_field_of_an_entry(office, which, data, text):  # noqa: F811
    entry = json.loads(json.dumps(VALID[which]))
    path = data.draw(st.sampled_from(list(_paths(entry))))
    target = entry
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = text
    before = _counts(office)
    try:
        intake.import_feed(office, json.dumps({"requests": [entry]}))
    except DeskError as exc:
        str(exc).encode("utf-8")  # printable as it is
        assert _counts(office) == before
    # Whatever went in can be read back and encoded for any database.
    with office.read() as s:
        for payload in s.execute(select(Request.payload)).scalars():
            payload.encode("utf-8")
            assert "\x00" not in payload


EXAMPLE = EXAMPLE_SETTINGS.read_text(encoding="utf-8")
_STRING = re.compile(r'"((?:[^"\\]|\\.)*)"')
_TOML_VALUES = st.one_of(
    st.text(max_size=30).map(lambda t: json.dumps(t)),  # a TOML basic string with JSON escapes
    st.integers(-10**20, 10**20).map(str), st.floats(allow_nan=False).map(repr),
    st.sampled_from(['"\\u0000"', '"9999-12-31"', "0001-01-01", "1e30", "[]", "{}", "true", '"FR76"']),
)


def _structure_row(desk):
    with desk.read() as s:
        row = s.execute(select(Structure)).scalars().first()
        closures = s.execute(select(func.count()).select_from(Closure)).scalar()
        return None if row is None else (row.name, row.sepa_iban, row.siret, row.version, closures)


@FUZZ
@given(st.data(), _TOML_VALUES)
def test_any_value_anywhere_in_the_settings_file(office, data, value):  # noqa: F811
    spots = list(_STRING.finditer(EXAMPLE))
    spot = data.draw(st.sampled_from(spots))
    text = EXAMPLE[:spot.start()] + value + EXAMPLE[spot.end():]
    before = _structure_row(office)
    try:
        import_settings(office, text)
    except DeskError as exc:
        str(exc).encode("utf-8")
        assert _structure_row(office) == before


COMMANDS = [
    ["invoices", "prepare", "--month"], ["invoices", "list", "--month"], ["sepa", "preview", "--month"],
    ["export", "grid", "--out", "x.csv", "--month"], ["lists", "day", "--out", "x.csv", "--date"],
    ["queue", "refuse", "--reason", "motif"], ["payments", "reverse", "--reason", "motif"],
    ["outbox", "list", "--family"], ["appointments", "list", "--day"], ["attestations", "fiscal", "--out", "a.pdf", "--year"],
]
argument = st.one_of(st.text(max_size=25).filter(lambda t: not t.startswith("-")),
                     st.integers(-10**30, 10**30).map(str),
                     st.sampled_from(["9999-12", "0000-00", "9999-12-31", "\udcff", "1e30", "2026-02-30"]))


@pytest.mark.timeout(300)
@FUZZ
@given(st.sampled_from(COMMANDS), argument)
def test_any_argument_to_a_command(office, db_url, tmp_path, capsys, monkeypatch, command, arg):  # noqa: F811
    monkeypatch.chdir(tmp_path)
    try:
        code = main(["--db", db_url, *command, arg])
    except SystemExit as exc:  # argparse's usage errors, in French
        code = exc.code
    err = capsys.readouterr().err
    assert code in (0, 1, 2) and "Traceback" not in err
