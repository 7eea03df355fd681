"""September help sessions: slots, bookings and their e-mails, the acknowledgement, the day's list."""

from __future__ import annotations

import io
import json
from datetime import date, datetime

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from gandrange_desk.clock import PARIS
from gandrange_desk.errors import AlreadyDecided, DeskError, PermissionDenied, StaleEdit, ValidationFailed
from gandrange_desk.models import Appointment, AuditEntry, DeskUser, Family, OutboxMessage, Structure
from gandrange_desk.services.appointments import book as ap
from gandrange_desk.services.pdf import appointments as pdf_appointments
from tests.builders import make_family

STRUCTURE = "Service Enfance-Jeunesse — Commune de Gandrange"


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def flat(text: str) -> str:
    return " ".join(text.replace("\u00a0", " ").split())


def outbox(desk) -> list[OutboxMessage]:
    with desk.read() as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def count(desk, model) -> int:
    with desk.read() as s:
        return s.execute(select(func.count()).select_from(model)).scalar_one()


@pytest.fixture
def book_setup(desk, clock):
    """Gandrange's structure, two clerks, and "today" in late August 2026."""
    clock.set(2026, 8, 20, 9, 0)
    with desk.unit_of_work() as s:
        s.add(Structure(name=STRUCTURE, phone="03 87 67 17 79", email="periscolaire@gandrange.fr",
                        portal_url="https://enfance-jeunesse-gandrange.leportailfamille.fr",
                        address="Place de la Mairie\n57175 Gandrange"))
        s.add(DeskUser(login="sfoncin", full_name="Sandrine Foncin", role="agent"))
        s.add(DeskUser(login="nbecker", full_name="Nathalie Becker", role="responsable"))
        s.add(DeskUser(login="ancien", full_name="Ancien Agent", role="agent", active=False))
    return desk


def slot_at(desk, day: date, hhmm: str, login: str = "sfoncin") -> ap.SlotRow:
    return next(r for r in ap.day_list(desk, day) if r.time_text == hhmm and r.clerk_login == login)


def test_slots_skip_weekends_and_never_overlap_per_clerk(book_setup):
    desk = book_setup
    result = ap.create_slots(desk, date(2026, 9, 1), date(2026, 9, 7), start="09:00", end="11:00",
                             minutes=30, clerk_logins=["sfoncin", "nbecker"])
    # Tue 1 to Fri 4 and Mon 7: 5 days x 4 slots x 2 clerks; the week-end is skipped.
    assert (result.created, result.days, result.overlapping) == (40, 5, 0)
    assert result.skipped_days == {date(2026, 9, 5): "week-end", date(2026, 9, 6): "week-end"}
    assert result.text().startswith("40 créneaux créés sur 5 jours.")
    days = ap.days_overview(desk, date(2026, 9, 1), date(2026, 9, 30))
    assert [d.day.day for d in days] == [1, 2, 3, 4, 7]
    assert all(d.weekday() < 5 for d in (r.day for r in ap.slots_between(desk, date(2026, 9, 1), date(2026, 9, 30))))
    assert days[0].label() == "mar. 01/09/2026 — 0/8 réservé"

    # Running it again creates nothing: every slot would overlap the clerk's existing one.
    again = ap.create_slots(desk, date(2026, 9, 1), date(2026, 9, 7), start="09:00", end="11:00",
                            minutes=30, clerk_logins=["sfoncin", "nbecker"])
    assert (again.created, again.overlapping) == (0, 40)
    assert "40 créneaux ignorés : l'agent a déjà un créneau à cette heure-là." in again.text()
    # 45-minute slots straddle the 30-minute ones: 09:00, 09:45 overlap; 10:30-11:15 too; none created.
    odd = ap.create_slots(desk, date(2026, 9, 1), date(2026, 9, 1), start="09:00", end="11:30",
                          minutes=45, clerk_logins=["sfoncin"])
    assert (odd.created, odd.overlapping) == (0, 3)
    later = ap.create_slots(desk, date(2026, 9, 1), date(2026, 9, 1), start="11:00", end="12:00",
                            minutes=30, clerk_logins=["sfoncin"])
    assert later.created == 2
    with desk.read() as s:
        rows = s.execute(select(Appointment.clerk_id, Appointment.starts_at, Appointment.minutes)
                         .order_by(Appointment.clerk_id, Appointment.starts_at)).all()
    for (c1, s1, m1), (c2, s2, _) in zip(rows, rows[1:]):
        if c1 == c2:
            assert (s2 - s1).total_seconds() >= m1 * 60, "two slots of one clerk overlap"
    assert rows[0][1] == datetime(2026, 9, 1, 9, 0, tzinfo=PARIS)


