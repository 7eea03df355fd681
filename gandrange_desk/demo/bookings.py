"""The demo's reservation cells and the requests that made them, as rows for bulk INSERTs.

Each child gets weekly habits (which units on which weekdays) booked once for the year by a
period request — on the portal before the rentrée, or at the desk during a September help
session — and accepted by the office; then a past of its own: extra days asked for, a few
refused, cancellations excused or billed. For the coming days the queue holds pending DR and
DA, some hors délai. Only open days are booked (the calendar service decides), and lateness is
always the calendar's verdict on when the family asked.
"""

from __future__ import annotations

import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select

from gandrange_desk.clock import PARIS
from gandrange_desk.models import (
    Activity, Billing, CellState, PortalState, RequestKind, RequestSource, RequestStatus, School, Unit,
)
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.demo import data

PENDING_WINDOW = 14  # days ahead in which families still ask and cancel
HORIZON = 28  # days ahead already booked
CLERKS = ("sfoncin", "sfoncin", "sfoncin", "nbecker")


@dataclass
class World:
    cal: Calendar
    first: date
    last: date
    today: date
    now: datetime
    horizon: date
    schools: dict[str, int]
    units: dict[tuple[str, str], int]
    activities: dict[str, Activity]
    capacities: dict[int, int | None]
    open_days: dict[str, list[date]]
    window: dict[str, list[date]]
    unit_codes: dict[int, str]

    @classmethod
    def load(cls, s, cal: Calendar, *, first: date, last: date, today: date, now: datetime) -> "World":
        horizon = min(max(today, first) + timedelta(days=HORIZON), last)
        activities = {a.code: a for a in s.execute(select(Activity)).scalars()}
        units, capacities = {}, {}
        for unit_id, code, name, capacity in s.execute(
                select(Unit.id, Activity.code, Unit.name, Unit.capacity).join(Activity)):
            units[(code, name)] = unit_id
            capacities[unit_id] = capacity
        open_days = {code: cal.open_days(a, first, horizon) for code, a in activities.items()}
        window_end = min(today + timedelta(days=PENDING_WINDOW), horizon)
        window = {code: [d for d in days if today < d <= window_end] for code, days in open_days.items()}
        schools = dict(s.execute(select(School.name, School.id)).all())
        return cls(cal, first, last, today, now, horizon, schools, units, activities, capacities,
                   open_days, window, {uid: code for (code, _n), uid in units.items()})

    def is_late(self, code: str, day: date, submitted: datetime, cancellation: bool = False) -> bool:
        a = self.activities[code]
        days = a.cancellation_deadline_days if cancellation else a.booking_deadline_days
        hhmm = a.cancellation_deadline_time if cancellation else a.booking_deadline_time
        # N working days never span more than 2N + 16 calendar days (weekends, Christmas week).
        if (day - submitted.date()).days > 2 * days + 16:
            return False
        return self.cal.is_late(submitted, day, days, hhmm)


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


