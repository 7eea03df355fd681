"""Screenshots of every main screen and dialog at 1366×768, from the demo base.

    python tools/screenshots.py [--db FILE.sqlite3] [--out DIR] [--only NAME…] [--list]

Without `--db` a demo base is built in a temporary folder (`gandrange-desk demo`, about 20 s);
a given base is copied first, since a few screens act (a decision held for the next ones, a
grid change to undo) to show what they look like then. The window runs offscreen on a
1366×768 screen; the main window gets the client area of a maximised window (1366×697), each
dialog the size it opens at. PNGs go to `--out` (default `screenshots/`, git-ignored), one per
screen, named in the order a clerk meets them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
WIDTH, HEIGHT = 1366, 768


def _offscreen_screen(folder: Path) -> None:
    """The offscreen platform with one 1366×768 screen at 96 dpi (the default is 800×600)."""
    config = folder / "screen.json"
    config.write_text(json.dumps({"screens": [{
        "name": "town-hall", "x": 0, "y": 0, "width": WIDTH, "height": HEIGHT,
        "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    os.environ["QT_QPA_PLATFORM"] = f"offscreen:configfile={config}"
    os.environ["PYTHON_KEYRING_BACKEND"] = "keyring.backends.null.Keyring"
    os.environ["GANDRANGE_DESK_UI_STATE"] = str(folder / "ui-state.ini")


def _demo_base(folder: Path, given: str | None) -> str:
    path = folder / "demo.sqlite3"
    if given:
        shutil.copy(given, path)
        return f"sqlite:///{path}"
    from gandrange_desk.db import make_engine
    from gandrange_desk.demo import run_demo
    from gandrange_desk.services.context import Desk
    from gandrange_desk.services.system import schema

    engine = make_engine(f"sqlite:///{path}")
    schema.upgrade(engine)
    print("Base de démonstration…", file=sys.stderr, flush=True)
    run_demo(Desk(engine))
    engine.dispose()
    return f"sqlite:///{path}"


class Shots:
    """Each screen: a function that opens it (and may act first); the PNG is its grab."""

    def __init__(self, desk, out: Path):
        from PySide6.QtWidgets import QApplication

        self.desk, self.out = desk, out
        self.app = QApplication.instance()
        self.window = None
        self.taken: list[Path] = []

    def settle(self, rounds: int = 5) -> None:
        for _ in range(rounds):
            self.app.processEvents()

    def save(self, name: str, widget) -> Path:
        self.settle()
        path = self.out / f"{name}.png"
        widget.grab().save(str(path))
        self.taken.append(path)
        size = widget.size()
        print(f"{path.name}: {size.width()}×{size.height()}")
        return path

    def main_window(self):
        from gandrange_desk.ui.main_window import MainWindow

        if self.window is None:
            self.window = MainWindow(self.desk)
            self.window.show()
            self.window.setWindowState(self.window.windowState() & ~self.window.windowState().WindowMaximized)
            self.window.resize(WIDTH, 697)
            self.settle()
        return self.window

    def tab(self, index: int):
        window = self.main_window()
        window.tabs.setCurrentIndex(index)
        self.settle()
        return window.tab_widget(index)

    def dialog(self, name: str, dialog) -> None:
        dialog.show()
        self.settle()
        self.save(name, dialog)
        dialog.close()
        dialog.deleteLater()
        self.settle()


def family_id(desk, ref: str | None = None) -> int:
    from sqlalchemy import func, select

    from gandrange_desk.models import Child, Family, Invoice

    with desk.read() as s:
        if ref:
            return s.execute(select(Family.id).where(Family.ref == ref)).scalar_one()
        # A family with several children and issued invoices: the file shows everything.
        return s.execute(select(Family.id).join(Child).join(Invoice, Invoice.family_id == Family.id)
                         .group_by(Family.id).order_by(func.count(func.distinct(Child.id)).desc(), Family.id)
                         .limit(1)).scalar_one()


# --- the screens, in the order a clerk meets them ---------------------------------------------

def login(sh: Shots) -> None:
    from gandrange_desk.ui.login import LoginDialog

    sh.dialog("00-connexion", LoginDialog(sh.desk, ""))


def families(sh: Shots) -> None:
    tab = sh.tab(0)
    tab.search.setText("mar")
    tab.refresh()
    sh.save("01-familles", sh.window)
    tab.search.clear()
    tab.refresh()


def family_file(sh: Shots) -> None:
    from gandrange_desk.ui.families.file import FamilyFileDialog

    dialog = FamilyFileDialog(sh.desk, family_id(sh.desk), sh.main_window())
    dialog.show()
    for i in range(dialog.tabs.count()):
        dialog.tabs.setCurrentIndex(i)
        sh.save(f"02-fiche-famille-{i + 1:02d}-{_slug(dialog.tabs.tabText(i))}", dialog)
    dialog.banner.say("Fiche enregistrée.", "ok")
    dialog.tabs.setCurrentIndex(0)
    sh.save("02-fiche-famille-00-bandeau", dialog)
    dialog.close()


def new_family(sh: Shots) -> None:
    from sqlalchemy import select

    from gandrange_desk.models import Family
    from gandrange_desk.ui.families.file import NewFamilyDialog

    sh.dialog("03-nouvelle-famille", NewFamilyDialog(sh.desk, sh.main_window()))
    with sh.desk.read() as s:  # the same household typed again: the warning
        family = s.execute(select(Family).where(Family.id == family_id(sh.desk))).scalar_one()
        name, street, email = family.name, family.street, family.guardians[0].email
    dialog = NewFamilyDialog(sh.desk, sh.main_window())
    dialog.name.setText(name)
    dialog.street.setText(street)
    dialog.email.setText(email)
    dialog.check_look_alikes()
    sh.dialog("03-nouvelle-famille-ressemblances", dialog)


def grid(sh: Shots) -> None:
    from gandrange_desk.services.reservations.grid import BLANK
    from gandrange_desk.ui.reservations.grid_model import FIXED, STATE_ROLE

    tab = sh.tab(1)
    sh.save("04-reservations", sh.window)
    tab.search.setText("ma")
    sh.save("04-reservations-recherche", sh.window)
    tab.search.clear()
    # A white cell of today's column booked, then taken back with Ctrl+Z.
    tab.go_to(sh.desk.today())
    m, g = tab.model, tab.model.grid
    start = max(tab.grid.currentIndex().column(), FIXED)
    index = next((m.index(r, c) for r in range(m.rowCount()) for c in range(start, m.columnCount())
                  if not g.closed[c - FIXED] and m.index(r, c).data(STATE_ROLE) == BLANK), None)
    if index is not None:
        tab.grid.setCurrentIndex(index)
        tab.run_action("book")
        sh.save("04-reservations-reservee", sh.window)
        tab.undo()
        sh.save("04-reservations-ctrl-z", sh.window)
    from gandrange_desk.services.families import file as fam

    snap = fam.get_family(sh.desk, family_id(sh.desk))
    tab.show_family(f"Famille {snap.name} ({snap.ref})", [c.id for c in snap.children])
    sh.save("04-reservations-une-famille", sh.window)
    tab.show_family(None)


def period(sh: Shots) -> None:
    tab = sh.tab(1)
    g = tab.model.grid
    children = [(g.child_ids[0], g.names[0])]
    sh.dialog("05-reservations-sur-periode", tab.make_period_dialog(children, None, sh.desk.today()))


def cancel_dialog(sh: Shots) -> None:
    from gandrange_desk.ui.reservations.grid_dialogs import CancelDialog

    sh.dialog("06-annuler-des-reservations", CancelDialog(3, "excused", 1, sh.main_window()))


def validation(sh: Shots) -> None:
    from gandrange_desk.models import RequestKind

    tab = sh.tab(2)
    sh.save("07-validation", sh.window)
    for kind, name in ((RequestKind.REGISTRATION, "inscription"), (RequestKind.FAMILY_CHANGE, "modification"),
                       (RequestKind.CANCELLATION, "annulation")):
        item = next((i for i in tab.model.all_items() if i.kind == kind), None)
        if item is not None:
            tab.tree.setCurrentIndex(tab.model.index_of(item.id))
            sh.save(f"07-validation-{name}", sh.window)


def validation_held(sh: Shots) -> None:
    """A line accepted with A: its e-mail held for the family's next decisions."""
    tab = sh.tab(2)
    tab.tree.setFocus()
    families = tab.model.families()
    target = next((f for f in families if len(f.leaves()) >= 2 and all(i.kind in ("booking", "cancellation")
                                                                     for i in f.leaves())), None)
    if target is None:
        return
    tab.tree.setCurrentIndex(tab._first_line(target))
    tab.accept_selected()
    sh.save("07-validation-apres-a", sh.window)
    # Leaving the tab sends what it held; the Courriels tab shows one decided from elsewhere, held.
    from gandrange_desk.services import queue

    view = sh.tab(4)
    for item in [i for i in queue.pending_items(sh.desk) if i.kind == "booking"]:
        if queue.accept(sh.desk, [item.id], hold=queue.ONE_BY_ONE_HOLD).messages:
            break  # a family with an e-mail
    view.refresh()
    sh.save("11-courriels-envoi-differe", sh.window)


