"""A message from the bureau to many families at once — a closure, a strike, a change of
timetable: to every family, or to those of one activity or one school.

Each family gets its own message in the outbox (`enqueue_many`, one transaction) with the
structure's greeting and signature; families without e-mail are listed, and their letters come
as one PDF to print. `audience` counts before anything is sent.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import selectinload

from gandrange_desk import formats
from gandrange_desk.errors import NotFound, ValidationFailed
from gandrange_desk.models import Activity, Booking, Child, Family, Role, School, Structure, Unit
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.mail import texts as mail_texts
from gandrange_desk.services.mail.outbox import Outgoing, enqueue_many, family_recipients
from gandrange_desk.services.pdf.base import StructureInfo
from gandrange_desk.services.pdf.letters import family_address_lines, new_pdf, structure_city

KIND = "message"


def school_year_start(today: date) -> date:
    """1 September of the school year that contains `today`."""
    return date(today.year if today.month >= 9 else today.year - 1, 9, 1)


@dataclass
class Audience:
    families: list[Family] = field(default_factory=list)
    what: str = "toutes les familles"

    @property
    def with_email(self) -> int:
        return sum(1 for f in self.families if family_recipients(f))

    @property
    def without_email(self) -> list[tuple[str, str]]:
        return [(f.ref, f.name) for f in self.families if not family_recipients(f)]

    def text(self) -> str:
        n = len(self.families)
        out = (f"{formats.count(n, 'famille', 'familles')} ({self.what}) : "
               f"{formats.count(self.with_email, 'e-mail', 'e-mails')}")
        missing = len(self.without_email)
        if missing:
            out += f", {formats.count(missing, 'lettre', 'lettres')} à imprimer (sans e-mail)"
        return out + "."


def _families(s, desk: Desk, activity: str | None, school: str | None) -> Audience:
    query = (select(Family).where(Family.archived.is_(False), Family.anonymised_at.is_(None))
             .options(selectinload(Family.guardians)).order_by(Family.name, Family.ref))
    what = []
    if activity:
        found = s.execute(select(Activity).where(Activity.code == activity.strip().upper())).scalar_one_or_none()
        if found is None:
            raise NotFound(f"Activité inconnue : « {activity} ».")
        # The families who use it this school year: a child with a cell of its units since September.
        query = query.where(Family.id.in_(
            select(Child.family_id).join(Booking, Booking.child_id == Child.id).join(Unit, Unit.id == Booking.unit_id)
            .where(Unit.activity_id == found.id, Booking.day >= school_year_start(desk.today()))))
        what.append(f"activité {found.name}")
    if school:
        found = s.execute(select(School).where(School.name == school.strip())).scalar_one_or_none()
        if found is None:
            raise NotFound(f"École inconnue : « {school} ».")
        query = query.where(Family.id.in_(select(Child.family_id).where(
            Child.school_id == found.id, Child.archived.is_(False))))
        what.append(found.name)
    return Audience(list(s.execute(query).scalars()), " et ".join(what) or "toutes les familles")


def choices(desk: Desk) -> tuple[list[tuple[str, str]], list[str]]:
    """The activities (code, name) and schools a message can be addressed to."""
    with desk.read() as s:
        activities = [(c, n) for c, n in s.execute(select(Activity.code, Activity.name)
                                                  .order_by(Activity.position, Activity.name))]
        schools = list(s.execute(select(School.name).order_by(School.position, School.name)).scalars())
    return activities, schools


def audience(desk: Desk, *, activity: str | None = None, school: str | None = None) -> Audience:
    """Who a message would reach (nothing is sent)."""
    with desk.read() as s:
        return _families(s, desk, activity, school)


@dataclass
class NoticeResult:
    queued: int = 0
    without_email: list[tuple[str, str]] = field(default_factory=list)  # ref, name
    letters_pdf: bytes | None = None
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    def summary(self) -> str:
        out = f"{formats.count(self.queued, 'message mis', 'messages mis')} en file d'envoi."
        if self.without_email:
            out += (f" {formats.count(len(self.without_email), 'famille sans e-mail', 'familles sans e-mail')} : "
                    "lettres à imprimer (" + ", ".join(f"{name} ({ref})" for ref, name in self.without_email[:10])
                    + (" …" if len(self.without_email) > 10 else "") + ").")
        return out


def _paragraphs(body: str) -> list[list[str]]:
    blocks = [b.strip("\n") for b in body.replace("\r\n", "\n").split("\n\n")]
    blocks = [b for b in blocks if b.strip()]
    if blocks and blocks[0].strip().rstrip(",").lower() in ("bonjour", "madame, monsieur"):
        blocks = blocks[1:]  # the greeting is the message's own
    return [b.split("\n") for b in blocks]


def message_families(desk: Desk, subject: str, body: str, *, activity: str | None = None,
                     school: str | None = None) -> NoticeResult:
    """Queue the message to every family of the audience; letters for those without e-mail."""
    desk.require(Role.AGENT, "Écrire aux familles")
    subject = " ".join((subject or "").split())
    problems = []
    if not subject:
        problems.append("L'objet du message est vide.")
    paragraphs = _paragraphs(body or "")
    if not paragraphs:
        problems.append("Le texte du message est vide.")
    if problems:
        raise ValidationFailed(problems)
    with desk.unit_of_work() as s:
        aud = _families(s, desk, activity, school)
        if not aud.families:
            raise ValidationFailed([f"Aucune famille à qui écrire ({aud.what})."])
        structure = s.execute(select(Structure).limit(1)).scalar_one_or_none()
        sender = mail_texts.Sender(structure.name, structure.phone or "", structure.email or "",
                                   structure.portal_url or "") if structure else mail_texts.Sender("la structure")
        mail = mail_texts.render(subject, paragraphs, sender)
        outgoing, paper = [], []
        for family in aud.families:
            recipients = family_recipients(family)
            if recipients:
                outgoing.append(Outgoing(recipients, mail.subject, mail.text, mail.html, family.id, KIND))
            else:
                paper.append(family)
        enqueue_many(s, desk, outgoing)
        desk.audit(s, "notice.send", "outbox_message", None, after={
            "title": subject, "what": aud.what, "families": len(aud.families), "messages": len(outgoing)})
        letters = _letters(structure, subject, mail.text, paper, desk.today()) if paper else None
        return NoticeResult(len(outgoing), [(f.ref, f.name) for f in paper], letters,
                            Changes(outbox=len(outgoing)))


def _letters(structure: Structure | None, subject: str, text: str, families: list[Family], today: date) -> bytes:
    info = StructureInfo.from_structure(structure)
    body = text.replace("Bonjour,", "Madame, Monsieur,", 1)
    pdf = new_pdf(info, subject, [subject, body, *(f.name for f in families),
                                  *(line for f in families for line in family_address_lines(f))])
    for family in families:
        pdf.add_page()
        pdf.structure_header("Message aux familles", [("Famille", family.ref), ("Date", formats.ddmmyyyy(today))])
        pdf.address_block(family.name, family_address_lines(family))
        pdf.ln(4)
        pdf.paragraph(f"{structure_city(info)}, le {formats.ddmmyyyy(today)}", size=9.5)
        pdf.ln(3)
        pdf.paragraph(f"Objet : {subject}", size=10, bold=True)
        pdf.ln(3)
        pdf.paragraph(body, size=9.5, height=5)
    return pdf.to_bytes()


__all__ = ["Audience", "NoticeResult", "audience", "choices", "message_families", "school_year_start"]
