"""The e-mails families receive, in the words of the portal guide (DESIGN §4).

Pure functions: data in, subject + plain text + simple HTML out. No database, no Qt, so the
texts can be compared whole in tests and reused by every service that writes to the outbox.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from datetime import date
from itertools import groupby
from typing import Iterable, Sequence

from gandrange_desk.formats import ddmm, plural

BOOKING = "booking"
CANCELLATION = "cancellation"
EXCUSED = "excused"
BILLED = "billed"


@dataclass(frozen=True)
class Sender:
    """Who signs: the structure's name and how to reach the bureau."""

    structure: str
    phone: str = ""
    email: str = ""
    portal_url: str = ""


@dataclass(frozen=True)
class Mail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class CellLine:
    """One decided cell request, as the family will read it."""

    kind: str  # BOOKING | CANCELLATION
    accepted: bool
    unit: str
    day: date
    unit_position: int = 0
    child: str = ""
    billing: str | None = None  # accepted cancellations: EXCUSED | BILLED
    reason: str = ""  # refusals


@dataclass
class _Section:
    kind: str
    accepted: bool
    lines: list[CellLine] = field(default_factory=list)


_NOUN = {BOOKING: ("réservation", "réservations"), CANCELLATION: ("annulation", "annulations")}
_DEMANDE = {BOOKING: "demande de réservation", CANCELLATION: "demande d'annulation"}
_DEMANDES = {BOOKING: "demandes de réservation", CANCELLATION: "demandes d'annulation"}


def dated_line(n_label: tuple[str, str], verb: tuple[str, str], days: Sequence[date]) -> str:
    """'1 réservation acceptée le : 13/03' / '2 réservations acceptées les : 13/03, 14/03'."""
    n = len(days)
    noun = plural(n, *n_label)
    participle = plural(n, *verb)
    article = "le" if n < 2 else "les"
    return f"{n} {noun} {participle} {article} : {', '.join(ddmm(d) for d in sorted(days))}"


def _unit_blocks(lines: list[CellLine]) -> list[tuple[str, list[str]]]:
    """Lines grouped by unit (in the activity's order), then by child when there are several."""
    several_children = len({line.child for line in lines}) > 1
    blocks: list[tuple[str, list[str]]] = []
    key = lambda l: (l.unit_position, l.unit, l.child if several_children else "")  # noqa: E731
    for (_, unit, child), group in groupby(sorted(lines, key=key), key=key):
        group = list(group)
        heading = f"{unit} — {child}" if child else unit
        blocks.append((heading, _detail_lines(group)))
    return blocks


def _detail_lines(lines: list[CellLine]) -> list[str]:
    kind = lines[0].kind
    noun = _NOUN[kind]
    if not lines[0].accepted:
        out: list[str] = []
        by_reason: dict[str, list[date]] = {}
        for line in lines:
            by_reason.setdefault(line.reason.strip(), []).append(line.day)
        for reason, days in by_reason.items():
            out.append(dated_line(noun, ("refusée", "refusées"), days))
            if reason:
                out.append(f"Motif : {reason}")
        return out
    if kind == BOOKING:
        return [dated_line(noun, ("acceptée", "acceptées"), [l.day for l in lines])]
    out = []
    excused = [l.day for l in lines if l.billing != BILLED]
    billed = [l.day for l in lines if l.billing == BILLED]
    if excused:
        out.append(dated_line(noun, ("excusée", "excusées"), excused))
    if billed:
        out.append(dated_line(noun, ("facturée", "facturées"), billed))
    return out


def _signature(sender: Sender) -> list[str]:
    lines = ["Cordialement,", "", "Le bureau périscolaire", sender.structure]
    if sender.phone:
        lines.append(f"Tél. : {sender.phone}")
    if sender.email:
        lines.append(f"Courriel : {sender.email}")
    return lines


def render(subject: str, paragraphs: list[list[str]], sender: Sender) -> Mail:
    """Paragraphs are lists of lines; text separates them with blank lines, HTML with <p>."""
    body = [["Bonjour,"], *paragraphs, _signature(sender)]
    text = "\n\n".join("\n".join(p) for p in body) + "\n"
    html_parts = []
    for p in body:
        html_parts.append("<p>" + "<br>\n".join(html.escape(line) for line in p) + "</p>")
    page = (
        '<!DOCTYPE html>\n<html lang="fr"><head><meta charset="utf-8">'
        f"<title>{html.escape(subject)}</title></head>\n"
        '<body style="font-family: Arial, sans-serif; font-size: 14px;">\n'
        + "\n".join(html_parts)
        + "\n</body></html>\n"
    )
    return Mail(subject, text, page)