def validation_dialogs(sh: Shots) -> None:
    from gandrange_desk.ui.validation.dialogs import BillingDialog, RefusalDialog

    tab = sh.tab(2)
    sh.dialog("08-refuser", RefusalDialog(2, tab))
    item = next((i for i in tab.model.all_items() if i.kind == "cancellation"), None)
    if item is not None:
        sh.dialog("08-facturation-annulation", BillingDialog(item, tab))


def billing(sh: Shots) -> None:
    tab = sh.tab(3)
    sh.save("09-facturation", sh.window)
    tab.pages.setCurrentIndex(1)
    sh.save("09-facturation-paiements", sh.window)
    tab.pages.setCurrentIndex(0)


def billing_checks(sh: Shots) -> None:
    from gandrange_desk.services.billing import month_checks, reminders
    from gandrange_desk.ui.billing.month_dialogs import PaperInvoicesDialog, RecapDialog
    from gandrange_desk.ui.billing.reminder_dialog import RemindDialog

    tab = sh.tab(3)
    month = tab.month()
    sh.dialog("10-recapitulatif-avant-emission", RecapDialog(
        month_checks.month_recap(sh.desk, month), "Émettre les factures du mois ? Elles seront numérotées.", tab))
    plan = month_checks.send_plan(sh.desk, [r.id for r in tab.all_rows])
    if plan.without_email:
        sh.dialog("10-factures-a-poster", PaperInvoicesDialog(sh.desk, plan.without_email, tab))
    sh.dialog("10-relancer-les-impayes", RemindDialog(sh.desk, reminders.unpaid_invoices(sh.desk), tab))


