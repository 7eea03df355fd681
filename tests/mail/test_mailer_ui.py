"""The Courriels view, the background sender, the SMTP dialog and the family's Courriels tab."""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt

from gandrange_desk.models import OutboxStatus
from gandrange_desk.services.mail import sender as mailer
from gandrange_desk.services.system import secrets
from gandrange_desk.ui.families.mail_list import FamilyMailList
from gandrange_desk.ui.mail.sender import MailSender
from gandrange_desk.ui.mail.view import MailView
from gandrange_desk.ui.mail.smtp_dialog import SmtpDialog
from tests.smtp_server import SMTP_TIMEOUT, SmtpServer, closed_port
from tests.mail.test_mailer import PDF, add_family, configure, queue, rows

SHOTS = Path(os.environ.get("GD_SHOTS", "/tmp/mail"))


def shot(widget, name, size=(1400, 850)):
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.resize(*size)
    widget.grab().save(str(SHOTS / f"{name}.png"))


@pytest.fixture
def mailbox(desk, clock):
    """Two families, one message sent, one failed for good, one waiting."""
    lefevre, rec = add_family(desk, emails=("claire.lefevre@example.org", "inconnu@example.org"))
    martin, _ = add_family(desk, ref="F-0050", emails=("paul.martin@example.org",))
    queue(desk, lefevre, ["claire.lefevre@example.org"], subject="Réservation acceptée — PÉRISCOLAIRE",
          body_text="Bonjour,\n\nNous vous informons que votre demande de réservation a été acceptée.\n\n"
                    "Repas\n2 réservations acceptées les : 13/03, 16/03\n")
    queue(desk, lefevre, ["inconnu@example.org"], subject="Facture de novembre 2026",
          attachments=[("Facture novembre 2026 — Lefèvre.pdf", "application/pdf", PDF)])
    with SmtpServer() as server:
        server.handler.rcpt_answers = {"inconnu@example.org": "550 5.1.1 <inconnu@example.org>: User unknown"}
        configure(desk, server.port)
        mailer.send_pending(desk, timeout=SMTP_TIMEOUT)
    clock.value += timedelta(hours=2)
    queue(desk, martin, ["paul.martin@example.org"], subject="Annulation acceptée — MERCREDI")
    return {"lefevre": lefevre, "martin": martin}


def test_mail_view_filters_detail_and_resend(qtbot, desk, mailbox):
    view = MailView(desk)
    qtbot.addWidget(view)
    assert view.model.rowCount() == 3
    assert view.summary.text() == "3 courriels affichés — 1 courriel en attente / 1 en échec"
    assert not view.banner.isVisible()
    view.status_filter.setCurrentIndex(view.status_filter.findText("Échec définitif"))
    assert [r.subject for r in view.model.rows] == ["Facture de novembre 2026"]
    view.table.setCurrentIndex(view.model.index(0, 0))
    headers = view.detail.headers.text()
    assert "inconnu@example.org" in headers and "Facture novembre 2026 — Lefèvre.pdf" in headers
    assert "550 5.1.1" in view.detail.error.text()
    assert view.detail.resend_button.isEnabled()
    shot(view, "mail_view_failed")
    qtbot.mouseClick(view.detail.resend_button, Qt.LeftButton)
    assert view.model.rows == []  # no longer failed
    view.status_filter.setCurrentIndex(0)
    view.family_filter.setText("martin")
    view.family_filter.returnPressed.emit()
    assert [r.subject for r in view.model.rows] == ["Annulation acceptée — MERCREDI"]
    view.family_filter.clear()
    statuses = {r.subject: r.status for r in view.model.rows}
    assert statuses["Facture de novembre 2026"] == OutboxStatus.PENDING
    view.table.setCurrentIndex(view.model.index_of(rows_by_subject(desk)["Réservation acceptée — PÉRISCOLAIRE"]))
    assert "2 réservations acceptées les : 13/03, 16/03" in view.detail.body.toPlainText()
    assert not view.detail.resend_button.isEnabled()
    shot(view, "mail_view")


