"""The September help sessions (DESIGN §6): the appointment book, bookings, the day's list.

A slot is an `Appointment` row: free until a family (or a visitor not yet registered, with a name
and a phone number) is placed in it, then done or missed once the day has come. The supervisor
creates the slots for working days (weekends, Moselle public holidays and closures are skipped;
a clerk never gets two overlapping slots). Every action is one transaction with optimistic
locking on the slot; the confirmation e-mail goes to the outbox in the same transaction.
Reading (rows, the day's list, the day picker) is in `appointment_views`, re-exported here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gandrange_desk import formats
from gandrange_desk.clock import PARIS
from gandrange_desk.errors import AlreadyDecided, DeskError, NotFound, ValidationFailed
from gandrange_desk.models import Appointment, AppointmentStatus, DeskUser, Family, Role, Structure
from gandrange_desk.services.appointments import texts
from gandrange_desk.services.appointments.views import (  # noqa: F401 - re-exported
    BOOKED, CANCELLED, DONE, FREE, MISSED, Clerk, DaySummary, SlotRow, closed_reason, day_bounds,
    slot_rows, book_days, clerks, day_list, days_overview, free_slots, get_slot, september,
    slots_between,
)
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk, check_version, stamp
from gandrange_desk.services.families.validation import format_french_phone
from gandrange_desk.services.mail.texts import Sender
from gandrange_desk.services.mail.outbox import enqueue, family_recipients

WHAT = "la fiche du rendez-vous"  # check_version writes "… a été modifiée par"
MAX_DAYS = 62
_HHMM = re.compile(r"^([01]?\d|2[0-3])[:hH]([0-5]\d)$")


# ---------------------------------------------------------------- creating slots


@dataclass
class SlotsResult:
    created: int = 0
    days: int = 0
    overlapping: int = 0
    skipped_days: dict[date, str] = field(default_factory=dict)

    def text(self) -> str:
        parts = [f"{formats.count(self.created, 'créneau créé', 'créneaux créés')} sur "
                 f"{formats.count(self.days, 'jour', 'jours')}."]
        if self.overlapping:
            parts.append(f"{formats.count(self.overlapping, 'créneau ignoré', 'créneaux ignorés')} : "
                         "l'agent a déjà un créneau à cette heure-là.")
        if self.skipped_days:
            shown = ", ".join(f"{formats.ddmm(d)} ({why})" for d, why in sorted(self.skipped_days.items())[:8])
            more = " …" if len(self.skipped_days) > 8 else ""
            parts.append(f"{formats.count(len(self.skipped_days), 'jour sauté', 'jours sautés')} : {shown}{more}.")
        return "\n".join(parts)

    @property
    def changes(self) -> Changes:
        return Changes(appointments=bool(self.created))

    def as_dict(self) -> dict:
        return {"created": self.created, "days": self.days, "overlapping": self.overlapping,
                "skipped_days": {d.isoformat(): why for d, why in sorted(self.skipped_days.items())}}


def parse_hhmm(text: str, what: str, problems: list[str]) -> time | None:
    m = _HHMM.match((text or "").strip())
    if not m:
        problems.append(f"{what} : « {text} » n'est pas une heure (attendu HH:MM, par exemple 09:00).")
        return None
    return time(int(m.group(1)), int(m.group(2)))


def _day_plan(start: time, end: time, minutes: int, pause: tuple[time, time] | None) -> list[time]:
    out = []
    t = datetime.combine(date(2000, 1, 1), start)
    stop = datetime.combine(date(2000, 1, 1), end)
    step = timedelta(minutes=minutes)
    while t + step <= stop:
        if pause is None or not (t.time() < pause[1] and (t + step).time() > pause[0]):
            out.append(t.time())
        t += step
    return out


def create_slots(desk: Desk, first: date, last: date, *, start: str = "09:00", end: str = "17:00",
                 minutes: int = 30, clerk_logins: list[str], pause: tuple[str, str] | None = None) -> SlotsResult:
    """"Créer les créneaux": every working day of [first, last], from `start` to `end` in slots of
    `minutes`, for each clerk; an overlap with a clerk's existing slot is refused (skipped, counted)."""
    desk.require(Role.RESPONSABLE, "Créer les créneaux de rendez-vous")
    problems: list[str] = []
    t_start = parse_hhmm(start, "Heure de début", problems)
    t_end = parse_hhmm(end, "Heure de fin", problems)
    t_pause = None
    if pause:
        p0 = parse_hhmm(pause[0], "Début de la pause", problems)
        p1 = parse_hhmm(pause[1], "Fin de la pause", problems)
        if p0 and p1:
            if p0 >= p1:
                problems.append("Pause : la fin doit venir après le début.")
            t_pause = (p0, p1)
    if first > last:
        problems.append("Période : le premier jour doit précéder le dernier.")
    elif (last - first).days >= MAX_DAYS:
        problems.append(f"Période : {MAX_DAYS} jours au plus à la fois.")
    if first < desk.today():
        problems.append(f"Période : le {formats.ddmmyyyy(first)} est déjà passé ; commencez au plus tôt "
                        "aujourd'hui.")
    if not isinstance(minutes, int) or not 10 <= minutes <= 240:
        problems.append("Durée d'un créneau : entre 10 et 240 minutes.")
    logins = [x.strip() for x in clerk_logins if x and x.strip()]
    if not logins:
        problems.append("Agents : choisissez au moins un agent qui reçoit les familles.")
    plan: list[time] = []
    if t_start and t_end and not any("Durée" in p for p in problems):
        if t_start >= t_end:
            problems.append("Horaires : l'heure de fin doit venir après l'heure de début.")
        else:
            plan = _day_plan(t_start, t_end, minutes, t_pause)
            if not plan:
                problems.append("Horaires : aucun créneau ne tient entre l'heure de début et l'heure de fin.")
    if problems:
        raise ValidationFailed(problems, "Aucun créneau n'a été créé :")
    result = SlotsResult()
    with desk.unit_of_work() as s:
        users = []
        for login in dict.fromkeys(logins):
            # Locking the clerk's row: two supervisors creating slots for one clerk take turns.
            u = s.execute(select(DeskUser).where(DeskUser.login == login).with_for_update()).scalar_one_or_none()
            if u is None or not u.active:
                problems.append(f"Agents : « {login} » n'est pas un utilisateur actif du bureau.")
            users.append(u)
        if problems:
            raise ValidationFailed(problems, "Aucun créneau n'a été créé :")
        calendar = Calendar.load(s)
        lo, hi = day_bounds(first, last)
        taken: dict[int, list[tuple[datetime, datetime]]] = {u.id: [] for u in users}
        for a in s.execute(select(Appointment).where(
                Appointment.clerk_id.in_(list(taken)), Appointment.status != CANCELLED,
                Appointment.starts_at >= lo - timedelta(days=1), Appointment.starts_at < hi)).scalars():
            taken[a.clerk_id].append((a.starts_at, a.starts_at + timedelta(minutes=a.minutes)))
        day = first
        now = desk.now()
        step = timedelta(minutes=minutes)
        while day <= last:
            why = closed_reason(calendar, day)
            if why:
                result.skipped_days[day] = why
            else:
                result.days += 1
                for t in plan:
                    begin = datetime.combine(day, t, PARIS)
                    if begin <= now:  # today's hours already gone
                        continue
                    for u in users:
                        if any(b < begin + step and begin < e for b, e in taken[u.id]):
                            result.overlapping += 1
                            continue
                        a = Appointment(starts_at=begin, minutes=minutes, clerk_id=u.id, status=FREE)
                        stamp(a, desk)
                        s.add(a)
                        taken[u.id].append((begin, begin + step))
                        result.created += 1
            day += timedelta(days=1)
        if not result.days:
            raise ValidationFailed([f"{formats.ddmm(d)} : {why}" for d, why in sorted(result.skipped_days.items())],
                                   "Aucun jour ouvré dans la période : aucun créneau n'a été créé.")
        desk.audit(s, "appointment.slots", "appointment", None, after={
            "from": first, "to": last, "start": start, "end": end, "minutes": minutes,
            "pause": list(pause) if pause else None, "clerks": logins, **result.as_dict()})
    return result


