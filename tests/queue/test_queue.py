"""The validation queue: grouped, decided once, e-mails in the guide's words in the same transaction."""

from __future__ import annotations

import json
from datetime import date

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, insert, select

from gandrange_desk.cli import main
from gandrange_desk.errors import AlreadyDecided, PermissionDenied, ValidationFailed
from gandrange_desk.models import (
    AuditEntry, Booking, CellState, Child, Family, OutboxMessage, OutboxSecret, Request, RequestStatus, Unit,
)
from gandrange_desk.services.reservations import bookings
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.services import queue
from gandrange_desk.services.intake import waiting
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.context import Actor
from tests.builders import load_example_settings, make_family, unit_id

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

SIGNATURE = """Cordialement,

Le bureau périscolaire
Service Enfance-Jeunesse — Commune de Gandrange
Tél. : 03 87 67 17 79
Courriel : periscolaire@mairie-gandrange.example
"""


@pytest.fixture
def office(desk, clock):
    clock.set(2026, 3, 11, 12, 0)
    load_example_settings(desk)
    make_family(desk, "Keller", ref="F-0042", guardians=[
        {"first_name": "Sophie", "last_name": "Keller", "email": "sophie.keller@example.org"},
        {"first_name": "Marc", "last_name": "Keller", "email": "marc.keller@example.org"}],
        children=[{"ref": "E-0107", "first_name": "Jules", "birth_date": date(2019, 5, 2)}])
    make_family(desk, "Muller", ref="F-0050", guardians=[
        {"first_name": "Anne", "last_name": "Muller", "email": ""}],
        children=[{"ref": "E-0200", "first_name": "Léa"}])
    return desk


def feed(*entries) -> str:
    return json.dumps({"requests": list(entries)})


def booking(ref, dates, unit="Repas", activity="PERISCOLAIRE", family="F-0042", child="E-0107",
            at="2026-03-11T09:12:00+01:00", kind="booking"):
    return {"ref": ref, "kind": kind, "submitted_at": at, "family_ref": family, "child_ref": child,
            "activity": activity, "unit": unit, "dates": dates}


def outbox(desk) -> list[OutboxMessage]:
    with desk.read() as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def ids(desk, **where) -> list[int]:
    return [i.id for i in queue.pending_items(desk) if all(getattr(i, k) == v for k, v in where.items())]


def test_grouped_family_activity_unit_with_counts_and_places(office):
    intake.import_feed(office, feed(
        booking("P-1", ["2026-03-13", "2026-03-16"]),
        booking("P-2", ["2026-03-13"], unit="Accueil soir"),
        booking("P-3", ["2026-03-18"], unit="Matin", activity="MERCREDI"),
        booking("P-4", ["2026-03-13"], family="F-0050", child="E-0200"),
    ))
    groups = queue.pending(office)
    assert [(g.name, g.count) for g in groups] == [("Keller", 4), ("Muller", 1)]
    keller = groups[0]
    assert [(a.name, a.count, [(u.name, len(u.items)) for u in a.units]) for a in keller.activities] == [
        ("MERCREDI", 1, [("Matin", 1)]),
        ("Périscolaire", 3, [("Repas", 2), ("Accueil soir", 1)])]
    repas_13 = [i for i in queue.pending_items(office) if i.unit_name == "Repas" and i.day == date(2026, 3, 13)]
    # 110 places: the first accepted leaves 109, the second 108
    assert sorted(i.places_left for i in repas_13) == [108, 109]
    assert [i.family_ref for i in queue.pending_items(office, queue.QueueFilter(text="lea muller"))] == ["F-0050"]