def rows_by_subject(desk):
    return {r.subject: r.id for r in rows(desk).values()}


def test_mail_view_says_when_no_smtp_is_configured(qtbot, desk):
    queue(desk)
    view = MailView(desk)
    qtbot.addWidget(view)
    view.show()
    assert view.banner.isVisible()
    assert view.banner_text.text().startswith("Aucun serveur SMTP n'est configuré : les courriels restent")
    assert "1 courriel en attente" in view.banner_text.text()
    shot(view, "mail_view_no_smtp")


def test_background_sender_delivers_off_the_ui_thread(qtbot, desk, monkeypatch):
    queue(desk, subject="Par le fil d'envoi")
    queue(desk, subject="Second")
    import threading

    sender = MailSender(desk, interval_ms=3_600_000, timeout=SMTP_TIMEOUT)
    threads = []
    real_send = mailer.send_pending

    def spy(*args, **kw):
        threads.append(threading.current_thread())
        return real_send(*args, **kw)

    monkeypatch.setattr(mailer, "send_pending", spy)
    counts = []
    sender.countsChanged.connect(lambda w, f: counts.append((w, f)))
    try:
        with SmtpServer() as server:
            configure(desk, server.port)
            with qtbot.waitSignal(sender.sendFinished, timeout=20_000) as blocker:
                sender.start()
            report = blocker.args[0]
            assert report.sent == 2 and len(server.received) == 2
            qtbot.waitUntil(lambda: counts and counts[-1] == (0, 0), timeout=5_000)
            assert sender.status_text() == "0 courriel en attente / 0 en échec"
            assert threads and threads[0] is not threading.main_thread()
    finally:
        sender.stop()


def test_background_sender_reports_missing_smtp_and_password(qtbot, desk):
    queue(desk)
    sender = MailSender(desk, interval_ms=3_600_000, timeout=SMTP_TIMEOUT, ask_password=False)
    try:
        with qtbot.waitSignal(sender.problemChanged, timeout=20_000) as blocker:
            sender.send_now()
        assert blocker.args[0].startswith("Aucun serveur SMTP n'est configuré : 1 courriel attend")
        assert (sender.waiting, sender.failed) == (1, 0)
        configure(desk, closed_port(), user="periscolaire")
        with qtbot.waitSignal(sender.problemChanged, timeout=20_000) as blocker:
            sender.send_now()
        assert "Aucun trousseau de mots de passe" in blocker.args[0]
        assert sender.problem_kind == "password"
    finally:
        sender.stop()


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_smtp_dialog_saves_and_sends_a_test(qtbot, desk):
    dialog = SmtpDialog(desk)
    qtbot.addWidget(dialog)
    assert "Aucun trousseau sur ce poste" not in dialog.password_note.text()  # no user yet: no password
    with SmtpServer(auth=("periscolaire", "secret")) as server:
        dialog.host.setText("127.0.0.1")
        dialog.security.setCurrentIndex(dialog.security.findData("none"))
        assert dialog.port.value() == 25
        dialog.port.setValue(server.port)
        dialog.user.setText("periscolaire")
        assert "gardé pour cette session seulement" in dialog.password_note.text()
        dialog.password.setText("secret")
        dialog.sender.setText("Périscolaire Gandrange <periscolaire@mairie-gandrange.example>")
        dialog.test_to.setText("essai@example.org")
        shot(dialog, "smtp_dialog", (620, 520))
        qtbot.mouseClick(dialog.test_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=20_000)
        assert dialog.test_result.text() == f"Courriel de test envoyé à essai@example.org par 127.0.0.1:{server.port}."
        assert server.received[0].message["Subject"] == "Gandrange Desk — courriel de test"
        shot(dialog, "smtp_dialog_tested", (620, 520))
        dialog.password.setText("faux")
        qtbot.mouseClick(dialog.test_button, Qt.LeftButton)
        qtbot.waitUntil(lambda: dialog.test_button.isEnabled(), timeout=20_000)
        assert dialog.test_result.text().startswith("Identifiant ou mot de passe SMTP refusé par le serveur (535")
        dialog.password.setText("secret")
        try:
            dialog.save()
            config = mailer.smtp_config(desk)
            assert (config.host, config.port, config.security, config.user) == \
                ("127.0.0.1", server.port, "none", "periscolaire")
            assert secrets.smtp_password_source("periscolaire", "127.0.0.1") == "session"
        finally:
            secrets.forget_session()