# ---------------------------------------------------------------- one slot's life


@dataclass(frozen=True)
class BookResult:
    slot: SlotRow
    emailed_to: tuple[str, ...]
    summary: str

    @property
    def changes(self) -> Changes:
        return Changes(appointments=True, outbox=1 if self.emailed_to else 0)


def _changed(row: SlotRow) -> SlotRow:
    """The row a write returns, saying that the appointment book changed."""
    return replace(row, changes=Changes(appointments=True))


def _load(s: Session, appointment_id: int) -> Appointment:
    a = s.execute(select(Appointment).where(Appointment.id == appointment_id).with_for_update()
                  .execution_options(populate_existing=True)).scalar_one_or_none()
    if a is None:
        raise NotFound(f"Rendez-vous introuvable (n° {appointment_id}) : il a peut-être été supprimé.")
    return a


def _label(a: Appointment) -> str:
    return f"le créneau du {texts.when_text(a.starts_at)}"


def _snapshot(a: Appointment) -> dict:
    return {"starts_at": a.starts_at, "minutes": a.minutes, "clerk_id": a.clerk_id, "status": a.status,
            "family_id": a.family_id, "visitor_name": a.visitor_name, "visitor_phone": a.visitor_phone,
            "notes": a.notes}


def _sender(s: Session) -> tuple[Sender, str]:
    st = s.execute(select(Structure).order_by(Structure.id).limit(1)).scalar_one_or_none()
    if st is None:
        return Sender("le service périscolaire"), ""
    return Sender(st.name, st.phone, st.email, st.portal_url), st.address or ""