def test_accepting_bookings_writes_the_guide_mail_once_per_family_and_activity(office):
    intake.import_feed(office, feed(
        booking("P-1", ["2026-03-16", "2026-03-13"]),
        booking("P-2", ["2026-03-13"], unit="Accueil soir"),
        booking("P-3", ["2026-03-18"], unit="Matin", activity="MERCREDI"),
    ))
    result = queue.accept(office, None)
    assert len(result.decided) == 4 and result.messages == 2
    with office.read() as s:
        assert set(s.execute(select(Booking.state)).scalars()) == {CellState.R}
    mails = outbox(office)
    peri = next(m for m in mails if "Périscolaire" in m.subject)
    assert peri.recipients == "sophie.keller@example.org, marc.keller@example.org"
    assert peri.subject == "Demande de réservation acceptée — Périscolaire"
    assert peri.body_text == """Bonjour,

Nous vous informons que votre demande de réservation concernant Service Enfance-Jeunesse — Commune de Gandrange pour la prestation Périscolaire a été acceptée.

Ci-dessous, le détail de la réponse concernant vos demandes de réservation :

Repas
2 réservations acceptées les : 13/03, 16/03

Accueil soir
1 réservation acceptée le : 13/03

""" + SIGNATURE
    assert "1 réservation acceptée le : 18/03" in next(m for m in mails if "MERCREDI" in m.subject).body_text
    assert sorted(int(x) for m in mails for x in m.related_requests.split(",")) == sorted(result.decided)
    assert queue.pending_items(office) == []


def _reserve(desk, child_ref, activity, unit_name, days):
    with desk.unit_of_work() as s:
        cal = Calendar.load(s)
        child = s.execute(select(Child).where(Child.ref == child_ref)).scalar_one()
        unit = s.get(Unit, unit_id(s, activity, unit_name))
        for day in days:
            bookings.ask_booking(s, desk, cal, child, unit, day, source="desk_office", submitted_at=desk.now())


def test_cancellations_excused_and_billed_with_per_date_override(office, clock):
    clock.set(2026, 5, 4, 10, 0)
    _reserve(office, "E-0107", "MERCREDI", "Journée complète",
             [date(2026, 5, 6), date(2026, 5, 13), date(2026, 5, 20)])
    intake.import_feed(office, feed(booking("P-9", ["2026-05-06", "2026-05-13", "2026-05-20"],
                                            unit="Journée complète", activity="MERCREDI",
                                            kind="cancellation", at="2026-05-04T09:00:00+02:00")))
    items = {i.day: i for i in queue.pending_items(office)}
    # 06/05: deadline 30/04 12:00, passed → facturée proposed; the others excusée
    assert [items[d].proposed_billing for d in sorted(items)] == ["billed", "excused", "excused"]
    assert items[date(2026, 5, 6)].late
    result = queue.accept(office, [i.id for i in items.values()], overrides={
        items[date(2026, 5, 6)].id: ("excused", "Certificat médical"),
        items[date(2026, 5, 20)].id: ("billed", "Absence signalée trop tard au téléphone")})
    assert result.messages == 1
    mail = outbox(office)[0]
    assert mail.subject == "Demande d'annulation acceptée — MERCREDI"
    assert mail.body_text == """Bonjour,

Nous vous informons que votre demande d'annulation concernant Service Enfance-Jeunesse — Commune de Gandrange pour la prestation MERCREDI a été acceptée.

Ci-dessous, le détail de la réponse concernant vos demandes d'annulation :

Journée complète
2 annulations excusées les : 06/05, 13/05
1 annulation facturée le : 20/05

""" + SIGNATURE
    with office.read() as s:
        cells = dict(s.execute(select(Booking.day, Booking.state)).all())
        reasons = dict(s.execute(select(Request.day, Request.billing_override_reason).where(
            Request.kind == "cancellation")).all())
    assert cells == {date(2026, 5, 20): CellState.AF}
    assert reasons[date(2026, 5, 6)] == "Certificat médical"


