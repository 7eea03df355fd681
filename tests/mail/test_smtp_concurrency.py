"""Two `outbox send` processes at once on one outbox: every message delivered exactly once."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy import select

from gandrange_desk.models import OutboxMessage
from tests.smtp_server import SmtpServer
from tests.mail.test_mailer import configure, queue
import pytest

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

ROOT = Path(__file__).resolve().parents[2]


def test_two_sender_processes_never_send_twice(desk, db_url, clock):
    clock.set(2020, 1, 6, 9, 0)  # due for the subprocesses, which run on the real clock
    total = 30
    for i in range(total):
        queue(desk, subject=f"Message {i:02d}", recipients=[f"parent{i}@example.org"])
    with SmtpServer() as server:
        # Hold each DATA until both processes are connected: their claims then surely overlap.
        server.handler.barrier_clients = 2
        server.handler.barrier_timeout = 30
        configure(desk, server.port)
        command = [sys.executable, "-m", "gandrange_desk", "--db", db_url, "--json", "outbox", "send"]
        procs = [subprocess.Popen(command, cwd=ROOT, env=dict(os.environ), stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True) for _ in range(2)]
        outputs = [p.communicate(timeout=120) for p in procs]
    for proc, (out, err) in zip(procs, outputs):
        assert proc.returncode == 0, err
    reports = [json.loads(out) for out, _err in outputs]
    assert all(r["sent"] > 0 for r in reports), "both processes took part"
    assert sum(r["sent"] for r in reports) == total
    sent_ids = [m["id"] for r in reports for m in r["messages"]]
    assert len(sent_ids) == len(set(sent_ids)) == total

    with desk.read() as s:
        rows = s.execute(select(OutboxMessage)).scalars().all()
    assert {r.status for r in rows} == {"sent"}
    assert {r.attempts for r in rows} == {1}
    assert len({r.claimed_by for r in rows}) == 2
    received_ids = [r.message_id for r in server.received]
    assert len(received_ids) == total == len(set(received_ids))
    assert set(received_ids) == {r.message_id for r in rows}
    for r in server.received:  # each went to its own recipient, once
        number = int(r.message["Subject"].split()[-1])
        assert r.rcpt_tos == [f"parent{number}@example.org"]
