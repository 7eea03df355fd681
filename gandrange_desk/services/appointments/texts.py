"""E-mails of the September help sessions: confirmation, move, cancellation (DESIGN §6).

Pure functions like `mail_texts` (whose rendering and signature they share), so a test can compare
a whole message. Dates read as a family says them: "jeudi 3 septembre 2026 à 14h30".
"""

from __future__ import annotations

from datetime import datetime

from gandrange_desk import formats
from gandrange_desk.clock import PARIS
from gandrange_desk.services.mail.texts import Mail, Sender, render

PLACE = "Bureau périscolaire"

# What the family brings to the session (DESIGN §6, seed page 0).
TO_BRING = (
    "le dossier périscolaire complété ;",
    "l'attestation CAF (quotient familial) ;",
    "un RIB si vous choisissez le paiement par prélèvement ;",
    "l'accusé de réception de la notice du « Portail des Familles », signé.",
)


def hour_text(moment: datetime) -> str:
    """'14h30', '9h00'."""
    local = moment.astimezone(PARIS)
    return f"{local.hour}h{local.minute:02d}"


def when_text(moment: datetime) -> str:
    """'jeudi 3 septembre 2026 à 14h30'."""
    local = moment.astimezone(PARIS)
    return f"{formats.long_date(local.date())} à {hour_text(local)}"


def place_text(address: str = "") -> str:
    """'Bureau périscolaire' followed by the structure's address on one line, when known."""
    lines = [line.strip() for line in (address or "").splitlines() if line.strip()]
    return ", ".join([PLACE, *lines])


def _meeting_lines(starts_at: datetime, minutes: int, address: str, clerk: str) -> list[str]:
    lines = [f"Date : {when_text(starts_at)} (durée : {minutes} minutes)",
             f"Lieu : {place_text(address)}"]
    if clerk:
        lines.append(f"Vous serez reçu(e) par : {clerk}")
    return lines


def _contact_line(sender: Sender) -> list[str]:
    if sender.phone:
        return [f"En cas d'empêchement, merci de prévenir le bureau périscolaire au {sender.phone} "
                "afin que le créneau profite à une autre famille."]
    return ["En cas d'empêchement, merci de prévenir le bureau périscolaire afin que le créneau "
            "profite à une autre famille."]


def confirmation_mail(sender: Sender, family_name: str, starts_at: datetime, minutes: int, *,
                      address: str = "", clerk: str = "") -> Mail:
    paragraphs = [
        [f"Nous vous confirmons votre rendez-vous d'accompagnement pour la mise en place du "
         f"« Portail des Familles » (famille {family_name}) :"],
        _meeting_lines(starts_at, minutes, address, clerk),
        ["Merci d'apporter :", *(f"- {item}" for item in TO_BRING)],
        ["Nous vous aiderons à vous connecter au portail et à réserver l'accueil périscolaire et "
         "extrascolaire de vos enfants pour l'année."],
        _contact_line(sender),
    ]
    return render(f"Rendez-vous au bureau périscolaire le {when_text(starts_at)}", paragraphs, sender)


def moved_mail(sender: Sender, family_name: str, old_start: datetime, starts_at: datetime,
               minutes: int, *, address: str = "", clerk: str = "") -> Mail:
    paragraphs = [
        [f"Votre rendez-vous d'accompagnement au « Portail des Familles » (famille {family_name}) "
         f"prévu le {when_text(old_start)} est déplacé. Voici le nouveau rendez-vous :"],
        _meeting_lines(starts_at, minutes, address, clerk),
        ["Merci d'apporter :", *(f"- {item}" for item in TO_BRING)],
        _contact_line(sender),
    ]
    return render(f"Rendez-vous déplacé au {when_text(starts_at)}", paragraphs, sender)


def cancelled_mail(sender: Sender, family_name: str, starts_at: datetime) -> Mail:
    call = (f"Pour convenir d'un autre rendez-vous, appelez le bureau périscolaire au {sender.phone}."
            if sender.phone else "Pour convenir d'un autre rendez-vous, contactez le bureau périscolaire.")
    paragraphs = [
        [f"Votre rendez-vous d'accompagnement au « Portail des Familles » (famille {family_name}) "
         f"du {when_text(starts_at)} est annulé."],
        [call],
    ]
    return render(f"Rendez-vous du {when_text(starts_at)} annulé", paragraphs, sender)


__all__ = ["PLACE", "TO_BRING", "hour_text", "when_text", "place_text", "confirmation_mail",
           "moved_mail", "cancelled_mail"]