def test_slots_skip_public_holidays_and_the_lunch_break(book_setup, clock):
    desk = book_setup
    clock.set(2026, 11, 2, 9, 0)
    result = ap.create_slots(desk, date(2026, 11, 9), date(2026, 11, 13), start="11:00", end="14:30",
                             minutes=30, clerk_logins=["sfoncin"], pause=("12:00", "13:30"))
    assert list(result.skipped_days) == [date(2026, 11, 11)]
    assert result.skipped_days[date(2026, 11, 11)].startswith("férié")
    assert result.days == 4
    assert [r.time_text for r in ap.day_list(desk, date(2026, 11, 9))] == ["11:00", "11:30", "13:30", "14:00"]
    assert ap.day_list(desk, date(2026, 11, 11)) == []
    with pytest.raises(ValidationFailed) as err:  # only the holiday: nothing to create
        ap.create_slots(desk, date(2026, 11, 11), date(2026, 11, 11), clerk_logins=["sfoncin"])
    assert "Aucun jour ouvré" in str(err.value) and "11/11 : férié" in str(err.value)


def test_slot_creation_refuses_bad_input_and_writes_nothing(book_setup, agent_desk):
    desk = book_setup
    with pytest.raises(ValidationFailed) as err:
        ap.create_slots(desk, date(2026, 8, 10), date(2026, 9, 4), start="17:00", end="9h00", minutes=5,
                        clerk_logins=[])
    assert err.value.problems == [
        "Période : le 10/08/2026 est déjà passé ; commencez au plus tôt aujourd'hui.",
        "Durée d'un créneau : entre 10 et 240 minutes.",
        "Agents : choisissez au moins un agent qui reçoit les familles.",
    ]
    with pytest.raises(ValidationFailed) as err:
        ap.create_slots(desk, date(2026, 9, 1), date(2026, 9, 4), start="17:00", end="9:00",
                        clerk_logins=["sfoncin", "inconnu", "ancien"])
    assert "Horaires : l'heure de fin doit venir après l'heure de début." in err.value.problems
    with pytest.raises(ValidationFailed) as err:
        ap.create_slots(desk, date(2026, 9, 1), date(2026, 9, 4), start="25:00", clerk_logins=["inconnu", "ancien"])
    assert err.value.problems == ["Heure de début : « 25:00 » n'est pas une heure (attendu HH:MM, par exemple 09:00)."]
    with pytest.raises(ValidationFailed) as err:
        ap.create_slots(desk, date(2026, 9, 1), date(2026, 9, 4), clerk_logins=["inconnu", "ancien"])
    assert err.value.problems == ["Agents : « inconnu » n'est pas un utilisateur actif du bureau.",
                                  "Agents : « ancien » n'est pas un utilisateur actif du bureau."]
    with pytest.raises(PermissionDenied):
        ap.create_slots(agent_desk, date(2026, 9, 1), date(2026, 9, 4), clerk_logins=["sfoncin"])
    assert count(desk, Appointment) == 0


KELLER_MAIL = """Bonjour,

Nous vous confirmons votre rendez-vous d'accompagnement pour la mise en place du « Portail des Familles » (famille Keller) :

Date : jeudi 3 septembre 2026 à 14h30 (durée : 30 minutes)
Lieu : Bureau périscolaire, Place de la Mairie, 57175 Gandrange
Vous serez reçu(e) par : Sandrine Foncin

Merci d'apporter :
- le dossier périscolaire complété ;
- l'attestation CAF (quotient familial) ;
- un RIB si vous choisissez le paiement par prélèvement ;
- l'accusé de réception de la notice du « Portail des Familles », signé.

Nous vous aiderons à vous connecter au portail et à réserver l'accueil périscolaire et extrascolaire de vos enfants pour l'année.

En cas d'empêchement, merci de prévenir le bureau périscolaire au 03 87 67 17 79 afin que le créneau profite à une autre famille.

Cordialement,

Le bureau périscolaire
Service Enfance-Jeunesse — Commune de Gandrange
Tél. : 03 87 67 17 79
Courriel : periscolaire@gandrange.fr
"""