def test_family_mail_list(qtbot, desk, mailbox):
    widget = FamilyMailList(desk, mailbox["lefevre"])
    qtbot.addWidget(widget)
    assert [r.subject for r in widget.model.rows] == ["Facture de novembre 2026", "Réservation acceptée — PÉRISCOLAIRE"]
    assert widget.summary.text() == "2 courriels — 1 en échec définitif"
    assert widget.table.isColumnHidden(1)
    assert widget.detail.resend_button.isEnabled()
    shot(widget, "family_mail_list", (1000, 560))
    with qtbot.waitSignal(widget.resent, timeout=2_000):
        qtbot.mouseClick(widget.detail.resend_button, Qt.LeftButton)
    assert widget.summary.text() == "2 courriels — 1 en attente"
    widget.set_family(mailbox["martin"])
    assert [r.subject for r in widget.model.rows] == ["Annulation acceptée — MERCREDI"]
    widget.set_family(None)
    assert widget.summary.text() == "Aucun courriel pour cette famille."


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_window_asks_for_the_password_and_keeps_it_for_the_session(qtbot, desk, monkeypatch):
    from gandrange_desk.ui.mail import sender as mail_sender

    asked = []

    def fake_get_text(parent, title, label, echo):
        asked.append(label)
        return "secret-fenetre", True

    monkeypatch.setattr(mail_sender.QInputDialog, "getText", staticmethod(fake_get_text))
    queue(desk, subject="Après saisie du mot de passe")
    sender = MailSender(desk, interval_ms=3_600_000, timeout=SMTP_TIMEOUT)
    try:
        with SmtpServer(auth=("periscolaire", "secret-fenetre")) as server:
            configure(desk, server.port, user="periscolaire")
            sender.send_now()
            qtbot.waitUntil(lambda: len(server.received) == 1, timeout=20_000)
            qtbot.waitUntil(lambda: not sender.busy, timeout=10_000)
        assert len(asked) == 1 and "gardé pour cette session seulement" in asked[0]
        assert secrets.smtp_password_source("periscolaire", "127.0.0.1") == "session"
        assert {r.status for r in rows(desk).values()} == {"sent"}
    finally:
        sender.stop()
        secrets.forget_session()


def test_mail_view_uses_the_window_sender_and_filters_by_date(qtbot, desk, mailbox):
    from PySide6.QtCore import QDate
    from PySide6.QtWidgets import QMainWindow

    window = QMainWindow()
    qtbot.addWidget(window)
    window.mail_sender = MailSender(desk, window, interval_ms=3_600_000, timeout=SMTP_TIMEOUT)
    try:
        view = MailView(desk, window)
        window.setCentralWidget(view)
        window.show()
        assert view.sender is window.mail_sender
        view.date_from.setDate(QDate(2026, 11, 26))
        assert len(view.model.rows) == 3
        view.date_from.setDate(QDate(2026, 11, 27))
        assert view.model.rows == []
        view.date_from.setDate(view.date_from.minimumDate())  # "—": no lower bound
        view.date_to.setDate(QDate(2026, 11, 26))
        assert len(view.model.rows) == 3
        view.date_to.setDate(QDate(2026, 11, 25))
        assert view.model.rows == []
        assert view.summary.text().startswith("0 courriel affiché")
    finally:
        window.mail_sender.stop()
