"""What a page costs the database does not grow with the family: « Ma famille » reads a household
of four children, two guardians and pending changes of pick-up persons in as many statements as a
household of one child; « Factures et documents » reads three years of fiscal attestations in as
many statements as one (and none per year), and shows what each year's own attestation says."""

from __future__ import annotations

import json
from contextlib import contextmanager
from datetime import date, datetime

from sqlalchemy import event, select

from gandrange_desk.clock import PARIS
from gandrange_desk.models import Child, PickupPerson, Request, RequestKind, RequestSource, RequestStatus
from gandrange_desk.services.billing import attestations as billing_attestations
from gandrange_desk.services.billing import payments
from gandrange_desk.services.portal import attestations
from tests import payments_builders as b
from tests.builders import make_family, unit_id

from .conftest import signed_in


@contextmanager
def statements(engine):
    seen: list[str] = []

    def record(_conn, _cursor, statement, *_args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def _page_statements(desk, client, url: str) -> tuple[int, str]:
    client.get(url)  # the first view of the process may read what later views find ready
    with statements(desk.engine) as seen:
        r = client.get(url)
    assert r.status_code == 200, (url, r.status_code)
    return len(seen), r.text


# --- Ma famille ------------------------------------------------------------------------------


def _pickup_changes(desk, family_id: int) -> None:
    """A pending change of each child's first pick-up person, pinned as the feed pins it."""
    with desk.unit_of_work() as s:
        for n, child in enumerate(s.execute(select(Child).where(Child.family_id == family_id)
                                            .order_by(Child.id)).scalars()):
            person = PickupPerson(child_id=child.id, name=f"Odile Keller {n}", relation="Grand-mère",
                                  phone="0387000000")
            s.add(person)
            s.flush()
            path = f"children[{child.ref}].pickups[0]"
            s.add(Request(kind=RequestKind.FAMILY_CHANGE, source=RequestSource.PORTAL, ref="flux",
                          family_id=family_id, submitted_at=datetime(2026, 11, 20, 10, n, tzinfo=PARIS),
                          status=RequestStatus.PENDING,
                          payload=json.dumps({"changes": {path: {"name": f"Odile Weber {n}", "relation": "Tante",
                                                                 "phone": "0387111111"}},
                                              "targets": {path: [child.ref, person.id]}})))


def test_ma_famille_reads_a_big_household_in_as_many_statements_as_a_small_one(desk, portal_base):
    small = make_family(desk, "Petit", portal_state="to_create", children=[{"first_name": "Zoé"}])
    big = make_family(desk, "Grandjean", portal_state="to_create",
                      guardians=[{"first_name": "Claire", "last_name": "Grandjean", "email": "c@example.org"},
                                 {"first_name": "Marc", "last_name": "Grandjean", "email": "m@example.org"}],
                      children=[{"first_name": name, "last_name": "Grandjean"}
                                for name in ("Zoé", "Tom", "Inès", "Noah")])
    for family in (small, big):
        _pickup_changes(desk, family.id)
    small_count, small_page = _page_statements(desk, signed_in(desk, small.id), "/famille")
    big_count, big_page = _page_statements(desk, signed_in(desk, big.id), "/famille")
    assert big_count == small_count
    # Every section and every pending change is on the page, in the desk's own words.
    assert "Demandes en attente de validation" in big_page
    for n, name in enumerate(("Zoé", "Tom", "Inès", "Noah")):
        assert f"Enfant : {name} Grandjean" in big_page
    assert big_page.count("Personne autorisée pour") == 4 and "Odile Weber 3" in big_page
    assert "Responsable : Marc Grandjean" in big_page
    assert small_page.count("Personne autorisée pour Zoé Petit") == 1 and "Odile Weber 0" in small_page


# --- Factures et documents -------------------------------------------------------------------


def _paid_care(desk, family_id: int, child_id: int, soir: int, years: list[int]) -> None:
    """An evening of care invoiced in November and paid in December of each year."""
    for year in years:
        days = [date(year, 11, 3), date(year, 11, 4)]
        b.invoice(desk, family_id, date(year, 11, 1), [(soir, child_id, "Accueil soir", 2, 250 + year % 10, days)])
        payments.record_payment(desk, family_id, mode="cheque", received_on=date(year, 12, 10),
                                amount_cents=2 * (250 + year % 10), reference=f"Chèque {year}")


def test_factures_reads_three_years_of_attestations_in_as_many_statements_as_one(desk, portal_base):
    soir = unit_id(desk, "PERISCOLAIRE", "Accueil soir")
    families = {}
    for name, years in (("Un", [2025]), ("Trois", [2023, 2024, 2025]), ("Aucun", [])):
        fam = make_family(desk, name, portal_state="to_create",
                          children=[{"first_name": "Zoé", "birth_date": date(2021, 6, 2)}])
        _paid_care(desk, fam.id, b.child_ids(desk, fam.id)[0], soir, years)
        families[name] = fam.id
    counts, pages = {}, {}
    for name, fid in families.items():
        counts[name], pages[name] = _page_statements(desk, signed_in(desk, fid), "/factures")
    assert counts["Trois"] == counts["Un"]
    assert counts["Aucun"] <= counts["Un"]
    # Each year as its own attestation gives it (the one reading is the same rule, year by year).
    for name, fid in families.items():
        offered = attestations.fiscal_years(desk, fid)
        one_by_one = [(year, items[0].total_cents) for year in (2025, 2024, 2023)
                      if (items := billing_attestations.fiscal_attestations(desk, year, fid))]
        assert [(y.year, y.total_cents) for y in offered] == one_by_one
        for year, cents in one_by_one:
            assert f"Attestation fiscale {year} (PDF)</a> — {cents // 100},{cents % 100:02d}" in pages[name]
    assert [y.year for y in attestations.fiscal_years(desk, families["Trois"])] == [2025, 2024, 2023]
    assert "Pas d'attestation fiscale" in pages["Aucun"]


def test_the_years_read_together_match_each_year_read_alone_for_the_whole_town(desk, portal_base):
    """The desk's « all families » attestations go through the same code with one year."""
    soir = unit_id(desk, "PERISCOLAIRE", "Accueil soir")
    for name, years in (("Un", [2024]), ("Deux", [2024, 2025])):
        fam = make_family(desk, name, children=[{"first_name": "Zoé", "birth_date": date(2021, 6, 2)}])
        _paid_care(desk, fam.id, b.child_ids(desk, fam.id)[0], soir, years)
    together = billing_attestations.fiscal_attestations_of_years(desk, [2023, 2024, 2025])
    for year in (2023, 2024, 2025):
        alone = billing_attestations.fiscal_attestations(desk, year)
        assert [(a.family_name, a.total_cents, [c.name for c in a.children]) for a in together[year]] == \
            [(a.family_name, a.total_cents, [c.name for c in a.children]) for a in alone]
    assert [a.family_name for a in together[2024]] == ["Deux", "Un"]


# --- one read per page ---------------------------------------------------------------------------

PAGES = ("/accueil", "/reservations", "/reservations/periode", "/factures", "/famille", "/telechargements",
         "/compte")


def test_each_page_is_one_read_on_one_connection(desk, portal_base):
    """The session check and every service read of a page share one read transaction: one
    connection taken from the pool per page, whatever the number of services it asks."""
    client = signed_in(desk, portal_base["martin"])
    checkouts: list[int] = []

    def checkout(*_args):
        checkouts.append(1)

    for page in PAGES:
        client.get(page)
    event.listen(desk.engine, "checkout", checkout)
    try:
        for page in PAGES:
            checkouts.clear()
            r = client.get(page)
            assert r.status_code == 200, page
            assert len(checkouts) == 1, (page, len(checkouts))
    finally:
        event.remove(desk.engine, "checkout", checkout)
    assert "Léa" in client.get("/reservations").text and "Historique" in client.get("/factures").text


def test_the_served_portal_keeps_its_connections_open(db_url, monkeypatch):
    """`portal serve` builds the app with a pool of 15 connections kept open: a burst of
    families reuses them instead of opening one for a page and closing it after."""
    from starlette.testclient import TestClient

    from gandrange_desk.portal import asgi

    monkeypatch.setenv("GANDRANGE_DESK_DB", db_url)
    monkeypatch.setenv(asgi.ENV_SECRET, "test-secret")
    app = asgi.create()
    login = next(r for r in app.routes if getattr(r, "path", "") == "/connexion")
    engine = login.endpoint.__self__.desk.engine
    assert engine.pool.size() == asgi.POOL_SIZE == 15 and engine.pool._max_overflow == 0
    with TestClient(app) as client:
        assert "Identifiant" in client.get("/connexion").text