def keller(desk, **kw) -> Family:
    return make_family(desk, "Keller", acknowledgement_returned=False, guardians=[
        {"first_name": "Sophie", "last_name": "Keller", "email": "sophie.keller@example.org", "phone": "06 11 22 33 44"},
        {"first_name": "Marc", "last_name": "Keller", "email": "", "phone": ""}], **kw)


def test_booking_sends_the_confirmation_in_the_same_transaction(book_setup, agent_desk):
    desk = book_setup
    ap.create_slots(desk, date(2026, 9, 3), date(2026, 9, 3), start="14:00", end="16:00",
                    clerk_logins=["sfoncin"])
    f = keller(desk)
    slot = slot_at(desk, date(2026, 9, 3), "14:30")
    result = ap.book(agent_desk, slot.id, slot.version, family_id=f.id, notes="Deux enfants")
    assert result.summary == ("Rendez-vous du jeudi 3 septembre 2026 à 14h30 réservé pour la famille Keller. "
                              "Confirmation envoyée à sophie.keller@example.org.")
    [mail] = outbox(desk)
    assert mail.subject == "Rendez-vous au bureau périscolaire le jeudi 3 septembre 2026 à 14h30"
    assert mail.body_text == KELLER_MAIL
    assert mail.recipients == "sophie.keller@example.org" and mail.family_id == f.id
    assert mail.kind == "appointment" and "<p>Merci d&#x27;apporter :" in mail.body_html
    row = slot_at(desk, date(2026, 9, 3), "14:30")
    assert (row.status_label, row.who, row.phone, row.notes) == ("Réservé", f"Keller ({f.ref})", "06 11 22 33 44",
                                                                 "Deux enfants")
    assert row.guardian_name == "Sophie Keller" and not row.acknowledgement_returned
    with desk.read() as s:
        audit = s.execute(select(AuditEntry).where(AuditEntry.action == "appointment.book")).scalar_one()
    assert audit.user_login == "sfoncin" and audit.family_id == f.id
    assert json.loads(audit.after)["emailed_to"] == ["sophie.keller@example.org"]

    # The next clerk, from the copy loaded before, is told who took the slot and for whom.
    other = make_family(desk, "Weber")
    for version in (slot.version, row.version):
        with pytest.raises(AlreadyDecided) as err:
            ap.book(agent_desk, slot.id, version, family_id=other.id)
        assert str(err.value) == ("Créneau refusé : le créneau du jeudi 3 septembre 2026 à 14h30 vient d'être "
                                  "pris par sfoncin (la famille Keller). Choisissez un autre créneau.")
    # Booked then cancelled elsewhere: free again, but the copy is stale.
    seen = slot_at(desk, date(2026, 9, 3), "14:00")
    taken = ap.book(desk, seen.id, seen.version, visitor_name="Tom", visitor_phone="0612345678", notify=False).slot
    ap.cancel_booking(desk, taken.id, taken.version)
    with pytest.raises(StaleEdit, match="la fiche du rendez-vous a été modifiée par systeme le 20/08/2026 à 09:00"):
        ap.book(agent_desk, seen.id, seen.version, family_id=other.id)
    # One upcoming appointment per family: move it instead.
    free = slot_at(desk, date(2026, 9, 3), "15:00")
    with pytest.raises(DeskError, match="La famille Keller a déjà rendez-vous le jeudi 3 septembre 2026 à 14h30"):
        ap.book(agent_desk, free.id, free.version, family_id=f.id)
    assert len(outbox(desk)) == 1


