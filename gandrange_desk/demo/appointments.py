"""Demo help sessions: the September of the demo school year, most slots taken.

Called by `services.demo.run_demo` at the end (`add_appointments(desk, rng)`). Sandrine Foncin
receives every working day (9h-12h, 14h-17h), Nathalie Becker on Tuesday and Thursday
afternoons, in 30-minute slots; up to four slots in five are booked (as many as there are
families), a few by visitors not yet registered; those already past are done (most) or missed. Most families seen have handed back the
signed acknowledgement. Slots are written directly (the services refuse past days); no e-mail is
queued for them — those would have been sent in September.
"""

from __future__ import annotations

import random
from datetime import date, datetime, time, timedelta

from sqlalchemy import select, update

from gandrange_desk import formats
from gandrange_desk.clock import PARIS
from gandrange_desk.models import Appointment, AppointmentStatus, DeskUser, Family
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.context import Desk

HOURS = {"sfoncin": ((time(9), time(12)), (time(14), time(17))), "nbecker": ((time(14), time(17)),)}
NBECKER_DAYS = {1, 3}  # Tuesday, Thursday
VISITORS = ("Nadia Haddad", "Kevin Schmitt", "Julie Lambert", "Mehdi Benali", "Laura Hoffmann",
            "Thomas Klein", "Sarah Muller", "Yasmine Amrani", "Nicolas Weiss", "Emma Fischer")
NOTES_BEFORE = ("Aide pour la première connexion", "Dossier incomplet : attestation CAF à apporter",
                "Deux enfants, garde alternée", "Vient avec le RIB pour le prélèvement", "", "")
NOTES_AFTER = ("Réservations de l'année saisies avec la famille", "Mandat de prélèvement signé",
               "Compte portail ouvert, identifiants remis", "", "")


def _slot_times(start: time, end: time, minutes: int = 30):
    t = datetime.combine(date(2000, 1, 1), start)
    stop = datetime.combine(date(2000, 1, 1), end)
    while t + timedelta(minutes=minutes) <= stop:
        yield t.time()
        t += timedelta(minutes=minutes)


def add_appointments(desk: Desk, rng: random.Random) -> str:
    today, now = desk.today(), desk.now()
    year = today.year if today.month >= 9 else today.year - 1
    with desk.unit_of_work() as s:
        if s.execute(select(Appointment.id).limit(1)).first():
            return ""
        users = {u.login: u for u in s.execute(select(DeskUser).where(DeskUser.login.in_(list(HOURS)))).scalars()}
        if not users:
            return ""
        calendar = Calendar.load(s)
        families = list(s.execute(select(Family.id).where(Family.archived.is_(False)).order_by(Family.id)).scalars())
        rng.shuffle(families)
        day, last = date(year, 9, 1), date(year, 9, 30)
        slots: list[Appointment] = []
        while day <= last:
            if calendar.is_working_day(day) and not calendar.closure(day):
                for login, ranges in HOURS.items():
                    if login not in users or (login == "nbecker" and day.weekday() not in NBECKER_DAYS):
                        continue
                    for start, end in ranges:
                        for t in _slot_times(start, end):
                            slots.append(Appointment(starts_at=datetime.combine(day, t, PARIS), minutes=30,
                                                     clerk_id=users[login].id, status=AppointmentStatus.FREE,
                                                     updated_by="nbecker", updated_at=now))
            day += timedelta(days=1)
        booked = done = missed = 0
        seen: list[int] = []
        waiting: list[int] = []  # families still to bring the signed acknowledgement
        # Families spread over the whole month; a small demo leaves more slots free, never
        # fills them with visitors.
        chosen = [a for a in slots if rng.random() < 0.8]
        rng.shuffle(chosen)
        for a in chosen:
            if not families:
                break
            if rng.random() < 0.93:
                a.family_id = families.pop()
            else:
                a.visitor_name = rng.choice(VISITORS)
                a.visitor_phone = "06 " + " ".join(f"{rng.randrange(100):02d}" for _ in range(4))
            past = a.starts_at + timedelta(minutes=a.minutes) <= now
            a.notes = rng.choice(NOTES_AFTER if past else NOTES_BEFORE)
            a.updated_by = rng.choice(("sfoncin", "sfoncin", "nbecker"))
            if past:
                if rng.random() < 0.88:
                    a.status = AppointmentStatus.DONE
                    done += 1
                    if a.family_id:
                        seen.append(a.family_id)
                else:
                    a.status = AppointmentStatus.MISSED
                    missed += 1
                    if a.family_id:
                        waiting.append(a.family_id)
            else:
                a.status = AppointmentStatus.BOOKED
                booked += 1
                if a.family_id:
                    waiting.append(a.family_id)
        s.add_all(slots)
        returned = [fid for fid in seen if rng.random() < 0.92]
        waiting = [fid for fid in waiting if rng.random() < 0.85]
        for ids, value in ((returned, True), (waiting, False)):
            if ids:
                s.execute(update(Family).where(Family.id.in_(ids)).values(acknowledgement_returned=value)
                          .execution_options(synchronize_session=False))
    total = len(slots)
    return (f"Rendez-vous de septembre {year} : {formats.count(total, 'créneau', 'créneaux')}, "
            f"{done} {formats.plural(done, 'terminé', 'terminés')}, {missed} {formats.plural(missed, 'absent', 'absents')}, "
            f"{booked} à venir, {total - done - missed - booked} {formats.plural(total - done - missed - booked, 'libre', 'libres')}.")
