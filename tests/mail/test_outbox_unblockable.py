"""An outbox nothing can block: a message that cannot be built or is refused for good is set
aside with its reason, the others still go; the clerk corrects the address and resends, or
cancels; `outbox send` says what waits for a retry, `--now` retries it at once."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import update

from gandrange_desk.cli import main
from gandrange_desk.clock import PARIS
from gandrange_desk.errors import DeskError
from gandrange_desk.models import AuditEntry, OutboxMessage, OutboxStatus
from gandrange_desk.services.mail.outbox import cancel, list_messages, resend
from tests.mail.test_mailer import configure, queue, rows, send
from tests.smtp_server import SMTP_TIMEOUT, SmtpServer

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

EVIL = "a@b.fr\r\nBcc: x@evil.example"


def _run(capsys, db_url, *args):
    code = main(["--db", db_url, *args])
    out, err = capsys.readouterr()
    return code, out, err


def _bad_and_good(desk):
    good = [queue(desk, recipients=[f"parent{i}@example.org"], subject=f"Réservation acceptée {i}")
            for i in range(3)]
    crlf = queue(desk, recipients=[EVIL], subject="Adresse piégée")
    not_mail = queue(desk, recipients=["pas-un-courriel"], subject="Adresse sans arobase")
    subject = queue(desk, subject="Objet\r\nBcc: x@evil.example")
    return good, crlf, not_mail, subject


def test_a_message_that_cannot_be_built_is_set_aside_and_the_others_go(desk):
    good, crlf, not_mail, subject = _bad_and_good(desk)
    with SmtpServer() as server:
        configure(desk, server.port)
        report = send(desk)
        again = send(desk)
    assert sorted(r.rcpt_tos[0] for r in server.received) == [f"parent{i}@example.org" for i in range(3)]
    assert not any("evil" in r.data.decode("utf-8", "replace") for r in server.received)
    assert (report.sent, report.failed) == (3, 3)
    assert again.deliveries == []  # set aside for good: not retried behind the clerk's back
    stored = rows(desk)
    assert stored[crlf].status == OutboxStatus.FAILED
    assert stored[crlf].last_error == ("Adresse invalide : « a@b.fr\\r\\nBcc: x@evil.example » "
                                       "(caractère de contrôle ou retour à la ligne).")
    assert stored[not_mail].last_error == "Adresse invalide : « pas-un-courriel »."
    assert stored[subject].last_error.startswith("Objet invalide : « Objet\\r\\nBcc")
    assert all(stored[i].status == OutboxStatus.SENT for i in good)


def test_a_crash_while_sending_one_message_does_not_stop_the_batch(desk, monkeypatch):
    first = queue(desk, recipients=["un@example.org"], subject="Premier")
    second = queue(desk, recipients=["deux@example.org"], subject="Second")
    from gandrange_desk.services.mail import sender as mailer

    real = mailer.build_message

    def broken(row, config, *more):
        if row.id == first:
            raise LookupError("codec introuvable")
        return real(row, config, *more)

    monkeypatch.setattr(mailer, "build_message", broken)
    with SmtpServer() as server:
        configure(desk, server.port)
        report = send(desk)
    assert [r.rcpt_tos for r in server.received] == [["deux@example.org"]]
    assert (report.sent, report.failed) == (1, 1)
    assert rows(desk)[first].last_error == "Courriel impossible à construire : codec introuvable"
    assert rows(desk)[second].status == OutboxStatus.SENT


def test_the_clerk_corrects_the_address_and_resends_or_cancels(desk):
    _good, crlf, not_mail, subject = _bad_and_good(desk)
    with SmtpServer() as server:
        configure(desk, server.port)
        send(desk)
        with pytest.raises(DeskError, match="Adresse invalide : « encore faux »"):
            resend(desk, crlf, recipients="encore faux")
        assert rows(desk)[crlf].recipients == EVIL  # nothing written on a bad correction
        row = resend(desk, crlf, recipients=" claire.lefevre@example.org ; paul@example.org ")
        assert (row.status, row.recipients) == (OutboxStatus.PENDING, "claire.lefevre@example.org, paul@example.org")
        cancelled = cancel(desk, not_mail)
        assert cancelled.status == OutboxStatus.CANCELLED and cancelled.status_label == "Annulé"
        report = send(desk)
    assert (report.sent, report.failed) == (1, 0)
    assert server.received[-1].rcpt_tos == ["claire.lefevre@example.org", "paul@example.org"]
    assert rows(desk)[not_mail].status == OutboxStatus.CANCELLED
    with pytest.raises(DeskError, match="seul un courriel en attente ou en échec peut être annulé"):
        cancel(desk, crlf)  # already sent
    assert [r.id for r in list_messages(desk, status="cancelled")] == [not_mail]
    with desk.read() as s:
        entry = s.query(AuditEntry).filter_by(action="outbox_resend", entity_id=crlf).one()
        assert s.query(AuditEntry).filter_by(action="outbox_cancel", entity_id=not_mail).count() == 1
    assert "paul@example.org" in entry.after and "evil" in entry.before


def test_commands_list_resend_and_cancel(desk, db_url, capsys, clock):
    clock.set(2026, 1, 5, 9, 0)  # commands run on the real clock: these are due for them
    _good, crlf, not_mail, _subject = _bad_and_good(desk)
    with SmtpServer() as server:
        configure(desk, server.port)
        code, out, _err = _run(capsys, db_url, "outbox", "send", "--timeout", str(SMTP_TIMEOUT))
        assert code == 1
        assert "3 courriels envoyés, 3 en échec définitif." in out
        assert "a@b.fr\\r\\nBcc: x@evil.example" in out and "\r\nBcc" not in out
        assert "outbox resend N° --to ADRESSE" in out
        code, out, _err = _run(capsys, db_url, "outbox", "list", "--status", "failed")
        assert code == 0 and "3 courriels." in out
        assert "Adresse invalide : « pas-un-courriel »." in out
        code, _out, err = _run(capsys, db_url, "outbox", "resend", str(crlf), "--to", "faux")
        assert (code, err.strip()) == (1, "Adresse invalide : « faux ».")
        code, out, _err = _run(capsys, db_url, "outbox", "resend", str(crlf), "--to", "claire@example.org")
        assert code == 0 and f"Courriel n° {crlf} remis en file (en attente) : claire@example.org" in out
        code, out, _err = _run(capsys, db_url, "outbox", "cancel", str(not_mail))
        assert code == 0 and f"Courriel n° {not_mail} annulé (annulé)" in out
        code, out, _err = _run(capsys, db_url, "outbox", "send", "--timeout", str(SMTP_TIMEOUT))
    assert code == 0 and out.startswith("1 courriel envoyé.")
    assert server.received[-1].rcpt_tos == ["claire@example.org"]


def test_send_says_how_many_wait_for_a_retry_and_now_retries_them(desk, db_url, capsys, clock):
    # Queued and refused "now" on the real clock, so that their retry lies in the command's future.
    clock.value = datetime.now(PARIS).replace(microsecond=0)
    ids = [queue(desk, recipients=[f"parent{i}@example.org"], subject=f"Facture {i}") for i in range(10)]
    with SmtpServer() as server:
        configure(desk, server.port)
        server.handler.data_script = ["451 4.3.0 Try again later"] * 10
        report = send(desk)
        assert report.temp_failed == 10 and report.later == 10
        code, out, _err = _run(capsys, db_url, "outbox", "send", "--timeout", str(SMTP_TIMEOUT))
        assert code == 0
        assert out.startswith("Aucun courriel à envoyer maintenant.\n10 courriels attendent un nouvel essai, "
                              "le prochain le ")
        assert "« gandrange-desk outbox send --now » les réessaie tout de suite." in out
        assert len(server.received) == 0
        code, out, _err = _run(capsys, db_url, "outbox", "send", "--now", "--timeout", str(SMTP_TIMEOUT))
    assert code == 0 and out.strip() == "10 courriels envoyés."
    assert len(server.received) == 10
    assert all(m.status == OutboxStatus.SENT for i, m in rows(desk).items() if i in ids)


def test_now_leaves_held_decision_emails_held(desk, clock):
    from datetime import timedelta

    held = queue(desk, subject="Décision retenue")
    with desk.unit_of_work() as s:
        s.execute(update(OutboxMessage).where(OutboxMessage.id == held)
                  .values(announce_key="decision:1:1", next_attempt_at=clock() + timedelta(minutes=5)))
    with SmtpServer() as server:
        configure(desk, server.port)
        report = send(desk, now=True)
    assert report.deliveries == [] and report.later == 1
    assert rows(desk)[held].status == OutboxStatus.PENDING


def test_window_corrects_the_address_and_cancels(qtbot, desk, monkeypatch):
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QInputDialog, QMessageBox

    from gandrange_desk.ui.mail.view import MailView

    _good, crlf, not_mail, _subject = _bad_and_good(desk)
    with SmtpServer() as server:
        configure(desk, server.port)
        send(desk)
        view = MailView(desk)
        qtbot.addWidget(view)
        view.status_filter.setCurrentIndex(view.status_filter.findText("Échec définitif"))
        assert len(view.model.rows) == 3
        view.table.setCurrentIndex(view.model.index_of(crlf))
        assert view.model.data(view.model.index_of(crlf).siblingAtColumn(2)) == "a@b.fr\\r\\nBcc: x@evil.example"
        assert "caractère de contrôle" in view.detail.error.text()
        assert view.detail.correct_button.isEnabled() and view.detail.cancel_button.isEnabled()
        asked = []
        monkeypatch.setattr(QInputDialog, "getText",
                            lambda parent, title, label, mode, text: (asked.append(text), ("claire@example.org", True))[1])
        qtbot.mouseClick(view.detail.correct_button, Qt.LeftButton)
        assert asked == ["a@b.fr\\r\\nBcc: x@evil.example"]
        assert rows(desk)[crlf].recipients == "claire@example.org"
        assert rows(desk)[crlf].status in (OutboxStatus.PENDING, OutboxStatus.SENT)
        view.refresh()
        view.table.setCurrentIndex(view.model.index_of(not_mail))
        monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
        qtbot.mouseClick(view.detail.cancel_button, Qt.LeftButton)
        assert rows(desk)[not_mail].status == OutboxStatus.CANCELLED
        assert not view.detail.cancel_button.isEnabled()
        send(desk)
    assert rows(desk)[crlf].status == OutboxStatus.SENT
    assert server.received[-1].rcpt_tos == ["claire@example.org"]
