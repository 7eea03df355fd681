"""The outbox read side and the `outbox` commands: lists, filters, counts, resend, exit codes."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from gandrange_desk.cli import main
from gandrange_desk.errors import DeskError, NotFound
from gandrange_desk.models import AuditEntry, OutboxStatus
from gandrange_desk.services.mail import sender as mailer
from gandrange_desk.services.mail import smtp_settings
from gandrange_desk.services.mail.outbox import (counts_text, list_messages, message_detail, outbox_counts,
                                            resend)
from tests.smtp_server import SMTP_TIMEOUT, SmtpServer, closed_port
from tests.mail.test_mailer import PDF, add_family, configure, queue, rows

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")


def _run(capsys, db_url, *args):
    code = main(["--db", db_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def past(clock):
    # Commands run on the real clock: messages queued "earlier" are due for them.
    clock.set(2026, 1, 5, 9, 0)
    return clock


def test_list_filters_detail_and_counts(desk, clock):
    family_id, recipients = add_family(desk)
    other_id, _ = add_family(desk, ref="F-0050", emails=("autre@example.org",))
    a = queue(desk, family_id, recipients, subject="Facture de novembre",
              attachments=[("Facture novembre 2026.pdf", "application/pdf", PDF)])
    clock.value += timedelta(days=2)
    b = queue(desk, other_id, ["autre@example.org"], subject="Réservation acceptée")
    assert [r.id for r in list_messages(desk)] == [b, a]  # newest first
    assert [r.id for r in list_messages(desk, family_id=family_id)] == [a]
    assert [r.id for r in list_messages(desk, family_ref="F-0050")] == [b]
    assert [r.id for r in list_messages(desk, date_from=clock().date())] == [b]
    assert [r.id for r in list_messages(desk, date_to=clock().date() - timedelta(days=1))] == [a]
    assert list_messages(desk, status="failed") == []
    with pytest.raises(DeskError, match="État de courriel inconnu : perdu"):
        list_messages(desk, status="perdu")
    with pytest.raises(NotFound, match="Famille introuvable : F-9999"):
        list_messages(desk, family_ref="F-9999")
    row = list_messages(desk, family_id=family_id)[0]
    assert (row.family_ref, row.family_name, row.attachment_count, row.status_label) == \
        ("F-0042", "Lefèvre", 1, "En attente")
    detail = message_detail(desk, a)
    assert detail.attachments == [("Facture novembre 2026.pdf", "application/pdf", len(PDF))]
    assert detail.message_id.startswith("<") and "a été acceptée" in detail.body_text
    assert outbox_counts(desk) == (2, 0)
    assert counts_text(2, 0) == "2 courriels en attente / 0 en échec"
    assert counts_text(1, 3) == "1 courriel en attente / 3 en échec"


def test_resend_a_failed_message(desk, clock):
    mid = queue(desk, subject="Adresse refusée", recipients=["inconnu@example.org"])
    with SmtpServer() as server:
        server.handler.rcpt_answers = {"inconnu@example.org": "550 5.1.1 User unknown"}
        configure(desk, server.port)
        mailer.send_pending(desk, timeout=SMTP_TIMEOUT)
        assert rows(desk)[mid].status == "failed"
        with pytest.raises(DeskError, match="seul un courriel en échec peut être renvoyé"):
            queue_id = queue(desk, subject="Autre")
            resend(desk, queue_id)
        clock.value += timedelta(minutes=10)
        row = resend(desk, mid)
        assert row.status == OutboxStatus.PENDING
        server.handler.rcpt_answers = {}  # the address was corrected at the provider
        report = mailer.send_pending(desk, timeout=SMTP_TIMEOUT)
    assert report.sent == 2
    assert [r.message_id for r in server.received].count(rows(desk)[mid].message_id) == 1
    with desk.read() as s:
        assert s.query(AuditEntry).filter_by(action="outbox_resend", entity_id=mid).count() == 1


def test_command_send_without_smtp_says_messages_wait(desk, db_url, past, capsys):
    queue(desk)
    queue(desk)
    code, out, err = _run(capsys, db_url, "outbox", "send")
    assert code == 1
    assert "Aucun serveur SMTP n'est configuré : 2 courriels attendent dans la boîte d'envoi." in err


def test_command_send_success_and_failures(desk, db_url, past, capsys):
    family_id, _ = add_family(desk, emails=("inconnu@example.org", "claire.lefevre@example.org"))
    queue(desk, family_id, ["claire.lefevre@example.org"], subject="Bon")
    with SmtpServer() as server:
        configure(desk, server.port)
        code, out, err = _run(capsys, db_url, "outbox", "send")
        assert (code, out.strip(), err) == (0, "1 courriel envoyé.", "")
        code, out, _ = _run(capsys, db_url, "outbox", "send")
        assert (code, out.strip()) == (0, "Aucun courriel à envoyer.")
        server.handler.rcpt_answers = {"inconnu@example.org": "550 5.1.1 User unknown"}
        queue(desk, family_id, ["inconnu@example.org"], subject="Refusé")
        queue(desk, family_id, ["claire.lefevre@example.org"], subject="Bon aussi")
        code, out, _ = _run(capsys, db_url, "outbox", "send")
    assert code == 1
    assert out.startswith("1 courriel envoyé, 1 en échec définitif.")
    assert "« Refusé » à inconnu@example.org : échec définitif — Destinataire refusé par le serveur : " \
           "inconnu@example.org (550 5.1.1 User unknown)" in out
    code, out, _ = _run(capsys, db_url, "outbox", "list", "--json", "--status", "failed")
    listed = json.loads(out)
    assert code == 0 and [m["subject"] for m in listed] == ["Refusé"]
    assert listed[0]["family_ref"] == "F-0042" and "550 5.1.1" in listed[0]["last_error"]
    code, out, _ = _run(capsys, db_url, "outbox", "list", "--family", "F-0042")
    assert code == 0 and out.strip().endswith("3 courriels.") and "Échec définitif" in out


def test_command_send_server_down_exits_non_zero(desk, db_url, past, capsys):
    queue(desk, subject="Attente")
    configure(desk, closed_port())
    code, out, _ = _run(capsys, db_url, "outbox", "send", "--timeout", "2")
    assert code == 1
    assert out.startswith("0 courriel envoyé, 1 en échec temporaire")
    assert "connexion refusée" in out and "nouvel essai le" in out


def test_command_password_missing_without_keyring(desk, db_url, past, capsys):
    queue(desk)
    configure(desk, closed_port(), user="periscolaire")
    code, _out, err = _run(capsys, db_url, "outbox", "send")
    assert code == 1
    assert "Aucun trousseau de mots de passe n'est disponible sur ce poste" in err
    assert "GANDRANGE_DESK_SMTP_PASSWORD" in err
    assert rows(desk) and {r.status for r in rows(desk).values()} == {"pending"}


def test_command_list_errors(desk, db_url, capsys):
    code, _out, err = _run(capsys, db_url, "outbox", "list", "--family", "F-9999")
    assert code == 1 and "Famille introuvable : F-9999." in err
    code, _out, err = _run(capsys, db_url, "outbox", "send", "--limit", "0")
    assert code == 1 and "--limit" in err
    code, out, _ = _run(capsys, db_url, "outbox", "list")
    assert code == 0 and out.strip() == "Aucun courriel."


def test_smtp_settings_form_roundtrip(desk, tmp_path):
    form = smtp_settings.SmtpForm(host="smtp.example.org", port=587, security="starttls", user="periscolaire",
                           sender="Périscolaire <periscolaire@example.org>", reply_to="")
    saved = smtp_settings.save_form(desk, form)
    assert (saved.host, saved.version) == ("smtp.example.org", 1)
    assert mailer.smtp_config(desk).envelope_from == "periscolaire@example.org"
    with pytest.raises(DeskError, match="Port : 70000"):
        smtp_settings.save_form(desk, smtp_settings.SmtpForm(host="x", port=70000, security="starttls", sender="a@b.fr",
                                               version=saved.version))
    stale = smtp_settings.SmtpForm(host="autre", port=25, security="none", sender="a@b.fr", version=0)
    with pytest.raises(DeskError, match="modifiée par systeme"):
        smtp_settings.save_form(desk, stale)
    assert smtp_settings.load_form(desk).host == "smtp.example.org"