def test_visitor_booking_is_checked_and_gets_no_mail(book_setup, clock):
    desk = book_setup
    ap.create_slots(desk, date(2026, 9, 2), date(2026, 9, 2), start="09:00", end="10:00",
                    clerk_logins=["sfoncin"])
    slot = slot_at(desk, date(2026, 9, 2), "09:00")
    with pytest.raises(ValidationFailed) as err:
        ap.book(desk, slot.id, slot.version, visitor_name="  ", visitor_phone="12")
    assert err.value.problems == [
        "Famille : choisissez une famille inscrite, ou indiquez le nom du visiteur.",
        "Téléphone du visiteur : « 12 » n'est pas un numéro de téléphone français (10 chiffres, "
        "par exemple 06 12 34 56 78).",
    ]
    result = ap.book(desk, slot.id, slot.version, visitor_name="Nadia  Haddad", visitor_phone="+33612345678")
    assert result.emailed_to == () and outbox(desk) == []
    row = ap.get_slot(desk, slot.id)
    assert (row.who, row.phone) == ("Nadia Haddad (visiteur)", "06 12 34 56 78")
    clock.set(2026, 9, 2, 9, 30)
    late = slot_at(desk, date(2026, 9, 2), "09:00", "sfoncin")
    past_free = ap.day_list(desk, date(2026, 9, 2))[1]
    assert past_free.time_text == "09:30" and past_free.status == "free"
    clock.set(2026, 9, 2, 9, 31)
    with pytest.raises(DeskError, match="est déjà passé"):
        ap.book(desk, past_free.id, past_free.version, visitor_name="Tom", visitor_phone="0612345678")
    done = ap.mark(desk, late.id, late.version, "done")
    assert done.status_label == "Terminé"


def test_move_cancel_and_mark_tell_the_family(book_setup, clock):
    desk = book_setup
    ap.create_slots(desk, date(2026, 9, 3), date(2026, 9, 4), start="14:00", end="15:00",
                    clerk_logins=["sfoncin", "nbecker"])
    f = keller(desk)
    first = slot_at(desk, date(2026, 9, 3), "14:00")
    ap.book(desk, first.id, first.version, family_id=f.id)
    target = slot_at(desk, date(2026, 9, 4), "14:30", "nbecker")
    booked = ap.get_slot(desk, first.id)
    with pytest.raises(DeskError, match="n'a pas encore eu lieu"):
        ap.mark(desk, booked.id, booked.version, "missed")
    moved = ap.move(desk, booked.id, booked.version, target.id)
    assert moved.slot.clerk_name == "Nathalie Becker" and moved.slot.family_id == f.id
    assert ap.get_slot(desk, first.id).status == "free"
    mails = outbox(desk)
    assert mails[-1].subject == "Rendez-vous déplacé au vendredi 4 septembre 2026 à 14h30"
    assert ("prévu le jeudi 3 septembre 2026 à 14h00 est déplacé. Voici le nouveau rendez-vous :\n\n"
            "Date : vendredi 4 septembre 2026 à 14h30 (durée : 30 minutes)") in mails[-1].body_text
    with pytest.raises(AlreadyDecided, match="Seul un rendez-vous réservé peut être déplacé"):
        ap.move(desk, first.id, ap.get_slot(desk, first.id).version, target.id)

    cancelled = ap.cancel_booking(desk, moved.slot.id, moved.slot.version)
    assert cancelled.slot.status == "free" and cancelled.slot.family_id is None
    assert cancelled.summary == ("Rendez-vous de la famille Keller annulé : le créneau est de nouveau libre. "
                                 "Annulation envoyée à sophie.keller@example.org.")
    assert outbox(desk)[-1].subject == "Rendez-vous du vendredi 4 septembre 2026 à 14h30 annulé"
    assert "appelez le bureau périscolaire au 03 87 67 17 79." in outbox(desk)[-1].body_text

    again = ap.book(desk, cancelled.slot.id, cancelled.slot.version, family_id=f.id, notify=False)
    assert again.emailed_to == () and len(outbox(desk)) == 3
    clock.set(2026, 9, 4, 15, 0)
    missed = ap.mark(desk, again.slot.id, again.slot.version, "missed")
    assert missed.status_label == "Absent"
    fixed = ap.mark(desk, missed.id, missed.version, "done")  # a mistake is put right
    assert fixed.status_label == "Terminé"
    free = slot_at(desk, date(2026, 9, 4), "14:00", "sfoncin")
    with pytest.raises(AlreadyDecided, match="Ce créneau n'a pas de rendez-vous"):
        ap.mark(desk, free.id, free.version, "done")
    with desk.read() as s:
        actions = [a for (a,) in s.execute(select(AuditEntry.action).where(
            AuditEntry.entity == "appointment").order_by(AuditEntry.id))]
    assert actions == ["appointment.slots", "appointment.book", "appointment.move", "appointment.cancel",
                       "appointment.book", "appointment.mark", "appointment.mark"]


