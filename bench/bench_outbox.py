"""Outbox figures: the status bar count, the Courriels list, delivery through a loopback relay.

- `outbox_counts`: the query the background sender runs every minute for the status bar.
- `outbox_list_2000`: the Courriels view's query for its 2,000 most recent rows (of 5,000).
- `outbox_send_per_message`: claim + build + SMTP + record, per message, 300 messages delivered
  to an aiosmtpd relay on loopback (no TLS, no login; in its own process, as a real relay is)
  from a copy of the base.
"""

from __future__ import annotations

import statistics
import time

from sqlalchemy import func, select

RUNS = 7
N_LIST = 2000  # ui/mail_view.py LIST_LIMIT: the view shows the most recent 2,000
N_SEND = 300


def _median_ms(fn, runs: int = RUNS) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def _fill(desk, n: int) -> None:
    """Top the outbox of a copy up to n messages, spread over families like a school year's."""
    from gandrange_desk.models import Family, OutboxMessage
    from gandrange_desk.services.mail.outbox import enqueue

    with desk.unit_of_work() as s:
        have = s.execute(select(func.count()).select_from(OutboxMessage)).scalar_one()
        families = s.execute(select(Family.id).order_by(Family.id)).scalars().all() or [None]
        for i in range(max(0, n - have)):
            enqueue(s, desk, recipients=[f"parent{i}@example.org"], subject=f"Réservation acceptée n° {i}",
                    body_text="Bonjour,\n\nVotre demande a été acceptée.\n", family_id=families[i % len(families)],
                    kind="acceptance")


def outbox_counts(base) -> dict:
    from gandrange_desk.services.mail.outbox import outbox_counts as counts

    desk = base.desk()
    counts(desk)
    return {"value": _median_ms(lambda: counts(desk), 21), "unit": "ms", "target": "≤ 20 ms"}


def outbox_list_2000(base) -> dict:
    from gandrange_desk.db import make_engine
    from gandrange_desk.services.context import SYSTEM, Desk
    from gandrange_desk.services.mail.outbox import list_messages

    desk = Desk(make_engine(base.fresh_copy()), SYSTEM, base.now)
    _fill(desk, 5000)
    rows = list_messages(desk, limit=N_LIST)
    value = _median_ms(lambda: list_messages(desk, limit=N_LIST))
    return {"value": value, "unit": "ms", "target": "≤ 150 ms", "rows": len(rows)}


def outbox_send_per_message(base) -> dict:
    from gandrange_desk.db import make_engine
    from gandrange_desk.models import OutboxMessage, OutboxStatus, SmtpSettings
    from gandrange_desk.services.context import SYSTEM, Desk
    from gandrange_desk.services.mail.sender import send_pending
    from gandrange_desk.services.mail.outbox import enqueue

    import subprocess
    import sys

    from base import ROOT

    per_message = []
    for _ in range(3):
        desk = Desk(make_engine(base.fresh_copy()), SYSTEM, base.now)
        with desk.unit_of_work() as s:
            # Only the benchmark's own messages are due.
            s.execute(OutboxMessage.__table__.update().values(status=OutboxStatus.SENT))
        relay = subprocess.Popen([sys.executable, "-c", RELAY], cwd=ROOT, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE, text=True)
        try:
            port = int(relay.stdout.readline())
            with desk.unit_of_work() as s:
                row = s.execute(select(SmtpSettings)).scalar_one_or_none() or SmtpSettings()
                row.host, row.port, row.security, row.user = "127.0.0.1", port, "none", ""
                row.sender, row.reply_to = "Périscolaire <periscolaire@example.org>", ""
                s.add(row)
            with desk.unit_of_work() as s:
                for i in range(N_SEND):
                    enqueue(s, desk, recipients=[f"parent{i}@example.org"], subject=f"Réservation acceptée {i}",
                            body_text="Bonjour,\n\nVotre demande a été acceptée.\n" * 5,
                            body_html="<p>Votre demande a été acceptée.</p>")
            started = time.perf_counter()
            report = send_pending(desk, timeout=10)
            elapsed = (time.perf_counter() - started) * 1000
            relay.stdin.write("count\n")
            relay.stdin.flush()
            received = int(relay.stdout.readline())
            assert report.sent == N_SEND == received, (report.sent, received)
        finally:
            relay.stdin.close()
            relay.wait(10)
        per_message.append(elapsed / N_SEND)
        desk.engine.dispose()
    return {"value": statistics.median(per_message), "unit": "ms", "target": "≤ 50 ms per message (local relay)",
            "messages": N_SEND}


RELAY = """
import sys
from tests.smtp_server import SmtpServer
with SmtpServer() as server:
    print(server.port, flush=True)
    for line in sys.stdin:
        print(len(server.received), flush=True)
"""


FIGURES = {
    "outbox_counts": outbox_counts,
    "outbox_list_2000": outbox_list_2000,
    "outbox_send_per_message": outbox_send_per_message,
}