def billing_dialogs(sh: Shots) -> None:
    from gandrange_desk.ui.billing.attestations_dialog import AttestationsDialog
    from gandrange_desk.ui.billing.credit_note_dialog import CreditNoteDialog
    from gandrange_desk.ui.billing.payments_view import RecordPaymentDialog
    from gandrange_desk.ui.billing.sepa_dialog import SepaDialog
    from gandrange_desk.ui.billing.tariff_editor import TariffEditorDialog

    tab = sh.tab(3)
    sh.dialog("10-tarifs", TariffEditorDialog(sh.desk, tab))
    issued = [r for r in tab.all_rows if r.number]
    if issued:
        sh.dialog("10-avoir", CreditNoteDialog(sh.desk, issued[0].id, tab))
    sh.dialog("10-reglement", RecordPaymentDialog(sh.desk, tab, family_id(sh.desk)))
    sh.dialog("10-prelevements-sepa", SepaDialog(sh.desk, tab))
    sh.dialog("10-attestations", AttestationsDialog(sh.desk, tab))


def mail(sh: Shots) -> None:
    sh.tab(4)
    sh.save("11-courriels", sh.window)


def mail_dialogs(sh: Shots) -> None:
    from gandrange_desk.ui.mail.notice_dialog import NoticeDialog
    from gandrange_desk.ui.mail.smtp_dialog import SmtpDialog

    sh.dialog("12-parametres-smtp", SmtpDialog(sh.desk, sh.main_window()))
    dialog = NoticeDialog(sh.desk, sh.main_window())
    dialog.subject.setText("Fermeture exceptionnelle le vendredi 18 décembre")
    dialog.body.setPlainText("Bonjour,\n\nEn raison d'une journée pédagogique, l'accueil périscolaire sera fermé "
                             "le vendredi 18 décembre.\n\nMerci de votre compréhension.")
    sh.dialog("12-message-aux-familles", dialog)


def appointments(sh: Shots) -> None:
    from gandrange_desk.ui.appointments.dialogs import CreateSlotsDialog

    tab = sh.tab(5)
    sh.save("13-rendez-vous", sh.window)
    sh.dialog("14-creer-des-creneaux", CreateSlotsDialog(sh.desk, tab))