def test_withdraw_only_free_slots_by_the_supervisor(book_setup, agent_desk):
    desk = book_setup
    ap.create_slots(desk, date(2026, 9, 3), date(2026, 9, 3), start="14:00", end="15:00", clerk_logins=["sfoncin"])
    a, b = ap.day_list(desk, date(2026, 9, 3))
    with pytest.raises(PermissionDenied):
        ap.withdraw_slot(agent_desk, a.id, a.version)
    ap.withdraw_slot(desk, a.id, a.version)
    assert [r.id for r in ap.day_list(desk, date(2026, 9, 3))] == [b.id]
    assert ap.day_list(desk, date(2026, 9, 3), include_cancelled=True)[0].status_label == "Retiré"
    withdrawn = ap.get_slot(desk, a.id)
    with pytest.raises(AlreadyDecided, match="a été retiré du planning"):
        ap.book(desk, a.id, withdrawn.version, visitor_name="X", visitor_phone="0612345678")
    # A new slot may take the withdrawn one's place.
    assert ap.create_slots(desk, date(2026, 9, 3), date(2026, 9, 3), start="14:00", end="14:30",
                           clerk_logins=["sfoncin"]).created == 1


def test_acknowledgement_returned_is_audited_and_locked(book_setup):
    desk = book_setup
    f = keller(desk)
    with desk.read() as s:
        version = s.get(Family, f.id).version
    new_version = ap.set_acknowledgement(desk, f.id, version, True)
    assert new_version == version + 1
    with desk.read() as s:
        assert s.get(Family, f.id).acknowledgement_returned is True
        audit = s.execute(select(AuditEntry).where(AuditEntry.action == "family.acknowledgement")).scalar_one()
    assert json.loads(audit.before) == {"acknowledgement_returned": False}
    assert json.loads(audit.after) == {"acknowledgement_returned": True}
    with pytest.raises(StaleEdit, match="la fiche famille a été modifiée par systeme"):
        ap.set_acknowledgement(desk, f.id, version, False)


def test_acknowledgement_pdf_names_the_guardian(book_setup):
    desk = book_setup
    f = keller(desk)
    text = flat(pdf_text(pdf_appointments.acknowledgement_pdf(desk, f.id, contact="Sandrine Foncin")))
    assert ("Je soussigné(e) Sophie Keller atteste avoir pris connaissance de la notice explicative pour la "
            "mise en place du « Portail des Familles » pour l'accueil périscolaire et extrascolaire.") in text
    assert "À Gandrange, le __/__/____" in text and "Signature :" in text
    assert "À compter du 1er octobre" in text
    assert "Ce document est à rendre avec le dossier périscolaire" in text
    assert "Bureau périscolaire (Sandrine Foncin) : 03 87 67 17 79" in text
    assert "enfance-jeunesse-gandrange.leportailfamille.fr" in text and "ATTENTION NOUVEAUTÉ !" in text
    assert f"Famille Keller ({f.ref}) — enfant(s) : Léa" in text
    with desk.read() as s:
        marc = [g for g in s.get(Family, f.id).guardians if g.first_name == "Marc"][0].id
    assert "Je soussigné(e) Marc Keller atteste" in flat(pdf_text(
        pdf_appointments.acknowledgement_pdf(desk, f.id, guardian_id=marc)))
    visitor = flat(pdf_text(pdf_appointments.acknowledgement_pdf(desk, name="Nadia Haddad")))
    assert "Je soussigné(e) Nadia Haddad atteste" in visitor
    blank = flat(pdf_text(pdf_appointments.acknowledgement_pdf(desk)))
    assert "Je soussigné(e) ....." in blank