def test_refusal_needs_a_reason_and_mails_it(office):
    intake.import_feed(office, feed(booking("P-1", ["2026-03-13"])))
    [rid] = ids(office)
    with pytest.raises(ValidationFailed):
        queue.refuse(office, [rid], "  ")
    assert outbox(office) == []
    queue.refuse(office, [rid], "Plus de place disponible.")
    text = outbox(office)[0].body_text
    assert "a été refusée.\n\nCi-dessous, le détail de la réponse concernant vos demandes de réservation :\n\n" \
           "Repas\n1 réservation refusée le : 13/03\nMotif : Plus de place disponible.\n" in text
    with office.read() as s:
        assert s.execute(select(func.count()).select_from(Booking)).scalar() == 0


def test_second_workstation_is_told_who_decided_and_nothing_changes(office):
    intake.import_feed(office, feed(booking("P-1", ["2026-03-13"])))
    [rid] = ids(office)
    clerk = office.as_actor(Actor("sfoncin", "Sandrine Foncin", "agent"))
    other = office.as_actor(Actor("mresp", "Marc Responsable", "responsable"))
    queue.accept(clerk, [rid])
    before = len(outbox(office))
    with pytest.raises(AlreadyDecided) as info:
        queue.refuse(other, [rid], "Complet")
    assert str(info.value) == f"Demande n° {rid} déjà traitée par sfoncin à 12:00."
    assert len(outbox(office)) == before
    with office.read() as s:
        assert s.execute(select(Booking.state)).scalar() == CellState.R


def test_selection_with_one_already_decided_decides_the_rest(office):
    intake.import_feed(office, feed(booking("P-1", ["2026-03-13", "2026-03-16"])))
    first, second = ids(office)
    queue.accept(office, [first])
    result = queue.accept(office, [first, second])
    assert result.decided == [second] and result.already == [f"Demande n° {first} déjà traitée par systeme à 12:00."]


def test_capacity_over_needs_override(office):
    with office.unit_of_work() as s:
        s.get(Unit, unit_id(s, "MERCREDI", "Matin")).capacity = 1
    intake.import_feed(office, feed(booking("P-1", ["2026-03-18"], unit="Matin", activity="MERCREDI"),
                                    booking("P-2", ["2026-03-18"], unit="Matin", activity="MERCREDI",
                                            family="F-0050", child="E-0200")))
    assert sorted(i.places_left for i in queue.pending_items(office)) == [-1, 0]
    with pytest.raises(ValidationFailed) as info:
        queue.accept(office, None)
    assert "complet" in str(info.value) and str(info.value).startswith("Rien n'a été enregistré :")
    assert outbox(office) == [] and len(queue.pending_items(office)) == 2
    result = queue.accept(office, None, capacity_override=True)
    assert len(result.decided) == 2
    assert result.without_email == ["Muller (F-0050)"]


def test_registration_accepted_creates_family_account_and_mails_credentials(office):
    intake.import_feed(office, feed({
        "ref": "P-7", "kind": "registration", "submitted_at": "2026-03-10T20:14:00+01:00",
        "family": {"ref": "F-1001", "name": "Weber",
                   "address": {"street": "4 rue des Tilleuls", "postcode": "57175", "city": "Gandrange"},
                   "guardians": [{"first_name": "Anne", "last_name": "Weber", "email": "anne.weber@example.org",
                                  "phone": "06 11 22 33 44"}],
                   "children": [{"ref": "E-2001", "first_name": "Tom", "last_name": "Weber",
                                 "birth_date": "2020-02-11", "school": "École maternelle", "class": "MS"}]}}))
    [item] = queue.pending_items(office)
    assert (item.kind, item.family_name, item.group_activity) == ("registration", "Weber", "Inscription")
    result = queue.accept_registration(office, item.id)
    ref, login, password, mailed = result.credentials[0]
    with office.read() as s:
        family = s.execute(select(Family).where(Family.ref == "F-1001")).scalar_one()
        assert (family.portal_login, family.street, family.portal_state) == (
            "anne.weber@example.org", "4 rue des Tilleuls", "sent")
        assert PasswordHasher().verify(family.portal_password_hash, password)
        assert password not in family.portal_password_hash
        child = s.execute(select(Child).where(Child.ref == "E-2001")).scalar_one()
        assert (child.first_name, child.class_name, child.family_id) == ("Tom", "MS", family.id)
        assert "tom" in family.search_text and "weber" in family.search_text
    mail = outbox(office)[0]
    assert mail.recipients == "anne.weber@example.org"
    # Stored with a placeholder; the password itself waits apart, erased once the e-mail is delivered.
    assert "Identifiant : anne.weber@example.org\nMot de passe provisoire : {{secret:password}}\n" in mail.body_text
    assert password not in mail.body_text and password not in mail.body_html
    with office.read() as s:
        assert s.execute(select(OutboxSecret.value).where(OutboxSecret.message_id == mail.id)).scalar_one() == password
    assert "Adresse du portail : https://enfance-jeunesse-gandrange.leportailfamille.fr" in mail.body_text
    with pytest.raises(AlreadyDecided):
        queue.accept_registration(office, item.id)