def _clerk_name(s: Session, a: Appointment) -> str:
    u = s.get(DeskUser, a.clerk_id) if a.clerk_id else None
    return u.full_name if u else ""


def _family(s: Session, family_id: int, *, lock: bool = False) -> Family:
    stmt = select(Family).where(Family.id == family_id).options(selectinload(Family.guardians)) \
        .execution_options(populate_existing=True)
    if lock:
        stmt = stmt.with_for_update(of=Family)
    f = s.execute(stmt).scalar_one_or_none()
    if f is None:
        raise NotFound(f"Famille introuvable (n° {family_id}) : elle a peut-être été supprimée.")
    return f


def _who(s: Session, a: Appointment) -> str:
    if a.family_id:
        f = s.get(Family, a.family_id)
        return f"la famille {f.name}" if f else "une famille"
    return a.visitor_name or "quelqu'un"


def _must_be_free(s: Session, desk: Desk, a: Appointment) -> None:
    if a.status == CANCELLED:
        raise AlreadyDecided(f"Créneau refusé : {_label(a)} a été retiré du planning.")
    if a.status != FREE:
        by = f" par {a.updated_by}" if a.updated_by else ""
        raise AlreadyDecided(f"Créneau refusé : {_label(a)} vient d'être pris{by} ({_who(s, a)}). "
                             "Choisissez un autre créneau.")
    if a.starts_at <= desk.now():
        raise DeskError(f"Créneau refusé : {_label(a)} est déjà passé.")


def _mail(s: Session, desk: Desk, a: Appointment, f: Family | None, build, kind: str) -> tuple[str, ...]:
    if f is None:
        return ()
    recipients = family_recipients(f)
    if not recipients:
        return ()
    sender, address = _sender(s)
    mail = build(sender, address)
    enqueue(s, desk, recipients=recipients, subject=mail.subject, body_text=mail.text,
            body_html=mail.html, family_id=f.id, kind=kind)
    return tuple(recipients)


