"""Mes réservations, Réservations sur période, Ma famille, Factures: the family's pages, going
through the desk's own services (queue, rules, invoicing) and never showing another family's."""

from __future__ import annotations

import io
import re
from datetime import date

from pypdf import PdfReader
from sqlalchemy import select

from gandrange_desk.models import Activity, Booking, Family, Request, RequestStatus
from gandrange_desk.services import queue
from gandrange_desk.services.queue.listing import pending_items
from tests.builders import make_booking, unit_id

from .conftest import post, signed_in

IN_TIME = date(2026, 12, 8)  # Tuesday: the booking deadline is Friday 4 at 10:00
LATE = date(2026, 11, 27)  # Friday: its deadline (Wednesday 25 at 10:00) has passed at the clock's now


def ids(desk, family_id):
    with desk.read() as s:
        f = s.get(Family, family_id)
        child_ids = [c.id for c in f.children]
        activity = s.execute(select(Activity.id).where(Activity.code == "PERISCOLAIRE")).scalar_one()
    return child_ids, activity, unit_id(desk, "PERISCOLAIRE", "Repas")


def state(desk, child_id, unit, day):
    with desk.read() as s:
        return s.execute(select(Booking.state).where(Booking.child_id == child_id, Booking.unit_id == unit,
                                                     Booking.day == day)).scalar_one_or_none()


def grid_url(child, activity, month="2026-12"):
    return f"/reservations?enfant={child}&activite={activity}&mois={month}"


def click(client, child, activity, unit, day, page=None, follow=True):
    """A grid click as the browser makes it: the POST, answered 303 to the grid, then that GET."""
    url = page or grid_url(child, activity, day.strftime("%Y-%m"))
    r = post(client, "/reservations", {"enfant": child, "activite": activity, "mois": day.strftime("%Y-%m"),
                                       "case": f"{unit}:{day.isoformat()}"}, page=url)
    if r.status_code != 303 or not follow:
        return r
    assert r.headers["location"] == grid_url(child, activity, day.strftime("%Y-%m"))
    return client.get(r.headers["location"])


def test_a_white_cell_becomes_dr_in_the_desk_queue_and_r_once_the_desk_accepts(desk, portal_base, martin):
    (lea, _hugo), activity, repas = ids(desk, portal_base["martin"])
    page = martin.get(grid_url(lea, activity)).text
    assert "Réservation : au plus tard 2 jours ouvrés avant, à 10 h 00." in page
    assert "Fermé" in page  # weekends and Wednesdays of the périscolaire
    r = click(martin, lea, activity, repas, IN_TIME)
    assert r.status_code == 200
    assert "1 demande de réservation envoyée. La structure doit valider." in r.text
    assert state(desk, lea, repas, IN_TIME) == "DR"
    items = [i for i in pending_items(desk) if i.child_id == lea]
    assert [(i.day, i.unit_id, i.source, i.late) for i in items] == [(IN_TIME, repas, "portal", False)]
    queue.accept(desk, [items[0].id])
    page = martin.get(grid_url(lea, activity)).text
    assert re.search(rf'value="{repas}:{IN_TIME.isoformat()}"[^>]*>R<', page)
    # The seed's acceptance e-mail went to the outbox.
    from gandrange_desk.models import OutboxMessage
    with desk.read() as s:
        bodies = s.execute(select(OutboxMessage.body_text).where(
            OutboxMessage.family_id == portal_base["martin"])).scalars().all()
    assert any("a été acceptée" in b for b in bodies)


def test_an_r_clicked_becomes_da_and_the_desk_excuses_it(desk, portal_base, martin):
    (lea, _), activity, repas = ids(desk, portal_base["martin"])
    make_booking(desk, lea, repas, IN_TIME, "R")
    r = click(martin, lea, activity, repas, IN_TIME)
    assert "1 demande d&#39;annulation envoyée" in r.text
    assert state(desk, lea, repas, IN_TIME) == "DA"
    [item] = [i for i in pending_items(desk) if i.child_id == lea]
    queue.accept(desk, [item.id])
    assert state(desk, lea, repas, IN_TIME) is None


def test_a_late_request_is_marked_hors_delai(desk, portal_base, martin):
    (lea, _), activity, repas = ids(desk, portal_base["martin"])
    r = click(martin, lea, activity, repas, LATE)
    assert "1 demande est hors délai" in r.text
    assert "hors délai</small>" in martin.get(grid_url(lea, activity, "2026-11")).text
    with desk.read() as s:
        assert s.execute(select(Request.late).where(Request.child_id == lea)).scalar_one() is True


def test_a_closed_day_is_refused_by_the_rules(desk, portal_base, martin):
    (lea, _), activity, repas = ids(desk, portal_base["martin"])
    r = click(martin, lea, activity, repas, date(2026, 12, 6))  # a Sunday
    assert 'role="alert"' in r.text
    assert "Léa Martin — Repas du dimanche 06/12/2026 : jour fermé (Week-end)." in r.text
    assert state(desk, lea, repas, date(2026, 12, 6)) is None