class BookingMaker:
    def __init__(self, world: World, rng: random.Random):
        self.w = world
        self.rng = rng
        self.used: Counter = Counter()  # (unit_id, day) -> places held (R, DA)
        self._ref = 200000

    @property
    def peaks(self) -> Counter:
        peaks: Counter = Counter()
        for (unit_id, _day), n in self.used.items():
            peaks[unit_id] = max(peaks[unit_id], n)
        return peaks

    def _next_ref(self) -> str:
        self._ref += 1
        return f"P-{self._ref}"

    def _recent(self, max_minutes: int) -> datetime:
        """A moment of the last `max_minutes` at which families are awake (7:00-22:59)."""
        for _ in range(30):
            moment = self.w.now - timedelta(minutes=self.rng.randrange(20, max_minutes))
            if 7 <= moment.hour <= 22:
                return moment
        day = self.w.now.date() - timedelta(days=1)
        return _at(day, 20, self.rng.randrange(60))

    def _working_day_after(self, moment: datetime, hours: tuple[int, int] = (8, 12)) -> datetime:
        day = moment.date() + timedelta(days=1)
        while not self.w.cal.is_working_day(day):
            day += timedelta(days=1)
        decided = _at(day, self.rng.randrange(*hours), self.rng.randrange(60))
        return min(decided, self.w.now)

    # ------------------------------------------------------------------------------------------

    def for_children(self, children: list[dict]) -> tuple[list[dict], list[dict]]:
        bookings: list[dict] = []
        requests: list[dict] = []
        for child in children:
            cells = self._child(child, requests)
            for (unit_id, day), row in cells.items():
                bookings.append(row)
                if row["state"] in (CellState.R, CellState.DA):
                    self.used[(unit_id, day)] += 1
        return bookings, requests

    def _request(self, child: dict, unit_id: int | None, day: date | None, *, kind: str, source: str,
                 ref: str | None, submitted: datetime, status: str, from_state=None, to_state=None,
                 decided_by=None, decided_at=None, late=False, proposed=None, billing=None,
                 override="", reason="") -> dict:
        return {"kind": kind, "source": source, "ref": ref, "family_id": child["family_id"],
                "child_id": child["id"], "unit_id": unit_id, "day": day, "from_state": from_state,
                "to_state": to_state, "submitted_at": submitted,
                "submitted_by": None if source == RequestSource.PORTAL else "sfoncin",
                "status": status, "decided_by": decided_by, "decided_at": decided_at, "reason": reason,
                "late": late, "proposed_billing": proposed, "billing": billing,
                "billing_override_reason": override, "capacity_override": False, "payload": ""}

    def _habits(self, child: dict) -> dict[tuple[str, str], list[int]]:
        """(activity, unit) -> weekdays the child comes on."""
        r = self.rng
        habits: dict[tuple[str, str], list[int]] = {}
        school_days = [0, 1, 3, 4]
        if r.random() < 0.78:
            lunch = r.choices(("all", "three", "two", "one", "none"), (50, 10, 20, 10, 10))[0]
            count = {"all": 4, "three": 3, "two": 2, "one": 1, "none": 0}[lunch]
            if count:
                habits[("PERISCOLAIRE", "Repas")] = sorted(r.sample(school_days, count))
            if r.random() < 0.3:
                habits[("PERISCOLAIRE", "Accueil matin")] = sorted(r.sample(school_days, r.randrange(2, 5)))
            if r.random() < 0.45:
                habits[("PERISCOLAIRE", "Accueil soir")] = sorted(r.sample(school_days, r.randrange(1, 5)))
        if r.random() < 0.28:
            unit = r.choices(("Journée complète", "Matin", "Après-midi"), (60, 20, 20))[0]
            habits[("MERCREDI", unit)] = [2]
        return habits

    def _child(self, child: dict, requests: list[dict]) -> dict[tuple[int, date], dict]:
        r, w = self.rng, self.w
        family = child["_family"]
        cells: dict[tuple[int, date], dict] = {}
        portal = family["portal_state"] == PortalState.ACTIVE and r.random() < 0.85
        if portal:
            submitted = _at(w.first - timedelta(days=r.randrange(3, 13)), r.randrange(7, 23), r.randrange(60))
            decided = self._working_day_after(submitted)
            start = w.first
        else:
            # A September help session at the desk; the year is booked from two days later.
            session_day = w.first + timedelta(days=r.randrange(-6, 10))
            while not w.cal.is_working_day(session_day):
                session_day += timedelta(days=1)
            submitted = _at(session_day, r.randrange(9, 17), r.randrange(60))
            decided = submitted + timedelta(minutes=r.randrange(2, 30))
            start = session_day + timedelta(days=2)
        if submitted > w.now:
            return cells
        source = RequestSource.PORTAL if portal else RequestSource.DESK_FAMILY
        clerk = r.choice(CLERKS) if portal else "sfoncin"
        for (code, unit_name), weekdays in self._habits(child).items():
            unit_id = w.units[(code, unit_name)]
            ref = self._next_ref() if portal else None
            for day in w.open_days[code]:
                if day < start or day.weekday() not in weekdays or r.random() < 0.04:
                    continue
                # The year's booking starts with the first day still within the deadline.
                if not portal and w.is_late(code, day, submitted):
                    continue
                self._accepted_booking(child, cells, requests, code, unit_id, day, source, ref, submitted,
                                       decided, clerk)
        self._holidays(child, cells, requests)
        self._extras(child, cells, requests)
        self._past_cancellations(child, cells, requests)
        self._pending(child, cells, requests)
        return cells

    def _accepted_booking(self, child, cells, requests, code, unit_id, day, source, ref, submitted, decided,
                          clerk) -> None:
        late = self.w.is_late(code, day, submitted)
        requests.append(self._request(child, unit_id, day, kind=RequestKind.BOOKING, source=source, ref=ref,
                                      submitted=submitted, status=RequestStatus.ACCEPTED,
                                      to_state=CellState.R, decided_by=clerk, decided_at=decided, late=late))
        cells[(unit_id, day)] = {"child_id": child["id"], "unit_id": unit_id, "day": day, "state": CellState.R,
                                 "late": late, "updated_at": decided, "updated_by": clerk}

    def _holidays(self, child, cells, requests) -> None:
        """Some children spend whole weeks of the school holidays at the accueil de loisirs."""
        r, w = self.rng, self.w
        if r.random() >= 0.22:
            return
        weeks: dict[tuple[int, int], list[date]] = defaultdict(list)
        for day in w.open_days["VACANCES"]:
            weeks[day.isocalendar()[:2]].append(day)
        unit_id = w.units[("VACANCES", "Journée")]
        for days in weeks.values():
            if r.random() >= 0.5:
                continue
            submitted = _at(days[0] - timedelta(days=r.randrange(10, 40)), r.randrange(8, 22), r.randrange(60))
            if submitted > w.now:
                continue
            decided = self._working_day_after(submitted)
            ref = self._next_ref()
            for day in days:
                if r.random() < 0.9:
                    self._accepted_booking(child, cells, requests, "VACANCES", unit_id, day,
                                           RequestSource.PORTAL, ref, submitted, decided, r.choice(CLERKS))

    def _extras(self, child, cells, requests) -> None:
        """Extra days asked for now and then, a few hors délai (surcharge), a few refused."""
        r, w = self.rng, self.w
        for _ in range(r.choice((0, 0, 1, 2, 3, 4))):
            code, unit_name = r.choice((("PERISCOLAIRE", "Accueil soir"), ("PERISCOLAIRE", "Accueil matin"),
                                        ("PERISCOLAIRE", "Repas"), ("MERCREDI", "Journée complète")))
            past = [d for d in w.open_days[code] if d < w.today]
            if not past:
                continue
            day = r.choice(past)
            unit_id = w.units[(code, unit_name)]
            if (unit_id, day) in cells:
                continue
            ahead = r.choice((0, 1, 1, 2, 3, 4, 6, 8))
            submitted = _at(day - timedelta(days=ahead), r.randrange(7, 9) if ahead == 0 else r.randrange(7, 22),
                            r.randrange(60))
            decided = self._working_day_after(submitted) if ahead > 1 else submitted + timedelta(minutes=r.randrange(20, 90))
            ref = self._next_ref()
            if r.random() < 0.07:
                late = w.is_late(code, day, submitted)
                requests.append(self._request(child, unit_id, day, kind=RequestKind.BOOKING,
                                              source=RequestSource.PORTAL, ref=ref, submitted=submitted,
                                              status=RequestStatus.REFUSED, to_state=None, late=late,
                                              decided_by=r.choice(CLERKS), decided_at=decided,
                                              reason=r.choice(data.REFUSAL_REASONS)))
                continue
            self._accepted_booking(child, cells, requests, code, unit_id, day, RequestSource.PORTAL, ref,
                                   submitted, decided, r.choice(CLERKS))

    def _past_cancellations(self, child, cells, requests) -> None:
        r, w = self.rng, self.w
        for (unit_id, day), row in list(cells.items()):
            if day >= w.today or row["state"] != CellState.R or r.random() >= 0.03:
                continue
            code = w.unit_codes[unit_id]
            if r.random() < 0.65:
                submitted = _at(day - timedelta(days=r.randrange(3, 10)), r.randrange(7, 22), r.randrange(60))
            else:
                submitted = _at(day - timedelta(days=1), r.randrange(18, 22), r.randrange(60))
            if submitted <= row["updated_at"]:
                continue
            late = w.is_late(code, day, submitted, cancellation=True)
            proposed = Billing.BILLED if late else Billing.EXCUSED
            billing, override = proposed, ""
            if late and r.random() < 0.15:
                billing, override = Billing.EXCUSED, "Certificat médical"
            decided = self._working_day_after(submitted)
            clerk = r.choice(CLERKS)
            to_state = CellState.AF if billing == Billing.BILLED else None
            requests.append(self._request(child, unit_id, day, kind=RequestKind.CANCELLATION,
                                          source=RequestSource.PORTAL, ref=self._next_ref(), submitted=submitted,
                                          status=RequestStatus.ACCEPTED, from_state=CellState.R,
                                          to_state=to_state, decided_by=clerk, decided_at=decided, late=late,
                                          proposed=proposed, billing=billing, override=override))
            if to_state is None:
                del cells[(unit_id, day)]
            else:
                row.update(state=CellState.AF, updated_at=decided, updated_by=clerk)

    def _pending(self, child, cells, requests) -> None:
        """The queue: DR and DA for the coming days (and, rarely, a day just past)."""
        r, w = self.rng, self.w
        if r.random() < 0.22:
            code, unit_name = r.choice((("PERISCOLAIRE", "Accueil soir"), ("PERISCOLAIRE", "Repas"),
                                        ("PERISCOLAIRE", "Accueil matin"), ("MERCREDI", "Journée complète")))
            unit_id = w.units[(code, unit_name)]
            days = [d for d in w.window[code] if (unit_id, d) not in cells]
            if r.random() < 0.04:
                days = [d for d in w.open_days[code] if w.today - timedelta(days=4) <= d < w.today
                        and (unit_id, d) not in cells][-1:]
            if days:
                # Near days first: many families ask at the last minute, after the deadline.
                pool = days[:2] if r.random() < 0.35 else days
                chosen = sorted(r.sample(pool, min(len(pool), r.randrange(1, 4))))
                submitted = self._recent(60 * 72)
                if chosen[0] < w.today:
                    submitted = min(w.now, _at(chosen[0], 8, r.randrange(60)))
                desk = r.random() < 0.1
                source = RequestSource.DESK_FAMILY if desk else RequestSource.PORTAL
                ref = None if desk else self._next_ref()
                for day in chosen:
                    late = w.is_late(code, day, submitted)
                    requests.append(self._request(child, unit_id, day, kind=RequestKind.BOOKING, source=source,
                                                  ref=ref, submitted=submitted, status=RequestStatus.PENDING,
                                                  to_state=CellState.DR, late=late))
                    cells[(unit_id, day)] = {"child_id": child["id"], "unit_id": unit_id, "day": day,
                                             "state": CellState.DR, "late": late, "updated_at": submitted,
                                             "updated_by": "sfoncin" if desk else None}
        if r.random() < 0.12:
            window_days = {d for days in w.window.values() for d in days}
            booked = [(key, row) for key, row in cells.items()
                      if row["state"] == CellState.R and key[1] in window_days]
            if not booked:
                return
            chosen = r.sample(booked, min(len(booked), r.choice((1, 1, 2))))
            submitted = self._recent(60 * 48)
            ref = self._next_ref()
            for (unit_id, day), row in chosen:
                code = w.unit_codes[unit_id]
                late = w.is_late(code, day, submitted, cancellation=True)
                requests.append(self._request(child, unit_id, day, kind=RequestKind.CANCELLATION,
                                              source=RequestSource.PORTAL, ref=ref, submitted=submitted,
                                              status=RequestStatus.PENDING, from_state=CellState.R,
                                              to_state=CellState.DA, late=late,
                                              proposed=Billing.BILLED if late else Billing.EXCUSED))
                row.update(state=CellState.DA, updated_at=submitted, updated_by=None)