def test_booking_for_a_child_not_in_the_registration_is_refused(office):
    with pytest.raises(ValidationFailed) as info:
        intake.import_feed(office, feed({
            "ref": "P-7", "kind": "registration", "submitted_at": "2026-03-10T20:14:00+01:00",
            "family": {"ref": "F-1001", "name": "Weber", "guardians": [
                {"first_name": "Anne", "last_name": "Weber", "email": "anne.weber@example.org"}], "children": []}},
            booking("P-8", ["2026-03-20"], family="F-1001", child="E-0999")))
    assert info.value.problems == [
        "Entrée P-8 : l'enfant E-0999 n'est pas un enfant de la famille F-1001 (inscription en attente)."]


def test_registration_refused_drops_its_waiting_requests(office):
    reg = {"ref": "P-7", "kind": "registration", "submitted_at": "2026-03-10T20:14:00+01:00",
           "family": {"ref": "F-1001", "name": "Weber", "guardians": [
               {"first_name": "Anne", "last_name": "Weber", "email": "anne.weber@example.org"}],
               "children": [{"ref": "E-2001", "first_name": "Tom", "last_name": "Weber",
                             "birth_date": "2020-02-11", "school": "École maternelle"}]}}
    result = intake.import_feed(office, feed(reg, booking("P-8", ["2026-03-20"], family="F-1001", child="E-2001")))
    assert result.waiting == 1
    [item] = queue.pending_items(office)
    with pytest.raises(ValidationFailed):
        queue.refuse_registration(office, item.id, "")
    queue.refuse_registration(office, item.id, "Famille déjà inscrite sous un autre nom.")
    mail = outbox(office)[0]
    assert mail.subject == "Votre demande d'inscription au Portail Famille a été refusée"
    assert "(famille Weber) a été refusée.\n\nMotif : Famille déjà inscrite sous un autre nom.\n" in mail.body_text
    with office.read() as s:
        assert s.execute(select(func.count()).select_from(Family)).scalar() == 2
    with office.read() as s:
        assert waiting.waiting_entries(s) == {}