def test_period_booking_total_and_reserver(desk, portal_base, martin):
    (lea, hugo), _activity, repas = ids(desk, portal_base["martin"])
    make_booking(desk, lea, repas, date(2026, 12, 7), "R")
    form = {"enfant": [lea, hugo], "structure": repas, "debut": "2026-12-07", "fin": "2026-12-18",
            "semaines": "all", "jour": ["0", "3"]}  # Mondays and Thursdays: 7, 10, 14, 17
    r = martin.get("/reservations/periode/total", params=form)
    assert r.json() == {"total": 7, "text": "Total : 7"}
    r = post(martin, "/reservations/periode", {**form, "action": "total"})
    assert "Total : 7" in r.text
    r = post(martin, "/reservations/periode", {**form, "action": "reserver"})
    assert "7 demandes de réservation envoyées" in r.text
    with desk.read() as s:
        rows = s.execute(select(Booking.child_id, Booking.day, Booking.state).where(Booking.unit_id == repas)).all()
    assert sorted(rows) == sorted([(lea, date(2026, 12, 7), "R")] + [
        (c, d, "DR") for c in (lea, hugo) for d in (date(2026, 12, 10), date(2026, 12, 14), date(2026, 12, 17))
    ] + [(hugo, date(2026, 12, 7), "DR")])
    bad = post(martin, "/reservations/periode", {**form, "jour": [], "action": "reserver"})
    assert bad.status_code == 400 and "Cochez au moins un jour de la semaine." in bad.text


def test_ma_famille_modifier_sends_a_change_request_shown_pending(desk, portal_base, martin):
    page = martin.get("/famille").text
    assert "Foyer" in page and "Enfant : Léa Martin" in page and "Responsable : Claire Martin" in page
    r = post(martin, "/famille/foyer", {"address.street": "3 rue des Écoles", "address.postcode": "57175",
                                         "address.city": "Gandrange", "name": "Martin",
                                         "phone": ""})
    assert r.headers["location"] == "/famille"
    page = martin.get("/famille").text
    assert "en attente de validation" in page and "3 rue des Écoles" in page
    with desk.read() as s:
        assert s.get(Family, portal_base["martin"]).street == "12 rue de la Gare"  # nothing written yet
        rid = s.execute(select(Request.id).where(Request.kind == "family_change")).scalar_one()
    queue.accept_family_change(desk, rid, ["address.street"])
    with desk.read() as s:
        assert s.get(Family, portal_base["martin"]).street == "3 rue des Écoles"
    assert "en attente de validation</h2>" not in martin.get("/famille").text


def test_historique_lists_the_invoice_and_its_pdf_downloads(desk, portal_base, martin, invoices):
    page = martin.get("/factures").text
    assert "Facture de novembre 2026" in page
    iid = invoices[portal_base["martin"]]
    r = martin.get(f"/factures/facture/{iid}.pdf")
    assert r.status_code == 200 and r.headers["content-type"] == "application/pdf"
    assert r.headers["content-disposition"].startswith("attachment;")
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(r.content)).pages)
    assert "Martin" in text
    assert "Le prélèvement étant en place" not in page


def test_a_prelevement_family_reads_the_guide_sentence(desk, invoices):
    client = signed_in(desk, invoices["muller"])
    page = client.get("/factures").text
    assert "Le prélèvement étant en place, vous n&#39;aurez pas de facture à payer directement par le portail." in page


def test_another_familys_ids_give_404_and_nothing(desk, portal_base, martin, durand, invoices):
    (lea, _), activity, repas = ids(desk, portal_base["martin"])
    [durand_child], _, _ = ids(desk, portal_base["durand"])
    # Grid of another family's child, and a click on it.
    assert durand.get(grid_url(lea, activity)).status_code == 404
    r = click(durand, lea, activity, repas, IN_TIME, page="/accueil")
    assert r.status_code == 404 and "Léa" not in r.text
    assert state(desk, lea, repas, IN_TIME) is None
    # Period booking and its total with another family's child.
    form = {"enfant": [lea], "structure": repas, "debut": "2026-12-07", "fin": "2026-12-18",
            "semaines": "all", "jour": ["0"]}
    assert durand.get("/reservations/periode/total", params=form).status_code == 404
    assert post(durand, "/reservations/periode", {**form, "action": "reserver"}).status_code == 404
    assert state(desk, lea, repas, date(2026, 12, 7)) is None
    # Another family's invoice PDF, and an invoice id that does not exist: the same 404.
    other = durand.get(f"/factures/facture/{invoices[portal_base['martin']]}.pdf")
    missing = durand.get("/factures/facture/999999.pdf")
    assert other.status_code == missing.status_code == 404 and other.content == missing.content
    assert durand.get("/factures/avoir/1.pdf").status_code == 404
    # Durand's own pages never name the Martins.
    for url in ("/accueil", "/factures", "/famille", "/compte", grid_url(durand_child, activity)):
        assert "Martin" not in durand.get(url).text, url
    # A family section that is not theirs does not exist for them.
    assert durand.get("/famille/enfant-2").status_code == 404


def test_a_reload_after_a_click_asks_nothing_again(desk, portal_base, martin):
    (lea, _), activity, repas = ids(desk, portal_base["martin"])
    r = click(martin, lea, activity, repas, IN_TIME, follow=False)
    assert r.status_code == 303
    url = r.headers["location"]
    first = martin.get(url).text
    assert "1 demande de réservation envoyée. La structure doit valider." in first
    # The reload is a GET of the grid: the message is gone, the cell is still one DR, one request.
    again = martin.get(url).text
    assert "demande de réservation envoyée" not in again
    assert re.search(rf'value="{repas}:{IN_TIME.isoformat()}"[^>]*>DR<', again)
    assert state(desk, lea, repas, IN_TIME) == "DR"
    assert len([i for i in pending_items(desk) if i.child_id == lea]) == 1
