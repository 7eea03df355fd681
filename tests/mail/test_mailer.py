"""Delivery against a real SMTP server (aiosmtpd on loopback): what arrives, what the outbox says."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from gandrange_desk.models import AppSetting, AuditEntry, Family, Guardian, OutboxMessage, SmtpSettings
from gandrange_desk.services.mail import sender as mailer
from gandrange_desk.services.system import secrets
from gandrange_desk.services.mail.sender import SmtpNotConfigured, SmtpPasswordMissing, send_pending
from gandrange_desk.services.mail.outbox import enqueue, family_recipients, outbox_counts
from tests.smtp_server import DROP, SMTP_TIMEOUT, SmtpServer, closed_port

SENDER = "Périscolaire Gandrange <periscolaire@mairie-gandrange.example>"
REPLY_TO = "Bureau périscolaire <bureau@mairie-gandrange.example>"
PDF = b"%PDF-1.4\n% facture de test\n%%EOF\n"


def configure(desk, port, *, security="none", user="", ca_file=""):
    with desk.unit_of_work() as s:
        row = s.execute(select(SmtpSettings)).scalar_one_or_none() or SmtpSettings()
        row.host, row.port, row.security, row.user = "127.0.0.1", port, security, user
        row.sender, row.reply_to = SENDER, REPLY_TO
        s.add(row)
        if ca_file:
            s.merge(AppSetting(key=mailer.CA_FILE_KEY, value=str(ca_file)))


def add_family(desk, ref="F-0042", emails=("claire.lefevre@example.org",)):
    with desk.unit_of_work() as s:
        family = Family(ref=ref, name="Lefèvre")
        for i, email in enumerate(emails):
            family.guardians.append(Guardian(first_name="Claire", last_name="Lefèvre", email=email, position=i))
        s.add(family)
        s.flush()
        return family.id, family_recipients(family)


def queue(desk, family_id=None, recipients=("claire.lefevre@example.org",), subject="Demande acceptée", **kw):
    with desk.unit_of_work() as s:
        message = enqueue(s, desk, recipients=list(recipients), subject=subject, family_id=family_id,
                          body_text=kw.pop("body_text", "Bonjour,\n\nVotre demande a été acceptée.\n"), **kw)
        s.flush()
        return message.id


def rows(desk):
    with desk.read() as s:
        return {m.id: m for m in s.execute(select(OutboxMessage)).scalars()}


def send(desk, **kw):
    kw.setdefault("timeout", SMTP_TIMEOUT)
    return send_pending(desk, **kw)


def test_normal_delivery_headers_bodies_accents_attachment(desk, clock):
    family_id, recipients = add_family(desk, emails=("claire.lefevre@example.org", "Paul.Lefevre@example.org"))
    html = "<p>Nous vous informons que votre demande a été <b>acceptée</b>.</p>"
    text = ("Bonjour,\n\nNous vous informons que votre demande de réservation concernant Service "
            "Enfance-Jeunesse pour la prestation PÉRISCOLAIRE a été acceptée.\n\nRepas\n"
            "1 réservation acceptée le : 13/03\n")
    mid = queue(desk, family_id, recipients, subject="Réservation acceptée — PÉRISCOLAIRE (Noël à l'école)",
                body_text=text, body_html=html, kind="acceptance",
                attachments=[("Facture novembre 2026 — Lefèvre.pdf", "application/pdf", PDF)])
    created = rows(desk)[mid]
    clock.value += timedelta(minutes=3)
    with SmtpServer() as server:
        configure(desk, server.port)
        report = send(desk)
        again = send(desk)
    assert (report.sent, report.temp_failed, report.failed, report.ok) == (1, 0, 0, True)
    assert again.deliveries == []
    assert len(server.received) == 1
    got = server.received[0]
    assert got.mail_from == "periscolaire@mairie-gandrange.example"
    assert sorted(got.rcpt_tos) == ["Paul.Lefevre@example.org", "claire.lefevre@example.org"]
    raw_headers = got.data.split(b"\r\n\r\n", 1)[0]
    assert raw_headers.isascii()  # accents travel as RFC 2047 encoded words
    msg = got.message
    assert msg["Subject"] == "Réservation acceptée — PÉRISCOLAIRE (Noël à l'école)"
    assert msg["From"].addresses[0].display_name == "Périscolaire Gandrange"
    assert msg["Reply-To"].addresses[0].addr_spec == "bureau@mairie-gandrange.example"
    assert msg["Message-ID"] == created.message_id
    assert msg["Date"].datetime == created.created_at
    assert msg.get_content_type() == "multipart/mixed"
    assert msg.get_body(("plain",)).get_content().replace("\r\n", "\n") == text
    assert msg.get_body(("html",)).get_content().strip() == html
    [attachment] = list(msg.iter_attachments())
    assert attachment.get_filename() == "Facture novembre 2026 — Lefèvre.pdf"
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content() == PDF
    row = rows(desk)[mid]
    assert (row.status, row.attempts, row.sent_at, row.last_error) == ("sent", 1, clock(), "")
    assert outbox_counts(desk) == (0, 0)


def test_server_down_then_back_with_growing_delays(desk, clock):
    ids = [queue(desk, subject=f"Message {i}") for i in range(3)]
    configure(desk, closed_port())
    start = clock()
    report = send(desk)
    assert (report.sent, report.temp_failed) == (0, 3)
    assert "connexion refusée" in report.problem
    for row in rows(desk).values():
        assert (row.status, row.attempts, row.next_attempt_at) == ("temp_failed", 1, start + timedelta(minutes=1))
        assert "injoignable" in row.last_error
    assert outbox_counts(desk) == (3, 0)
    # Not due yet: nothing is even claimed.
    clock.value += timedelta(seconds=30)
    assert send(desk).deliveries == []
    delays = []
    for _ in range(3):
        clock.value = rows(desk)[ids[0]].next_attempt_at
        before = clock()
        send(desk)
        delays.append(rows(desk)[ids[0]].next_attempt_at - before)
    assert delays == [timedelta(minutes=5), timedelta(minutes=15), timedelta(hours=1)]
    clock.value = rows(desk)[ids[0]].next_attempt_at
    with SmtpServer() as server:
        configure(desk, server.port)
        report = send(desk)
    assert report.sent == 3 and report.ok
    assert sorted(r.message_id for r in server.received) == sorted(r.message_id for r in rows(desk).values())
    assert {r.status for r in rows(desk).values()} == {"sent"}
    assert {r.attempts for r in rows(desk).values()} == {5}


@pytest.mark.parametrize("answer", ["421 4.3.2 Service shutting down, try later", "451 4.3.0 Local error in processing"])
def test_temporary_answers_are_retried_once_delivered(desk, clock, answer):
    first, second = queue(desk, subject="Premier"), queue(desk, subject="Second")
    with SmtpServer() as server:
        configure(desk, server.port)
        server.handler.data_script = [answer]
        report = send(desk)
        assert (report.sent, report.temp_failed, report.failed) == (1, 1, 0)
        row = rows(desk)[first]
        assert row.status == "temp_failed" and answer.split(",")[0] in row.last_error
        assert row.next_attempt_at == clock() + timedelta(minutes=1)
        assert [r.message["Subject"] for r in server.received] == ["Second"]
        clock.value += timedelta(minutes=1)
        report = send(desk)
    assert report.sent == 1
    assert sorted(r.message["Subject"] for r in server.received) == ["Premier", "Second"]
    assert rows(desk)[first].status == rows(desk)[second].status == "sent"
    assert rows(desk)[first].attempts == 2


def test_550_is_final_keeps_answer_and_marks_address_doubtful(desk, clock):
    family_id, _ = add_family(desk, emails=("inconnu@example.org", "claire.lefevre@example.org"))
    bad_only = queue(desk, family_id, ["inconnu@example.org"], subject="Refusé")
    mixed = queue(desk, family_id, ["inconnu@example.org", "claire.lefevre@example.org"], subject="Mixte")
    answer = "550 5.1.1 <inconnu@example.org>: Recipient address rejected: User unknown"
    with SmtpServer() as server:
        server.handler.rcpt_answers = {"inconnu@example.org": answer}
        configure(desk, server.port)
        report = send(desk)
        clock.value += timedelta(days=1)
        assert send(desk).deliveries == []  # a final failure is never retried by itself
    assert (report.sent, report.failed, report.ok) == (1, 1, False)
    failed = rows(desk)[bad_only]
    assert failed.status == "failed" and failed.next_attempt_at is None
    assert answer in failed.last_error
    assert rows(desk)[mixed].status == "sent" and "inconnu@example.org" in rows(desk)[mixed].last_error
    assert [r.rcpt_tos for r in server.received] == [["claire.lefevre@example.org"]]
    with desk.read() as s:
        flags = {g.email: g.email_doubtful for g in s.execute(select(Guardian)).scalars()}
        audits = s.execute(select(AuditEntry).where(AuditEntry.action == "email_doubtful")).scalars().all()
    assert flags == {"inconnu@example.org": True, "claire.lefevre@example.org": False}
    assert len(audits) == 1 and audits[0].family_id == family_id
    assert outbox_counts(desk) == (0, 1)


def test_connection_dropped_during_data_is_retried_not_lost(desk, clock):
    mid = queue(desk, subject="Coupure")
    with SmtpServer() as server:
        server.handler.data_script = [DROP]
        configure(desk, server.port)
        report = send(desk)
        assert report.temp_failed == 1 and server.received == []
        row = rows(desk)[mid]
        assert row.status == "temp_failed" and "coupé la connexion" in row.last_error
        clock.value += timedelta(minutes=1)
        assert send(desk).sent == 1
    assert len(server.received) == 1 and server.received[0].message_id == row.message_id
    assert rows(desk)[mid].status == "sent"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_auth_wrong_then_right_password(desk, clock, monkeypatch):
    mid = queue(desk, subject="Avec mot de passe")
    with SmtpServer(auth=("periscolaire", "bon-mot-de-passe")) as server:
        configure(desk, server.port, user="periscolaire")
        # No keyring backend here, no variable: the command says where to put the password.
        with pytest.raises(SmtpPasswordMissing, match="Aucun trousseau"):
            send(desk)
        assert rows(desk)[mid].status == "pending"
        monkeypatch.setenv(secrets.ENV_SMTP_PASSWORD, "mauvais")
        report = send(desk)
        assert report.released == 1 and report.sent == 0 and "refusé" in report.problem
        row = rows(desk)[mid]
        assert (row.status, row.attempts) == ("pending", 0) and "535" in row.last_error
        assert server.received == []
        monkeypatch.setenv(secrets.ENV_SMTP_PASSWORD, "bon-mot-de-passe")
        report = send(desk)  # no back-off: the message was never at fault
    assert report.sent == 1 and len(server.received) == 1
    assert rows(desk)[mid].status == "sent"


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_session_password_from_window(desk):
    mid = queue(desk)
    with SmtpServer(auth=("periscolaire", "secret-session")) as server:
        configure(desk, server.port, user="periscolaire")
        assert secrets.set_smtp_password("periscolaire", "127.0.0.1", "secret-session") is False
        try:
            assert send(desk).sent == 1
        finally:
            secrets.forget_session()
    assert rows(desk)[mid].status == "sent" and len(server.received) == 1


def test_starttls_with_self_signed_certificate_trusted_explicitly(desk, clock, tmp_path):
    from tests.smtp_server import make_self_signed, server_tls_context

    cert, key = make_self_signed(tmp_path)
    mid = queue(desk, subject="Chiffré")
    with SmtpServer(starttls=server_tls_context(cert, key), auth=("periscolaire", "tls-secret")) as server:
        # Not trusted: refused, nothing sent, retried later.
        configure(desk, server.port, security="starttls", user="periscolaire")
        report = send(desk, password="tls-secret")
        assert report.temp_failed == 1 and "Certificat" in report.problem
        assert server.received == []
        configure(desk, server.port, security="starttls", user="periscolaire", ca_file=cert)
        clock.value += timedelta(minutes=1)
        report = send(desk, password="tls-secret")
    assert report.sent == 1 and len(server.received) == 1
    assert rows(desk)[mid].status == "sent"


def test_implicit_tls(desk, clock, tmp_path):
    from tests.smtp_server import make_self_signed, server_tls_context

    cert, key = make_self_signed(tmp_path)
    queue(desk, subject="TLS implicite")
    with SmtpServer(implicit_tls=server_tls_context(cert, key)) as server:
        configure(desk, server.port, security="ssl")
        report = send(desk)  # certificates are verified: an unknown one is refused
        assert report.temp_failed == 1 and "Certificat du serveur SMTP" in report.problem
        configure(desk, server.port, security="ssl", ca_file=cert)
        clock.value += timedelta(minutes=1)
        assert send(desk).sent == 1
    assert server.received[0].message["Subject"] == "TLS implicite"


def test_stale_claim_returns_to_queue(desk, clock):
    mid = queue(desk)
    assert mailer.claim_batch(desk, 10, "poste-arrete:4242") == [mid]
    with SmtpServer() as server:
        configure(desk, server.port)
        clock.value += timedelta(minutes=5)
        assert send(desk).deliveries == []  # still someone else's claim
        clock.value += timedelta(minutes=6)
        report = send(desk)
    assert report.requeued_stale == 1 and report.sent == 1 and len(server.received) == 1
    assert rows(desk)[mid].status == "sent"


def test_gives_up_after_max_attempts(desk, clock):
    mid = queue(desk)
    configure(desk, closed_port())
    for _ in range(mailer.MAX_ATTEMPTS):
        send(desk)
        clock.value += timedelta(hours=6)
    row = rows(desk)[mid]
    assert row.status == "failed" and row.attempts == mailer.MAX_ATTEMPTS
    assert row.last_error.startswith(f"Abandon après {mailer.MAX_ATTEMPTS} tentatives")


def test_no_smtp_configured_messages_wait(desk):
    mid = queue(desk)
    with pytest.raises(SmtpNotConfigured, match="1 courriel attend dans la boîte d'envoi"):
        send(desk)
    assert rows(desk)[mid].status == "pending"


def test_limit_caps_one_run(desk):
    for i in range(5):
        queue(desk, subject=f"M{i}")
    with SmtpServer() as server:
        configure(desk, server.port)
        assert send(desk, limit=2, batch_size=10).sent == 2
        assert send(desk).sent == 3
    assert len({r.message_id for r in server.received}) == 5 == len(server.received)


def test_recipient_deferred_with_4xx_gets_it_later_others_not_twice(desk, clock):
    mid = queue(desk, recipients=["claire.lefevre@example.org", "paul.lefevre@example.org"], subject="Deux")
    with SmtpServer() as server:
        server.handler.rcpt_answers = {"paul.lefevre@example.org": "450 4.2.1 Mailbox busy"}
        configure(desk, server.port)
        report = send(desk)
        assert report.temp_failed == 1
        row = rows(desk)[mid]
        assert row.status == "temp_failed" and row.recipients == "paul.lefevre@example.org"
        assert "Envoyé à claire.lefevre@example.org" in row.last_error and "450 4.2.1" in row.last_error
        server.handler.rcpt_answers = {}
        clock.value += timedelta(minutes=1)
        assert send(desk).sent == 1
    assert [r.rcpt_tos for r in server.received] == [["claire.lefevre@example.org"], ["paul.lefevre@example.org"]]
    assert len({r.message_id for r in server.received}) == 1  # one message, each recipient once
    assert rows(desk)[mid].status == "sent"


def test_cancelled_run_hands_untried_claims_back(desk):
    import threading

    from gandrange_desk.services.progress import Cancelled, Progress

    for i in range(4):
        queue(desk, subject=f"M{i}")
    cancel = threading.Event()
    seen = []

    def step(done, total, label):
        seen.append(done)
        if done == 2:
            cancel.set()

    with SmtpServer() as server:
        configure(desk, server.port)
        with pytest.raises(Cancelled):
            send(desk, progress=Progress(cancel, step))
    assert len(server.received) == 2
    assert sorted(r.status for r in rows(desk).values()) == ["pending", "pending", "sent", "sent"]
    assert all(r.claimed_by is None for r in rows(desk).values() if r.status == "pending")


def test_accented_address_needs_smtputf8(desk):
    ok = queue(desk, recipients=["élodie.muller@exemple.fr"], subject="Adresse accentuée")
    with SmtpServer() as server:
        configure(desk, server.port)
        assert send(desk).sent == 1
    assert server.received[0].rcpt_tos == ["élodie.muller@exemple.fr"]
    assert rows(desk)[ok].status == "sent"

    refused = queue(desk, recipients=["zoé@exemple.fr"], subject="Sans SMTPUTF8")
    with SmtpServer(smtputf8=False) as server:  # a relay without SMTPUTF8: final, not endless retries
        configure(desk, server.port)
        report = send(desk)
    assert report.failed == 1 and server.received == []
    assert "SMTPUTF8" in rows(desk)[refused].last_error and rows(desk)[refused].status == "failed"


def test_starttls_required_but_not_offered(desk):
    mid = queue(desk)
    with SmtpServer() as server:
        configure(desk, server.port, security="starttls")
        report = send(desk)
    assert report.temp_failed == 1 and "ne propose pas STARTTLS" in report.problem
    assert server.received == [] and rows(desk)[mid].status == "temp_failed"