def book(desk: Desk, appointment_id: int, version: int, *, family_id: int | None = None,
         visitor_name: str = "", visitor_phone: str = "", notes: str = "", notify: bool = True) -> BookResult:
    """Place a family (or a visitor: name and phone) in a free slot; e-mail the confirmation."""
    desk.require(Role.AGENT, "Réserver un rendez-vous")
    visitor_name = " ".join((visitor_name or "").split())
    notes = (notes or "").strip()
    problems = []
    phone = ""
    if family_id is None:
        if not visitor_name:
            problems.append("Famille : choisissez une famille inscrite, ou indiquez le nom du visiteur.")
        raw = (visitor_phone or "").strip()
        if not raw:
            problems.append("Téléphone du visiteur : ce champ est obligatoire (pour le prévenir en cas "
                            "de changement).")
        else:
            phone = format_french_phone(raw) or ""
            if not phone:
                problems.append(f"Téléphone du visiteur : « {raw} » n'est pas un numéro de téléphone "
                                "français (10 chiffres, par exemple 06 12 34 56 78).")
        if len(visitor_name) > 200:
            problems.append("Nom du visiteur : 200 caractères au plus.")
    elif visitor_name or (visitor_phone or "").strip():
        problems.append("Famille : choisissez une famille inscrite ou un visiteur, pas les deux.")
    if problems:
        raise ValidationFailed(problems, "Rendez-vous non réservé :")
    with desk.unit_of_work() as s:
        a = _load(s, appointment_id)
        # Taken meanwhile: say by whom and for whom, rather than "modified".
        _must_be_free(s, desk, a)
        check_version(a, version, WHAT)
        f = None
        if family_id is not None:
            f = _family(s, family_id)
            if f.archived:
                raise DeskError(f"La famille {f.name} est archivée : restaurez sa fiche avant de lui "
                                "donner rendez-vous.")
            other = s.execute(select(Appointment).where(
                Appointment.family_id == f.id, Appointment.status == BOOKED,
                Appointment.starts_at > desk.now()).limit(1)).scalar_one_or_none()
            if other is not None:
                raise DeskError(f"La famille {f.name} a déjà rendez-vous le {texts.when_text(other.starts_at)} : "
                                "déplacez ce rendez-vous plutôt que d'en prendre un second.")
        before = _snapshot(a)
        a.status = BOOKED
        a.family_id = f.id if f else None
        a.visitor_name = "" if f else visitor_name
        a.visitor_phone = "" if f else phone
        a.notes = notes
        stamp(a, desk)
        clerk = _clerk_name(s, a)
        mailed = _mail(s, desk, a, f if notify else None, lambda sender, address: texts.confirmation_mail(
            sender, f.name, a.starts_at, a.minutes, address=address, clerk=clerk), "appointment")
        desk.audit(s, "appointment.book", "appointment", a.id, family_id=a.family_id, before=before,
                   after={**_snapshot(a), "emailed_to": list(mailed)})
        s.flush()
        row = slot_rows(s, [a])[0]
    who = f"la famille {row.family_name}" if f else f"{visitor_name} (visiteur)"
    if mailed:
        tail = f" Confirmation envoyée à {', '.join(mailed)}."
    elif f is not None and notify:
        tail = " Pas d'adresse e-mail : prévenez la famille par téléphone."
    else:
        tail = ""
    return BookResult(row, mailed, f"Rendez-vous du {texts.when_text(row.starts_at)} réservé pour {who}.{tail}")


