"""Every window and dialog fits a 1366×768 town-hall screen at the default font: its size and
the least its layout needs stay within a maximised window's 1366×697, so no button falls under
the taskbar (what does not fit scrolls inside). And a window remembers how the clerk left it.

One small demo base (SQLite) serves every screen; the sizes do not depend on the backend.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from PySide6.QtCore import QSize
from PySide6.QtWidgets import QMessageBox, QSplitter

from gandrange_desk.clock import PARIS
from gandrange_desk.db import make_engine
from gandrange_desk.services.context import SYSTEM, Desk
from gandrange_desk.services.system import schema
from gandrange_desk.services.system.users import resolve_actor
from gandrange_desk.ui.common import windows

LIMIT = windows.MAX_SIZE  # 1366×697


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from gandrange_desk.demo import run_demo

    path = tmp_path_factory.mktemp("sizes") / "demo.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    clock = lambda: datetime(2026, 12, 4, 9, 0, tzinfo=PARIS)  # noqa: E731
    run_demo(Desk(engine, SYSTEM, clock), families=30, seed=3)
    desk = Desk(engine, SYSTEM, clock)
    yield desk.as_actor(resolve_actor(desk, "nbecker"))
    engine.dispose()


def _family(desk):
    from sqlalchemy import select

    from gandrange_desk.models import Child, Family, Invoice

    with desk.read() as s:
        return s.execute(select(Family.id).join(Child).join(Invoice, Invoice.family_id == Family.id)
                         .order_by(Family.id).limit(1)).scalar_one()


def _slot(desk):
    from gandrange_desk.services.appointments import views

    first, last = views.september(desk)
    return views.slots_between(desk, first, last)[-1]


def _invoice(desk):
    from sqlalchemy import select

    from gandrange_desk.models import Invoice

    with desk.read() as s:
        return s.execute(select(Invoice.id).where(Invoice.number.is_not(None)).limit(1)).scalar_one()


def _unpaid(desk):
    from gandrange_desk.services.billing.reminders import unpaid_invoices

    return unpaid_invoices(desk)


def _queue_item(desk, kind):
    from gandrange_desk.services import queue

    return next(i for i in queue.pending_items(desk) if i.kind == kind)


def _main(desk):
    from gandrange_desk.ui.main_window import MainWindow

    window = MainWindow(desk)
    for i in range(window.tabs.count()):  # every tab built: the widest and tallest counts
        window.tabs.setCurrentIndex(i)
    return window


def _login(desk):
    from gandrange_desk.ui.login import LoginDialog
    return LoginDialog(desk, "")


def _family_file(desk):
    from gandrange_desk.ui.families.file import FamilyFileDialog

    dialog = FamilyFileDialog(desk, _family(desk))
    dialog.banner.say("Fiche enregistrée.", "ok")
    return dialog


def _period(desk):
    from gandrange_desk.services.reservations import reads
    from gandrange_desk.ui.reservations.period_dialog import PeriodDialog

    activities = reads.activity_choices(desk)
    return PeriodDialog(desk, activities, [(1, "Enfant")], activity_id=activities[0][0])


def _recap(desk):
    from gandrange_desk.services.billing.month_checks import month_recap
    from gandrange_desk.ui.billing.month_dialogs import RecapDialog

    return RecapDialog(month_recap(desk, "2026-11"), "Émettre ?")


def _factory(module: str, cls: str, *args):
    def make(desk):
        import importlib

        klass = getattr(importlib.import_module(module), cls)
        return klass(*[a(desk) if callable(a) else a for a in args])
    return make


def _desk(desk):
    return desk


SCREENS = {
    "fenêtre principale": _main,
    "connexion": _login,
    "fiche famille (avec bandeau)": _family_file,
    "nouvelle famille": _factory("gandrange_desk.ui.families.file", "NewFamilyDialog", _desk),
    "documents publiés": _factory("gandrange_desk.ui.families.docs", "PublishedDocumentsDialog", _desk),
    "anonymiser": _factory("gandrange_desk.ui.families.anonymise_dialog", "AnonymiseDialog", _desk),
    "réservations sur période": _period,
    "annuler des réservations": _factory("gandrange_desk.ui.reservations.grid_dialogs", "CancelDialog", 3,
                                         "excused", 1),
    "motif": _factory("gandrange_desk.ui.reservations.grid_dialogs", "ReasonDialog", "Refuser", "Motif :"),
    "refuser": _factory("gandrange_desk.ui.validation.dialogs", "RefusalDialog", 2),
    "facturation d'une annulation": _factory("gandrange_desk.ui.validation.dialogs", "BillingDialog",
                                             lambda d: _queue_item(d, "cancellation")),
    "tarifs": _factory("gandrange_desk.ui.billing.tariff_editor", "TariffEditorDialog", _desk),
    "avoir": _factory("gandrange_desk.ui.billing.credit_note_dialog", "CreditNoteDialog", _desk, _invoice),
    "règlement": _factory("gandrange_desk.ui.billing.payments_view", "RecordPaymentDialog", _desk),
    "prélèvements SEPA": _factory("gandrange_desk.ui.billing.sepa_dialog", "SepaDialog", _desk),
    "attestations": _factory("gandrange_desk.ui.billing.attestations_dialog", "AttestationsDialog", _desk),
    "récapitulatif avant émission": _recap,
    "factures à poster": _factory("gandrange_desk.ui.billing.month_dialogs", "PaperInvoicesDialog", _desk,
                                  [(1, "2026-000001", "F-00001", "Famille")]),
    "relancer les impayés": lambda d: _factory("gandrange_desk.ui.billing.reminder_dialog", "RemindDialog", _desk,
                                               _unpaid)(d),
    "message aux familles": _factory("gandrange_desk.ui.mail.notice_dialog", "NoticeDialog", _desk),
    "paramètres SMTP": _factory("gandrange_desk.ui.mail.smtp_dialog", "SmtpDialog", _desk),
    "rendez-vous : réserver": _factory("gandrange_desk.ui.appointments.dialogs", "BookDialog", _desk, _slot),
    "rendez-vous : déplacer": _factory("gandrange_desk.ui.appointments.dialogs", "MoveDialog", _desk, _slot),
    "rendez-vous : créneaux": _factory("gandrange_desk.ui.appointments.dialogs", "CreateSlotsDialog", _desk),
    "réglages": _factory("gandrange_desk.ui.settings.dialog", "SettingsDialog", _desk),
    "utilisateurs": _factory("gandrange_desk.ui.admin.users_dialog", "UsersDialog", _desk),
    "utilisateur": _factory("gandrange_desk.ui.admin.users_dialog", "UserEditDialog"),
    "mot de passe": _factory("gandrange_desk.ui.admin.password_dialog", "ChangePasswordDialog", _desk),
    "journal des opérations": _factory("gandrange_desk.ui.admin.audit_view", "AuditDialog", _desk),
}


@pytest.fixture
def big_screen(monkeypatch):
    """The room of a 1366×768 screen, whatever screen the offscreen platform has."""
    monkeypatch.setattr(windows, "available_size", lambda widget=None: QSize(LIMIT))
    for name in ("information", "warning", "critical", "question"):
        monkeypatch.setattr(QMessageBox, name, staticmethod(lambda *a, **k: QMessageBox.Ok))


@pytest.mark.parametrize("name", sorted(SCREENS))
def test_fits_a_1366_by_768_screen(qtbot, demo, big_screen, name):
    window = SCREENS[name](demo)
    qtbot.addWidget(window)
    window.show()
    qtbot.wait(10)
    needs = window.minimumSizeHint().expandedTo(window.minimumSize())
    size = window.size()
    assert needs.width() <= LIMIT.width() and needs.height() <= LIMIT.height(), \
        f"{name} : il lui faut au moins {needs.width()}×{needs.height()}"
    if window.isMaximized():  # the main window: the screen's size, whatever the screen
        size = window.normalGeometry().size()
    assert size.width() <= LIMIT.width() and size.height() <= LIMIT.height(), \
        f"{name} s'ouvre en {size.width()}×{size.height()}"
    window.close()


def test_a_window_remembers_its_size_splitters_and_columns(qtbot, demo, big_screen):
    # The offscreen screen is 800×600: sizes within it come back as they were left.
    from gandrange_desk.ui.mail.view import MailView
    from gandrange_desk.ui.families.docs import PublishedDocumentsDialog

    first = PublishedDocumentsDialog(demo)
    qtbot.addWidget(first)
    first.show()
    first.resize(700, 380)
    first.close()
    again = PublishedDocumentsDialog(demo)
    qtbot.addWidget(again)
    again.show()
    assert again.size() == QSize(700, 380)

    view = MailView(demo)
    qtbot.addWidget(view)
    view.table.setColumnWidth(2, 333)
    splitter = view.findChild(QSplitter)
    splitter.setSizes([200, 100])
    splitter.splitterMoved.emit(200, 1)
    qtbot.wait(600)  # saved once the clerk stops dragging
    other = MailView(demo)
    qtbot.addWidget(other)
    assert other.table.columnWidth(2) == 333
    assert other.findChild(QSplitter).sizes() == splitter.sizes()


def test_the_main_window_opens_maximised_the_first_time(qtbot, demo, big_screen):
    from gandrange_desk.ui.main_window import MainWindow

    window = MainWindow(demo)
    qtbot.addWidget(window)
    window.show()
    assert window.isMaximized()
    window.close()
    again = MainWindow(demo)
    qtbot.addWidget(again)
    again.show()
    assert again.isMaximized()  # as it was left
    again.showNormal()
    again.close()
    third = MainWindow(demo)
    qtbot.addWidget(third)
    third.show()
    assert not third.isMaximized()
    third.close()


def test_long_messages_wrap_instead_of_widening_the_window(qtbot, demo, big_screen):
    from gandrange_desk.ui.main_window import MainWindow

    window = MainWindow(demo)
    qtbot.addWidget(window)
    window.show()
    validation, grid = window.tab_widget(2), window.tab_widget(1)
    long = "1 demande acceptée, 1 e-mail mis en file d'envoi. " + "Envoi différé jusqu'à 09:23 : " * 8
    validation.status.setText(long)
    grid.say(long, error=True)
    for i in range(window.tabs.count()):
        window.tabs.setCurrentIndex(i)
    assert window.minimumSizeHint().width() <= LIMIT.width()
    window.close()