def appointment_dialogs(sh: Shots) -> None:
    from gandrange_desk.services.appointments import views
    from gandrange_desk.ui.appointments.dialogs import BookDialog, MoveDialog

    first, last = views.september(sh.desk)
    slots = views.slots_between(sh.desk, first, last)
    if slots:
        sh.dialog("14-rendez-vous-reserver", BookDialog(sh.desk, slots[-1], sh.main_window()))
        sh.dialog("14-rendez-vous-deplacer", MoveDialog(sh.desk, slots[-1], sh.main_window()))


def tools_dialogs(sh: Shots) -> None:
    from gandrange_desk.ui.admin.audit_view import AuditDialog
    from gandrange_desk.ui.admin.password_dialog import ChangePasswordDialog
    from gandrange_desk.ui.admin.users_dialog import UsersDialog
    from gandrange_desk.ui.families.anonymise_dialog import AnonymiseDialog
    from gandrange_desk.ui.families.docs import PublishedDocumentsDialog
    from gandrange_desk.ui.settings.dialog import SettingsDialog

    window = sh.main_window()
    settings = SettingsDialog(sh.desk, window)
    settings.show()
    for i in range(settings.nav.count()):
        settings.nav.setCurrentRow(i)
        sh.save(f"15-reglages-{i + 1}-{_slug(settings.nav.item(i).text())}", settings)
    settings.close()
    sh.dialog("16-utilisateurs", UsersDialog(sh.desk, window))
    sh.dialog("16-mot-de-passe", ChangePasswordDialog(sh.desk, window))
    sh.dialog("17-journal", AuditDialog(sh.desk, window))
    sh.dialog("18-anonymiser", AnonymiseDialog(sh.desk, window))
    sh.dialog("19-documents-publies", PublishedDocumentsDialog(sh.desk, window))


def door_lists_dashboard(sh: Shots) -> None:
    """Pointage, Listes and Tableau de bord: the tabs after Rendez-vous, by their titles."""
    window = sh.main_window()
    titles = [window.tabs.tabText(i).replace("&", "") for i in range(window.tabs.count())]
    for title, name in (("Pointage", "20-pointage"), ("Listes", "21-listes"), ("Tableau de bord", "22-tableau-de-bord")):
        if title in titles:
            sh.tab(titles.index(title))
            sh.save(name, sh.window)


SCREENS: dict[str, Callable[[Shots], None]] = {
    "login": login, "families": families, "family_file": family_file, "new_family": new_family,
    "grid": grid, "period": period, "cancel": cancel_dialog, "validation": validation,
    "validation_dialogs": validation_dialogs, "validation_held": validation_held, "billing": billing,
    "billing_checks": billing_checks, "billing_dialogs": billing_dialogs,
    "mail": mail, "mail_dialogs": mail_dialogs, "appointments": appointments,
    "appointment_dialogs": appointment_dialogs, "tools": tools_dialogs, "door": door_lists_dashboard,
}


def _slug(text: str) -> str:
    import unicodedata

    plain = unicodedata.normalize("NFKD", text.replace("&", "")).encode("ascii", "ignore").decode()
    return "-".join(plain.lower().replace("*", "").split())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="a demo SQLite base to copy (default: build one)")
    parser.add_argument("--out", default=str(ROOT / "screenshots"), help="folder of the PNGs")
    parser.add_argument("--only", nargs="*", choices=sorted(SCREENS), help="just these screens")
    parser.add_argument("--user", default="nbecker", help="desk user the window acts as (nbecker)")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="gandrange-shots-"))
    _offscreen_screen(work)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    url = _demo_base(work, args.db)

    from PySide6.QtWidgets import QApplication

    from gandrange_desk.db import make_engine
    from gandrange_desk.services.context import Desk
    from gandrange_desk.services.system.users import resolve_actor
    from gandrange_desk.ui.app import install_french

    app = QApplication([])
    install_french(app)
    desk = Desk(make_engine(url))
    desk = desk.as_actor(resolve_actor(desk, args.user))
    shots = Shots(desk, out)
    # Pop-ups a screen might raise must not block an offscreen run.
    from PySide6.QtWidgets import QMessageBox

    for name in ("information", "warning", "critical", "question"):
        setattr(QMessageBox, name, staticmethod(lambda *a, **k: QMessageBox.Ok))
    for name in args.only or SCREENS:
        SCREENS[name](shots)
    if shots.window is not None:
        shots.window.close()
    print(f"{len(shots.taken)} captures dans {out}")
    shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