def move(desk: Desk, appointment_id: int, version: int, target_id: int, *, notify: bool = True) -> BookResult:
    """Move a booking to another free slot; the old one is free again; the family is told."""
    desk.require(Role.AGENT, "Déplacer un rendez-vous")
    if target_id == appointment_id:
        raise ValidationFailed(["Nouveau créneau : choisissez un autre créneau que l'actuel."])
    with desk.unit_of_work() as s:
        a = _load(s, appointment_id)
        check_version(a, version, WHAT)
        if a.status != BOOKED:
            raise AlreadyDecided(f"Seul un rendez-vous réservé peut être déplacé ({_label(a)} est "
                                 f"« {AppointmentStatus.label_of(a.status)} »).")
        target = _load(s, target_id)
        _must_be_free(s, desk, target)
        before = {"from": _snapshot(a), "to": _snapshot(target)}
        target.status, target.family_id = BOOKED, a.family_id
        target.visitor_name, target.visitor_phone, target.notes = a.visitor_name, a.visitor_phone, a.notes
        _clear(a)
        stamp(a, desk)
        stamp(target, desk)
        f = _family(s, target.family_id) if target.family_id else None
        clerk = _clerk_name(s, target)
        mailed = _mail(s, desk, target, f if notify else None, lambda sender, address: texts.moved_mail(
            sender, f.name, a.starts_at, target.starts_at, target.minutes, address=address, clerk=clerk),
            "appointment")
        desk.audit(s, "appointment.move", "appointment", target.id, family_id=target.family_id,
                   before=before, after={"from": _snapshot(a), "to": _snapshot(target),
                                         "emailed_to": list(mailed)})
        s.flush()
        row = slot_rows(s, [target])[0]
    tail = f" Nouvelle date envoyée à {', '.join(mailed)}." if mailed else ""
    return BookResult(row, mailed, f"Rendez-vous déplacé au {texts.when_text(row.starts_at)}.{tail}")


def _clear(a: Appointment) -> None:
    a.status, a.family_id, a.visitor_name, a.visitor_phone, a.notes = FREE, None, "", "", ""


def cancel_booking(desk: Desk, appointment_id: int, version: int, *, notify: bool = True) -> BookResult:
    """The family will not come: the slot is free again; the family is told by e-mail."""
    desk.require(Role.AGENT, "Annuler un rendez-vous")
    with desk.unit_of_work() as s:
        a = _load(s, appointment_id)
        check_version(a, version, WHAT)
        if a.status != BOOKED:
            raise AlreadyDecided(f"Seul un rendez-vous réservé peut être annulé ({_label(a)} est "
                                 f"« {AppointmentStatus.label_of(a.status)} »).")
        before = _snapshot(a)
        f = _family(s, a.family_id) if a.family_id else None
        who = f"la famille {f.name}" if f else a.visitor_name
        _clear(a)
        stamp(a, desk)
        mailed = _mail(s, desk, a, f if notify else None,
                       lambda sender, _address: texts.cancelled_mail(sender, f.name, a.starts_at), "appointment")
        desk.audit(s, "appointment.cancel", "appointment", a.id, family_id=before["family_id"],
                   before=before, after={**_snapshot(a), "emailed_to": list(mailed)})
        s.flush()
        row = slot_rows(s, [a])[0]
    tail = f" Annulation envoyée à {', '.join(mailed)}." if mailed else ""
    return BookResult(row, mailed, f"Rendez-vous de {who} annulé : le créneau est de nouveau libre.{tail}")


def withdraw_slot(desk: Desk, appointment_id: int, version: int) -> SlotRow:
    """Take a free slot off the book (the clerk is away)."""
    desk.require(Role.RESPONSABLE, "Retirer un créneau")
    with desk.unit_of_work() as s:
        a = _load(s, appointment_id)
        check_version(a, version, WHAT)
        if a.status != FREE:
            raise AlreadyDecided(f"Seul un créneau libre peut être retiré ({_label(a)} est "
                                 f"« {AppointmentStatus.label_of(a.status)} ») : annulez d'abord le rendez-vous.")
        before = _snapshot(a)
        a.status = CANCELLED
        stamp(a, desk)
        desk.audit(s, "appointment.withdraw", "appointment", a.id, before=before, after=_snapshot(a))
        s.flush()
        return _changed(slot_rows(s, [a])[0])


