"""Starting the window: display check, French locale, first run, database, migration, login,
and the automatic backup when the window closes."""

from __future__ import annotations

import os
import sys
import time

_T0 = time.perf_counter()


def _has_display() -> bool:
    if sys.platform.startswith(("win", "darwin")):
        return True
    if os.environ.get("QT_QPA_PLATFORM", "").split(":")[0] in ("offscreen", "minimal", "vnc", "eglfs", "linuxfb"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def install_french(app) -> None:
    from PySide6.QtCore import QLibraryInfo, QLocale, QTranslator

    QLocale.setDefault(QLocale(QLocale.French, QLocale.France))
    folder = QLibraryInfo.path(QLibraryInfo.TranslationsPath)
    for name in ("qtbase_fr", "qt_fr"):
        translator = QTranslator(app)
        if translator.load(name, folder):
            app.installTranslator(translator)
            app._translators = getattr(app, "_translators", []) + [translator]


def main(argv: list[str]) -> int:
    """`gandrange-desk [--db URL] [--user LOGIN]` with no command (see `gandrange_desk.__main__`)."""
    import argparse

    parser = argparse.ArgumentParser(prog="gandrange-desk", add_help=False)
    parser.add_argument("--db")
    parser.add_argument("--user")
    args, _ = parser.parse_known_args(argv)
    return run_window(db=args.db, user=args.user)


def run_window(db: str | None = None, user: str | None = None) -> int:
    if not _has_display():
        print("Aucun écran disponible : la fenêtre ne peut pas s'ouvrir ici. "
              "Utilisez les commandes (gandrange-desk --help) ou ouvrez une session graphique.",
              file=sys.stderr)
        return 1
    from gandrange_desk import preload

    preload.start()  # the database layer loads beside Qt's start-up

    from PySide6.QtWidgets import QApplication, QMessageBox

    from gandrange_desk.db import is_configured, make_engine, resolve_url
    from gandrange_desk.errors import DeskError
    from gandrange_desk.services.system import schema
    from gandrange_desk.services.context import SYSTEM, Desk

    app = QApplication.instance() or QApplication(sys.argv[:1])
    _install_excepthook()
    app.setApplicationName("Gandrange Desk")
    app.setOrganizationName("Commune de Gandrange")
    from PySide6.QtGui import QIcon

    from gandrange_desk.paths import resource

    app.setWindowIcon(QIcon(str(resource("icons", "gandrange-desk.png"))))
    install_french(app)
    bench = os.environ.get("GANDRANGE_DESK_BENCH_STARTUP") == "1"

    if not bench and not is_configured(db):
        from gandrange_desk.ui.setup.wizard import run_first_run

        db = run_first_run()
        if db is None:
            return 0
    try:
        url = resolve_url(db)
        url = _ask_database_password_if_needed(url)
        engine = make_engine(url)
        copy = schema.upgrade_on_start(engine)
    except DeskError as exc:
        QMessageBox.critical(None, "Gandrange Desk", str(exc))
        print(str(exc), file=sys.stderr)
        return 1
    desk = Desk(engine)
    if copy:
        print(f"Base mise à jour ; copie de l'ancienne base : {copy}", file=sys.stderr)

    if bench:
        actor = SYSTEM
    else:
        from gandrange_desk.services.system.users import has_users

        if not has_users(desk):
            # Never the system administrator on an empty base: the first administrator first.
            from gandrange_desk.ui.setup.wizard import run_first_admin

            if not run_first_admin(desk):
                return 0
        from gandrange_desk.ui.login import choose_actor

        actor = choose_actor(desk, user or os.environ.get("GANDRANGE_DESK_USER"))
        if actor is None:
            return 0
    desk = desk.as_actor(actor)
    from gandrange_desk import db as databases

    databases.current_holder.update(who=actor.login, what="fenêtre")

    from gandrange_desk.ui.main_window import MainWindow

    window = MainWindow(desk)
    window.show()
    if bench:
        from PySide6.QtCore import QTimer

        def report() -> None:
            # Painted: the window on screen, usable; filled: its first tab's list and the
            # status bar's counts, which come just after (both drawn).
            app.processEvents()
            print(f"startup_ms={(window.first_painted_at - _T0) * 1000:.1f}")
            print(f"filled_ms={(time.perf_counter() - _T0) * 1000:.1f}")
            print(f"rss_mb={_rss_mb():.1f}")
            sys.stdout.flush()
            app.quit()

        window.after_first_paint(report)
        return app.exec()
    from PySide6.QtCore import QTimer

    from gandrange_desk.ui.setup.holidays import warn_if_uncovered

    # Said once the window is up: a school year the holiday data does not cover.
    QTimer.singleShot(0, lambda: warn_if_uncovered(desk, window))
    status = app.exec()
    _backup_on_close(desk)
    return status


def _install_excepthook() -> None:
    """An error escaping a Qt slot (outside `ui.common.ops`) is logged and told in one French
    sentence; PySide would otherwise print its traceback and carry on silently."""
    from gandrange_desk import console

    def hook(kind, value, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            return
        console.log.error("unexpected error in the window", exc_info=(kind, value, tb))
        from gandrange_desk.errors import DeskError
        from PySide6.QtWidgets import QMessageBox

        sentence = str(value) if isinstance(value, DeskError) else console.unexpected_text(value)
        try:
            QMessageBox.critical(None, "Gandrange Desk", sentence)
        except Exception:  # noqa: BLE001 - already in the log
            pass

    sys.excepthook = hook


def _backup_on_close(desk) -> None:
    """The automatic backup (at most daily) once the window is closed; never blocks the exit."""
    from gandrange_desk.errors import DeskError
    from gandrange_desk.services.system import auto_backup

    try:
        done = auto_backup.run_if_due(desk)
    except DeskError as exc:
        print(f"Sauvegarde automatique impossible : {exc}", file=sys.stderr)
        return
    if done is not None:
        print(done.text(), file=sys.stderr)


def _rss_mb() -> float:
    try:
        import resource

        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak_kb / 1024
    except ImportError:  # Windows
        return float("nan")


def _ask_database_password_if_needed(url):
    """PostgreSQL without a stored password and without a keyring: ask, keep it in memory only."""
    if url.get_backend_name() != "postgresql" or url.password:
        return url
    from gandrange_desk.db import postgres_password
    from gandrange_desk.services.system import secrets

    if postgres_password(url):
        return url
    if secrets.keyring_available():
        return url  # a keyring exists but holds nothing: the server may not need a password
    from PySide6.QtWidgets import QInputDialog, QLineEdit

    password, ok = QInputDialog.getText(
        None, "Mot de passe PostgreSQL",
        f"Aucun trousseau de mots de passe n'est disponible sur ce poste.\n"
        f"Mot de passe de {url.username or 'l’utilisateur'} sur {url.host} "
        f"(gardé en mémoire pour cette session seulement) :",
        QLineEdit.Password)
    if ok and password:
        secrets.remember_postgres_for_session(url.username or "", url.host or "localhost", password)
        return url.set(password=password)
    return url
