"""Two workstations booking the same slot at once: one wins, the other is told who took it."""

from __future__ import annotations

import threading
from datetime import date

from sqlalchemy import func, select

from gandrange_desk.errors import DeskError
from gandrange_desk.models import Appointment, DeskUser, OutboxMessage
from gandrange_desk.services.appointments import book as ap
from gandrange_desk.services.context import Actor, Desk
from tests.builders import make_family


def test_two_clerks_book_one_slot_at_once(desk, clock, engine):
    clock.set(2026, 8, 20, 9, 0)
    with desk.unit_of_work() as s:
        s.add(DeskUser(login="sfoncin", full_name="Sandrine Foncin", role="agent"))
    ap.create_slots(desk, date(2026, 9, 3), date(2026, 9, 3), start="14:00", end="14:30", clerk_logins=["sfoncin"])
    [slot] = ap.day_list(desk, date(2026, 9, 3))
    families = [make_family(desk, "Keller"), make_family(desk, "Weber")]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def clerk(i: int) -> None:
        mine = Desk(engine, Actor(f"poste{i}", f"Poste {i}", "agent"), clock)
        barrier.wait()
        try:
            ap.book(mine, slot.id, slot.version, family_id=families[i].id)
            outcomes.append("ok")
        except DeskError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=clerk, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(outcomes)[-1] == "ok" and outcomes.count("ok") == 1, outcomes
    refusal = next(o for o in outcomes if o != "ok")
    assert "Enregistrement refusé" in refusal or "vient d'être pris" in refusal
    with desk.read() as s:
        assert s.execute(select(func.count()).select_from(OutboxMessage)).scalar_one() == 1
        a = s.get(Appointment, slot.id)
    assert a.status == "booked" and a.family_id in {f.id for f in families}