def test_family_change_field_by_field(office):
    intake.import_feed(office, feed({
        "ref": "P-5", "kind": "family_change", "submitted_at": "2026-03-10T12:00:00+01:00",
        "family_ref": "F-0042", "changes": {"guardians[0].phone": "06 99 88 77 66", "address.street": "9 rue Neuve"}}))
    [item] = queue.pending_items(office)
    view = queue.family_change_view(office, item.id)
    assert [(c.label, c.old, c.new) for c in view] == [
        ("Téléphone de Sophie Keller", "", "06 99 88 77 66"),
        ("Adresse — rue", "12 rue de la Gare", "9 rue Neuve")]
    queue.accept_family_change(office, item.id, ["guardians[0].phone"], reason="Justificatif de domicile manquant.")
    with office.read() as s:
        family = s.execute(select(Family).where(Family.ref == "F-0042")).scalar_one()
        assert family.street == "12 rue de la Gare"
        assert family.guardians[0].phone == "06 99 88 77 66"
        assert "0699887766" in family.search_text
        audit = s.execute(select(AuditEntry).where(AuditEntry.action == "family_change.decide")).scalar_one()
        assert json.loads(audit.before)["address.street"] == "12 rue de la Gare"
    mail = outbox(office)[0]
    assert mail.subject == "Modification de vos informations acceptée en partie"
    assert ("Modifications enregistrées :\nTéléphone de Sophie Keller : 06 99 88 77 66\n\n"
            "Modifications non retenues :\nAdresse — rue\nMotif : Justificatif de domicile manquant.") in mail.body_text


def test_roles_are_checked_in_the_service(office):
    intake.import_feed(office, feed(booking("P-1", ["2026-03-13"])))
    nobody = office.as_actor(Actor("x", "X", "visitor"))
    with pytest.raises(PermissionDenied):
        queue.accept(nobody, None)


def test_queue_commands(office, db_url, capsys):
    intake.import_feed(office, feed(booking("P-1", ["2026-03-13", "2026-03-16"]),
                                    booking("P-2", ["2026-03-12"], at="2026-03-11T11:00:00+01:00")))
    assert main(["--db", db_url, "queue", "list", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert {k for k in rows[0]} >= {"id", "kind", "ref", "family_ref", "child_ref", "activity", "unit", "dates",
                                     "submitted_at", "late", "proposed_billing"}
    late = next(r for r in rows if r["ref"] == "P-2")
    assert (late["late"], late["dates"], late["family_ref"], late["child_ref"], late["activity"], late["unit"]) == (
        True, ["2026-03-12"], "F-0042", "E-0107", "PERISCOLAIRE", "Repas")
    assert main(["--db", db_url, "queue", "list"]) == 0
    out = capsys.readouterr().out
    assert "hors délai" in out and out.rstrip().endswith("3 demandes en attente.")
    assert main(["--db", db_url, "queue", "refuse", str(late["id"]), "--reason", "Demande hors délai."]) == 0
    assert "1 demande refusée, 1 e-mail mis en file d'envoi." in capsys.readouterr().out
    assert main(["--db", db_url, "queue", "refuse", str(late["id"]), "--reason", "x"]) == 1
    assert "déjà traitée par essai" in capsys.readouterr().err  # the command's desk user
    assert main(["--db", db_url, "queue", "accept", "999999"]) == 1
    assert "Demande introuvable : n° 999999." in capsys.readouterr().err
    assert main(["--db", db_url, "queue", "accept", "--all", "--billing", "billed"]) == 0
    assert "2 demandes acceptées, 1 e-mail mis en file d'envoi." in capsys.readouterr().out
    assert main(["--db", db_url, "queue", "list"]) == 0
    assert "Aucune demande en attente." in capsys.readouterr().out


def test_bulk_outbox_rows_are_what_enqueue_writes(office):
    from gandrange_desk.services.mail.outbox import Outgoing, enqueue, enqueue_many

    args = dict(recipients=["a@example.org", "b@example.org"], subject="Sujet", body_text="Texte",
                body_html="<p>Texte</p>", family_id=None, kind="decision", related_requests=[3, 4])
    with office.unit_of_work() as s:
        enqueue(s, office, **args)
        enqueue_many(s, office, [Outgoing(**args)])
    with office.read() as s:
        rows = s.execute(select(OutboxMessage.__table__)).mappings().all()
    skip = {"id", "message_id"}
    assert [{k: v for k, v in r.items() if k not in skip} for r in rows][0] == \
        [{k: v for k, v in r.items() if k not in skip} for r in rows][1]
    assert rows[0]["message_id"] != rows[1]["message_id"]