def mark(desk: Desk, appointment_id: int, version: int, status: str) -> SlotRow:
    """"Terminé" or "Absent" once the appointment's time has come (a mistake can be switched)."""
    desk.require(Role.AGENT, "Clore un rendez-vous")
    if status not in (DONE, MISSED):
        raise ValidationFailed([f"État du rendez-vous : choix inconnu « {status} » (done ou missed)."])
    with desk.unit_of_work() as s:
        a = _load(s, appointment_id)
        check_version(a, version, WHAT)
        if a.status not in (BOOKED, DONE, MISSED):
            raise AlreadyDecided(f"Ce créneau n'a pas de rendez-vous ({_label(a)} est "
                                 f"« {AppointmentStatus.label_of(a.status)} »).")
        if a.starts_at > desk.now():
            raise DeskError(f"Ce rendez-vous n'a pas encore eu lieu ({texts.when_text(a.starts_at)}).")
        before = _snapshot(a)
        a.status = status
        stamp(a, desk)
        desk.audit(s, "appointment.mark", "appointment", a.id, family_id=a.family_id, before=before,
                   after=_snapshot(a))
        s.flush()
        return _changed(slot_rows(s, [a])[0])


def attach_family(desk: Desk, appointment_id: int, version: int, family_id: int) -> SlotRow:
    """The visitor's family has just been registered: the appointment now names the family."""
    desk.require(Role.AGENT, "Rattacher un rendez-vous à une famille")
    with desk.unit_of_work() as s:
        a = _load(s, appointment_id)
        check_version(a, version, WHAT)
        if a.status not in (BOOKED, DONE, MISSED):
            raise AlreadyDecided(f"Ce créneau n'a pas de rendez-vous ({_label(a)} est "
                                 f"« {AppointmentStatus.label_of(a.status)} »).")
        f = _family(s, family_id)
        before = _snapshot(a)
        a.family_id, a.visitor_name, a.visitor_phone = f.id, "", ""
        stamp(a, desk)
        desk.audit(s, "appointment.attach", "appointment", a.id, family_id=f.id, before=before,
                   after=_snapshot(a))
        s.flush()
        return _changed(slot_rows(s, [a])[0])


def set_notes(desk: Desk, appointment_id: int, version: int, notes: str) -> SlotRow:
    desk.require(Role.AGENT, "Annoter un rendez-vous")
    notes = (notes or "").strip()
    if len(notes) > 2000:
        raise ValidationFailed(["Notes : 2 000 caractères au plus."])
    with desk.unit_of_work() as s:
        a = _load(s, appointment_id)
        check_version(a, version, WHAT)
        before = {"notes": a.notes}
        a.notes = notes
        stamp(a, desk)
        desk.audit(s, "appointment.notes", "appointment", a.id, family_id=a.family_id, before=before,
                   after={"notes": notes})
        s.flush()
        return _changed(slot_rows(s, [a])[0])


def set_acknowledgement(desk: Desk, family_id: int, version: int | None, returned: bool = True) -> int:
    """"Accusé rendu": the signed acknowledgement came back with the dossier périscolaire.
    Returns the family's new version (the family file's optimistic lock)."""
    desk.require(Role.AGENT, "Enregistrer l'accusé de réception")
    with desk.unit_of_work() as s:
        f = _family(s, family_id, lock=True)
        check_version(f, version, "la fiche famille")
        if f.acknowledgement_returned == bool(returned):
            return f.version
        before = {"acknowledgement_returned": f.acknowledgement_returned}
        f.acknowledgement_returned = bool(returned)
        stamp(f, desk)
        desk.audit(s, "family.acknowledgement", "family", f.id, family_id=f.id, before=before,
                   after={"acknowledgement_returned": f.acknowledgement_returned})
        s.flush()
        return f.version


__all__ = [
    "SlotRow", "DaySummary", "Clerk", "SlotsResult", "BookResult", "slots_between",
    "day_list", "free_slots", "get_slot", "days_overview", "book_days", "clerks", "september", "create_slots",
    "book", "move", "cancel_booking", "withdraw_slot", "mark", "attach_family", "set_notes",
    "set_acknowledgement",
]