def cell_decisions_mail(sender: Sender, activity: str, lines: Iterable[CellLine]) -> Mail:
    """One message for one family and one activity, for everything decided in one round.

    Sections come in a fixed order: bookings accepted, bookings refused, cancellations accepted,
    cancellations refused; each is worded as the guide shows.
    """
    order = [(BOOKING, True), (BOOKING, False), (CANCELLATION, True), (CANCELLATION, False)]
    sections = {key: _Section(*key) for key in order}
    for line in lines:
        sections[(line.kind, line.accepted)].lines.append(line)
    used = [sections[key] for key in order if sections[key].lines]
    if not used:
        raise ValueError("no decision to announce")
    paragraphs: list[list[str]] = []
    for section in used:
        outcome = "acceptée" if section.accepted else "refusée"
        paragraphs.append([
            f"Nous vous informons que votre {_DEMANDE[section.kind]} concernant {sender.structure} "
            f"pour la prestation {activity} a été {outcome}."
        ])
        paragraphs.append([f"Ci-dessous, le détail de la réponse concernant vos {_DEMANDES[section.kind]} :"])
        for heading, detail in _unit_blocks(section.lines):
            paragraphs.append([heading, *detail])
    if len(used) == 1:
        s = used[0]
        what = "Demande de réservation" if s.kind == BOOKING else "Demande d'annulation"
        subject = f"{what} {'acceptée' if s.accepted else 'refusée'} — {activity}"
    else:
        subject = f"Réponse à vos demandes — {activity}"
    return render(subject, paragraphs, sender)


def registration_accepted_mail(sender: Sender, family_name: str, login: str, password: str) -> Mail:
    paragraphs = [
        [f"Nous vous informons que votre inscription concernant {sender.structure} a été acceptée "
         f"(famille {family_name})."],
        ["Vous pouvez dès à présent vous connecter au Portail Famille pour terminer votre inscription, "
         "avec les identifiants ci-dessous :"],
        [f"Adresse du portail : {sender.portal_url or '(communiquée par le bureau périscolaire)'}",
         f"Identifiant : {login}",
         f"Mot de passe provisoire : {password}"],
        ["Ce mot de passe est provisoire : choisissez-en un nouveau dès votre première connexion, "
         "dans « Mon compte »."],
    ]
    return render("Votre inscription au Portail Famille a été acceptée", paragraphs, sender)


def registration_refused_mail(sender: Sender, family_name: str, reason: str) -> Mail:
    paragraphs = [
        [f"Nous vous informons que votre demande d'inscription concernant {sender.structure} "
         f"(famille {family_name}) a été refusée."],
        [f"Motif : {reason}"],
        ["Pour toute question, le bureau périscolaire reste à votre disposition."],
    ]
    return render("Votre demande d'inscription au Portail Famille a été refusée", paragraphs, sender)


def family_change_mail(sender: Sender, accepted: Sequence[tuple[str, str]],
                       refused: Sequence[str], reason: str = "") -> Mail:
    """accepted: (field label, new value); refused: field labels."""
    paragraphs: list[list[str]] = []
    if accepted:
        outcome = "acceptée" if not refused else "acceptée en partie"
        paragraphs.append([f"Nous vous informons que votre demande de modification de vos informations "
                           f"concernant {sender.structure} a été {outcome}."])
        paragraphs.append(["Modifications enregistrées :",
                           *(f"{label} : {value}" for label, value in accepted)])
        if refused:
            paragraphs.append(["Modifications non retenues :", *refused,
                               *([f"Motif : {reason}"] if reason else [])])
        subject = "Modification de vos informations " + outcome
    else:
        paragraphs.append([f"Nous vous informons que votre demande de modification de vos informations "
                           f"concernant {sender.structure} a été refusée."])
        if refused:
            paragraphs.append(["Modifications non retenues :", *refused])
        if reason:
            paragraphs.append([f"Motif : {reason}"])
        subject = "Modification de vos informations refusée"
    return render(subject, paragraphs, sender)
