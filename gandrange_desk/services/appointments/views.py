"""Reading the appointment book: the slots of a day or a period, the day picker, the clerks.

Split from `services.appointments` (which re-exports everything here) to keep files short.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gandrange_desk import formats
from gandrange_desk.clock import PARIS
from gandrange_desk.errors import NotFound
from gandrange_desk.models import Appointment, AppointmentStatus, DeskUser, Family
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.mail.outbox import family_recipients

FREE, BOOKED, DONE, MISSED, CANCELLED = (AppointmentStatus.FREE, AppointmentStatus.BOOKED,
                                         AppointmentStatus.DONE, AppointmentStatus.MISSED,
                                         AppointmentStatus.CANCELLED)



@dataclass(frozen=True)
class SlotRow:
    id: int
    version: int
    starts_at: datetime
    minutes: int
    clerk_id: int | None
    clerk_login: str
    clerk_name: str
    status: str
    family_id: int | None
    family_ref: str
    family_name: str
    family_version: int | None
    guardian_name: str  # who signs the acknowledgement: the first guardian
    visitor_name: str
    visitor_phone: str
    phone: str
    emails: tuple[str, ...]
    acknowledgement_returned: bool
    portal_state: str
    notes: str
    # Set on the row a write operation returns (empty when read): what it changed.
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    @property
    def ends_at(self) -> datetime:
        return self.starts_at + timedelta(minutes=self.minutes)

    @property
    def day(self) -> date:
        return self.starts_at.date()

    @property
    def time_text(self) -> str:
        return f"{self.starts_at:%H:%M}"

    @property
    def status_label(self) -> str:
        return AppointmentStatus.label_of(self.status)

    @property
    def who(self) -> str:
        if self.family_id is not None:
            return f"{self.family_name} ({self.family_ref})"
        if self.visitor_name:
            return f"{self.visitor_name} (visiteur)"
        return ""

    @property
    def taken(self) -> bool:
        return self.status in (BOOKED, DONE, MISSED)


@dataclass(frozen=True)
class DaySummary:
    day: date
    total: int
    free: int
    booked: int  # booked, done or missed

    def label(self) -> str:
        head = f"{formats.WEEKDAYS_SHORT_FR[self.day.weekday()]} {formats.ddmmyyyy(self.day)} — "
        if not self.total:
            return head + "aucun créneau"
        return head + f"{self.booked}/{self.total} {formats.plural(self.booked, 'réservé', 'réservés')}"


@dataclass(frozen=True)
class Clerk:
    id: int
    login: str
    full_name: str


def day_bounds(first: date, last: date) -> tuple[datetime, datetime]:
    return (datetime.combine(first, time(0), PARIS),
            datetime.combine(last + timedelta(days=1), time(0), PARIS))


def _phone_of(f: Family) -> str:
    if f.phone:
        return f.phone
    return next((g.phone for g in f.guardians if g.phone), "")


def slot_rows(s: Session, appointments: list[Appointment]) -> list[SlotRow]:
    clerk_ids = {a.clerk_id for a in appointments if a.clerk_id is not None}
    clerks = {u.id: u for u in s.execute(select(DeskUser).where(DeskUser.id.in_(clerk_ids))).scalars()} \
        if clerk_ids else {}
    family_ids = {a.family_id for a in appointments if a.family_id is not None}
    families = {f.id: f for f in s.execute(
        select(Family).where(Family.id.in_(family_ids)).options(selectinload(Family.guardians))
    ).scalars()} if family_ids else {}
    out = []
    for a in appointments:
        u = clerks.get(a.clerk_id)
        f = families.get(a.family_id)
        first = f.guardians[0] if f is not None and f.guardians else None
        out.append(SlotRow(
            id=a.id, version=a.version, starts_at=a.starts_at.astimezone(PARIS), minutes=a.minutes,
            clerk_id=a.clerk_id, clerk_login=u.login if u else "", clerk_name=u.full_name if u else "",
            status=a.status, family_id=a.family_id, family_ref=f.ref if f else "",
            family_name=f.name if f else "", family_version=f.version if f else None,
            guardian_name=first.full_name if first else "",
            visitor_name=a.visitor_name, visitor_phone=a.visitor_phone,
            phone=_phone_of(f) if f else a.visitor_phone,
            emails=tuple(family_recipients(f)) if f else (),
            acknowledgement_returned=bool(f.acknowledgement_returned) if f else False,
            portal_state=f.portal_state if f else "", notes=a.notes,
        ))
    return out


def slots_between(desk: Desk, first: date, last: date, *, statuses=None,
                  include_cancelled: bool = False) -> list[SlotRow]:
    lo, hi = day_bounds(first, last)
    stmt = (select(Appointment).where(Appointment.starts_at >= lo, Appointment.starts_at < hi)
            .order_by(Appointment.starts_at, Appointment.clerk_id, Appointment.id))
    if statuses is not None:
        stmt = stmt.where(Appointment.status.in_(list(statuses)))
    elif not include_cancelled:
        stmt = stmt.where(Appointment.status != CANCELLED)
    with desk.read() as s:
        return slot_rows(s, list(s.execute(stmt).scalars()))


def day_list(desk: Desk, day: date, *, include_cancelled: bool = False) -> list[SlotRow]:
    """Every slot of the day, by time then clerk: free ones too (the desk fills them by phone)."""
    return slots_between(desk, day, day, include_cancelled=include_cancelled)


def free_slots(desk: Desk, first: date, last: date) -> list[SlotRow]:
    """Free slots still to come (where a booking can be placed or moved)."""
    now = desk.now()
    return [r for r in slots_between(desk, first, last, statuses=[FREE]) if r.starts_at > now]


def get_slot(desk: Desk, appointment_id: int) -> SlotRow:
    with desk.read() as s:
        a = s.get(Appointment, appointment_id)
        if a is None:
            raise NotFound(f"Rendez-vous introuvable (n° {appointment_id}) : il a peut-être été supprimé.")
        return slot_rows(s, [a])[0]


def days_overview(desk: Desk, first: date, last: date) -> list[DaySummary]:
    """Days that have slots, with how many are taken (the day picker)."""
    lo, hi = day_bounds(first, last)
    counts: dict[date, list[int]] = {}
    with desk.read() as s:
        for starts_at, status in s.execute(select(Appointment.starts_at, Appointment.status).where(
                Appointment.starts_at >= lo, Appointment.starts_at < hi, Appointment.status != CANCELLED)):
            c = counts.setdefault(starts_at.astimezone(PARIS).date(), [0, 0, 0])
            c[0] += 1
            c[1 if status == FREE else 2] += 1
    return [DaySummary(d, *counts[d]) for d in sorted(counts)]


def clerks(desk: Desk) -> list[Clerk]:
    with desk.read() as s:
        return [Clerk(u.id, u.login, u.full_name) for u in s.execute(
            select(DeskUser).where(DeskUser.active.is_(True)).order_by(DeskUser.full_name)).scalars()]


def september(desk: Desk) -> tuple[date, date]:
    """The help sessions' month: from June on, the coming September (the book is prepared in
    summer); before, the September of the current school year."""
    today = desk.today()
    year = today.year if today.month >= 6 else today.year - 1
    return date(year, 9, 1), date(year, 9, 30)


def book_days(desk: Desk) -> list[DaySummary]:
    """The day picker: every working day of the sessions' September (with or without slots),
    and any other day from mid-August to October that has slots."""
    first, last = september(desk)
    known = {d.day: d for d in days_overview(desk, first - timedelta(days=16), last + timedelta(days=31))}
    with desk.read() as s:
        calendar = Calendar.load(s)
    day = first
    while day <= last:
        if closed_reason(calendar, day) is None:
            known.setdefault(day, DaySummary(day, 0, 0, 0))
        day += timedelta(days=1)
    return [known[d] for d in sorted(known)]


def closed_reason(calendar: Calendar, day: date) -> str | None:
    if day.weekday() >= 5:
        return "week-end"
    holiday = calendar.public_holiday(day)
    if holiday:
        return f"férié : {holiday}"
    closure = calendar.closure(day)
    if closure:
        return f"fermeture : {closure}"
    return None