def test_day_list_and_its_pdf(book_setup):
    desk = book_setup
    ap.create_slots(desk, date(2026, 9, 3), date(2026, 9, 3), start="14:00", end="15:30",
                    clerk_logins=["sfoncin", "nbecker"])
    f = keller(desk)
    s1 = slot_at(desk, date(2026, 9, 3), "14:00", "nbecker")
    ap.book(desk, s1.id, s1.version, family_id=f.id, notes="Vient avec le dossier")
    s2 = slot_at(desk, date(2026, 9, 3), "15:00", "sfoncin")
    ap.book(desk, s2.id, s2.version, visitor_name="Nadia Haddad", visitor_phone="0612345678")
    rows = ap.day_list(desk, date(2026, 9, 3))
    assert [(r.time_text, r.clerk_login, r.status) for r in rows][:3] == [
        ("14:00", "sfoncin", "free"), ("14:00", "nbecker", "booked"), ("14:30", "sfoncin", "free")]
    assert len(rows) == 6 and ap.day_list(desk, date(2026, 9, 4)) == []
    text = flat(pdf_text(pdf_appointments.day_list_pdf(desk, date(2026, 9, 3))))
    assert "Rendez-vous du jeudi 3 septembre 2026" in text
    assert "2 rendez-vous pris, 4 créneaux libres." in text
    assert f"Keller ({f.ref})" in text and "Accusé non rendu" in text and "Vient avec le dossier" in text
    assert "Nadia Haddad (visiteur)" in text and "06 12 34 56 78" in text and "06 11 22 33 44" in text
    assert "Nathalie Becker" in text and "— libre —" in text
    empty = flat(pdf_text(pdf_appointments.day_list_pdf(desk, date(2026, 9, 5))))
    assert "Aucun créneau ce jour-là." in empty


def test_visitor_becomes_a_family_and_the_day_picker(book_setup):
    desk = book_setup
    ap.create_slots(desk, date(2026, 9, 3), date(2026, 9, 3), start="14:00", end="14:30", clerk_logins=["sfoncin"])
    [slot] = ap.day_list(desk, date(2026, 9, 3))
    booked = ap.book(desk, slot.id, slot.version, visitor_name="Nadia Haddad", visitor_phone="0612345678").slot
    f = make_family(desk, "Haddad")
    row = ap.attach_family(desk, booked.id, booked.version, f.id)
    assert (row.family_id, row.visitor_name, row.who) == (f.id, "", f"Haddad ({f.ref})")
    noted = ap.set_notes(desk, row.id, row.version, "  Fiche créée au bureau  ")
    assert noted.notes == "Fiche créée au bureau"
    days = ap.book_days(desk)
    assert len(days) == 22 and days[0].label() == "mar. 01/09/2026 — aucun créneau"
    assert [d for d in days if d.total] == [ap.DaySummary(date(2026, 9, 3), 1, 0, 1)]
    assert ap.september(desk) == (date(2026, 9, 1), date(2026, 9, 30))  # in August: the coming one


def test_the_days_acknowledgements_to_sign(book_setup):
    desk = book_setup
    ap.create_slots(desk, date(2026, 9, 3), date(2026, 9, 3), start="14:00", end="15:30", clerk_logins=["sfoncin"])
    a, b, c = ap.day_list(desk, date(2026, 9, 3))
    ap.book(desk, a.id, a.version, family_id=keller(desk).id)
    ap.book(desk, b.id, b.version, family_id=make_family(desk, "Weber", acknowledgement_returned=True).id)
    ap.book(desk, c.id, c.version, visitor_name="Nadia Haddad", visitor_phone="0612345678")
    data, n = pdf_appointments.day_acknowledgements_pdf(desk, date(2026, 9, 3))
    pages = [flat(p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]
    assert n == 2 and len(pages) == 2
    assert "Je soussigné(e) Sophie Keller atteste" in pages[0] and "Je soussigné(e) Nadia Haddad atteste" in pages[1]
    assert "Bureau périscolaire (Sandrine Foncin) : 03 87 67 17 79" in pages[1]
    assert pdf_appointments.day_acknowledgements_pdf(desk, date(2026, 9, 4)) == (None, 0)


def test_slots_of_today_start_after_now(book_setup, clock):
    desk = book_setup
    clock.set(2026, 9, 3, 10, 10)
    result = ap.create_slots(desk, date(2026, 9, 3), date(2026, 9, 3), start="09:00", end="12:00",
                             clerk_logins=["sfoncin"])
    assert result.created == 3
    assert [r.time_text for r in ap.day_list(desk, date(2026, 9, 3))] == ["10:30", "11:00", "11:30"]
