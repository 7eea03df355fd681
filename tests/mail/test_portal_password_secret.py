"""Temporary portal passwords are never stored in clear: the body keeps a placeholder filled at
send time from a secret erased once delivered; not shown in Courriels; not in backups."""

from __future__ import annotations

import sqlite3
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import func, select

from gandrange_desk.cli import main
from gandrange_desk.models import OutboxMessage, OutboxSecret, OutboxStatus, Structure
from gandrange_desk.services.families import file as fam
from gandrange_desk.services.families import portal as family_portal
from gandrange_desk.services.mail.outbox import cancel, message_detail
from gandrange_desk.services.system.backup import find_pg_dump
from tests.builders import make_family
from tests.mail.test_mailer import configure, queue, send
from tests.smtp_server import SmtpServer

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")


@pytest.fixture
def credentials(desk):
    with desk.unit_of_work() as s:
        s.add(Structure(name="Service Enfance-Jeunesse — Commune de Gandrange", phone="03 87 67 17 79",
                        portal_url="https://enfance-jeunesse-gandrange.leportailfamille.fr"))
    f = make_family(desk, "Weber", portal_state="to_create")
    family_portal.send_credentials(desk, f.id, fam.get_family(desk, f.id).version)
    with desk.read() as s:
        message = s.execute(select(OutboxMessage)).scalar_one()
        password = s.execute(select(OutboxSecret.value)).scalar_one()
    return message.id, password


def _secrets(desk) -> int:
    with desk.read() as s:
        return s.execute(select(func.count()).select_from(OutboxSecret)).scalar_one()


def test_the_password_is_filled_at_send_time_then_erased(desk, credentials):
    mid, password = credentials
    with desk.read() as s:
        row = s.get(OutboxMessage, mid)
    assert password not in row.body_text and "{{secret:password}}" in row.body_text
    detail = message_detail(desk, mid)
    assert password not in detail.body_text and "{{secret" not in detail.body_text
    assert "Mot de passe provisoire : •••••••• (masqué : seule la famille le reçoit)" in detail.body_text
    with SmtpServer() as server:
        configure(desk, server.port)
        report = send(desk)
    assert report.sent == 1
    received = server.received[0].message.get_body(("plain",)).get_content()
    assert f"Mot de passe provisoire : {password}" in received
    assert _secrets(desk) == 0  # delivered: the password lives in the family's mailbox only
    with desk.read() as s:
        assert password not in s.get(OutboxMessage, mid).body_text


def test_backups_leave_the_waiting_passwords_out(backend, desk, db_url, credentials, tmp_path, capsys):
    _mid, password = credentials
    out = tmp_path / "copie.backup"
    assert main(["--db", db_url, "backup", "--out", str(out)]) == 0
    assert _secrets(desk) == 1  # the base keeps it until the e-mail leaves
    if backend == "sqlite":
        copy = sqlite3.connect(out)
        try:
            assert copy.execute("SELECT count(*) FROM outbox_secret").fetchone() == (0,)
            assert copy.execute("SELECT count(*) FROM outbox_message").fetchone() == (1,)
        finally:
            copy.close()
    else:
        restore = str(Path(find_pg_dump()).with_name("pg_restore"))
        dump = subprocess.run([restore, "--data-only", "-f", "-", str(out)], capture_output=True, text=True,
                              check=True).stdout
        assert "outbox_message" in dump
    assert password.encode() not in out.read_bytes()


def test_a_lost_password_sets_its_message_aside_and_cancel_erases_it(desk, credentials):
    mid, _password = credentials
    other = queue(desk, subject="Réservation acceptée")
    with desk.unit_of_work() as s:
        s.query(OutboxSecret).delete()  # as after restoring a backup
    with SmtpServer() as server:
        configure(desk, server.port)
        report = send(desk)
    assert (report.sent, report.failed) == (1, 1)
    with desk.read() as s:
        row = s.get(OutboxMessage, mid)
        assert s.get(OutboxMessage, other).status == OutboxStatus.SENT
    assert row.status == OutboxStatus.FAILED and row.last_error.startswith("Mot de passe provisoire introuvable")
    assert "{{secret" not in server.received[0].data.decode("utf-8", "replace")


def test_cancelling_a_credentials_message_erases_its_password(desk, credentials):
    mid, _password = credentials
    cancel(desk, mid)
    assert _secrets(desk) == 0


def test_migration_takes_clear_passwords_out_of_older_bodies(tmp_path):
    from sqlalchemy import text

    from gandrange_desk.db import make_engine
    from gandrange_desk.services.system import schema

    engine = make_engine(f"sqlite:///{tmp_path / 'ancienne.sqlite3'}")
    schema.upgrade(engine, "0008")
    with engine.begin() as c:
        for i, status in enumerate(["sent", "pending"]):
            c.execute(text("INSERT INTO outbox_message (kind, recipients, subject, body_text, body_html, message_id, "
                           "status, attempts, last_error, created_at, related_requests) VALUES ('credentials', "
                           "'a@example.org', 'Vos identifiants', :body, '', :mid, :status, 0, '', "
                           "'2026-01-05 09:00:00+01:00', '')"),
                      {"body": "Identifiant : weber\nMot de passe provisoire : AbCd2345xy\n", "mid": f"<{i}@x>",
                       "status": status})
    schema.upgrade(engine)
    with engine.connect() as c:
        bodies = dict(c.execute(text("SELECT status, body_text FROM outbox_message")).all())
        kept = c.execute(text("SELECT name, value FROM outbox_secret")).all()
    engine.dispose()
    assert bodies["sent"] == "Identifiant : weber\nMot de passe provisoire : (envoyé à la famille, non conservé)\n"
    assert bodies["pending"] == "Identifiant : weber\nMot de passe provisoire : {{secret:password}}\n"
    assert kept == [("password", "AbCd2345xy")]
