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
    """The window, drawn before the database layer loads (issue 14, start-up).

    With a login expected (one asked for, or one that succeeded on this workstation before) the
    login dialog is painted first and the base opened, checked and upgraded behind it while the
    clerk types; otherwise the base is opened first (a new base may need its first
    administrator). The main window is then painted as a shell, its first tab filled just after.
    SQLAlchemy and the models are imported by the opening, never before the first paint."""
    if not _has_display():
        print("Aucun écran disponible : la fenêtre ne peut pas s'ouvrir ici. "
              "Utilisez les commandes (gandrange-desk --help) ou ouvrez une session graphique.",
              file=sys.stderr)
        return 1
    # No thread imports the database layer beside Qt's start-up any more: it only slowed the
    # first paint (both want the GIL), and the window is painted before the layer is needed.
    from PySide6.QtWidgets import QApplication

    from gandrange_desk.db import is_configured
    from gandrange_desk.errors import DeskError

    app = QApplication.instance() or QApplication(sys.argv[:1])
    _install_excepthook()
    app.setApplicationName("Gandrange Desk")
    app.setOrganizationName("Commune de Gandrange")
    from PySide6.QtGui import QIcon

    from gandrange_desk.paths import resource

    app.setWindowIcon(QIcon(str(resource("icons", "gandrange-desk.png"))))
    install_french(app)
    if os.environ.get("GANDRANGE_DESK_BENCH_STARTUP") == "1":
        return _bench_window(app, db)

    if not is_configured(db):
        from gandrange_desk.ui.setup.wizard import run_first_run

        db = run_first_run()
        if db is None:
            return 0
    from gandrange_desk.ui.login import last_login

    login = user or os.environ.get("GANDRANGE_DESK_USER") or last_login()
    desk = actor = None
    if login:
        try:
            desk, actor = _login_first(db, login)
        except DeskError as exc:
            return _refused(exc)
        if desk is None:
            return 0  # « Quitter »
    if desk is None:
        try:
            desk = open_desk(db)
        except DeskError as exc:
            return _refused(exc)
    if actor is None:
        from gandrange_desk.services.system.users import has_users

        if not has_users(desk):
            # Never the system administrator on an empty base: the first administrator first.
            from gandrange_desk.ui.setup.wizard import run_first_admin

            if not run_first_admin(desk):
                return 0
        from gandrange_desk.ui.login import choose_actor

        actor = choose_actor(desk, login)
        if actor is None:
            return 0
    desk = desk.as_actor(actor)
    from gandrange_desk import db as databases

    databases.current_holder.update(who=actor.login, what="fenêtre")

    from gandrange_desk.ui.main_window import MainWindow

    window = MainWindow(desk)  # painted first, its first tab filled just after
    window.show()
    from gandrange_desk.ui.setup.holidays import warn_if_uncovered_later

    # Said once the window is up: a school year the holiday data does not cover.
    warn_if_uncovered_later(desk, window)
    status = app.exec()
    _backup_on_close(desk)
    return status


def open_desk(db: str | None):
    """Open the base named by `db` (or configured), check and upgrade its schema: a `Desk`.

    A plain local SQLite file already at the program's schema is opened through the stdlib
    driver only (`services.first_reader`): the desk's engine, and SQLAlchemy with it, is made on
    first use — by the main window once its filled first tab is painted (issue 14, start-up).
    Anything else (PostgreSQL, a missing file, a base to upgrade) imports SQLAlchemy here.
    Raises `DeskError` in one French sentence."""
    from gandrange_desk.services.context import Desk

    reader = _first_reader(db)
    if reader is not None:
        return Desk.opening(lambda: _open_engine(db), reader)
    return Desk(_open_engine(db))


def _first_reader(db: str | None):
    """The bare-driver reader of the first screen, or None (see `services.first_reader`)."""
    if os.environ.get("GANDRANGE_DESK_FIRST_READER") == "0":  # tests: the Core path as before
        return None
    from gandrange_desk.db import configured_url, default_sqlite_path
    from gandrange_desk.services.first_reader import open_reader, sqlite_file

    try:
        database = sqlite_file(configured_url(db), default_sqlite_path())
        return open_reader(database) if database else None
    except Exception:  # noqa: BLE001 - anything unusual: SQLAlchemy opens it and says why
        return None


def _open_engine(db: str | None):
    """The base's engine, its schema checked and upgraded (SQLAlchemy imported here)."""
    from gandrange_desk.db import make_engine, resolve_url
    from gandrange_desk.services.system import schema

    url = _ask_database_password_if_needed(resolve_url(db))
    engine = make_engine(url)
    copy = schema.upgrade_on_start(engine)
    if copy:
        print(f"Base mise à jour ; copie de l'ancienne base : {copy}", file=sys.stderr)
    return engine


def _login_first(db: str | None, login: str):
    """The login dialog painted at once, the base opened just after, behind it.

    Returns (desk, actor) once someone logged in; (desk, None) when the base has no desk user
    yet (its first administrator comes next); (None, None) on « Quitter ». A `DeskError` while
    opening closes the dialog and is raised (any other error too: the program's guard tells it in
    one French sentence, as when the base was opened before any window)."""
    from PySide6.QtWidgets import QDialog

    from gandrange_desk.ui.login import LoginDialog

    dialog = LoginDialog(None, login)
    state: dict = {}  # what the opening found; an error leaves the dialog and is raised here

    def open_behind() -> None:
        try:
            desk = open_desk(db)
            from gandrange_desk.services.system.users import has_users

            users = has_users(desk)
        except Exception as exc:  # noqa: BLE001 - raised again below, out of the event loop
            state["error"] = exc
            dialog.reject()
            return
        state["desk"] = desk
        if not users:
            state["no_users"] = True
            dialog.reject()
            return
        dialog.attach(desk)
        dialog.error.setText("")

    dialog.error.setText("Ouverture de la base…")  # the clerk may type meanwhile
    dialog.after_first_paint(open_behind)
    accepted = dialog.exec() == QDialog.Accepted
    if "error" in state:
        raise state["error"]
    desk = state.get("desk")
    if accepted:
        return desk, dialog.actor
    return (desk, None) if state.get("no_users") else (None, None)


def _refused(exc) -> int:
    """The base could not be opened: said in one French sentence, status 1."""
    from PySide6.QtWidgets import QMessageBox

    print(str(exc), file=sys.stderr)
    QMessageBox.critical(None, "Gandrange Desk", str(exc))
    return 1


def _bench_window(app, db: str | None) -> int:
    """`GANDRANGE_DESK_BENCH_STARTUP=1`: the main window as the system, no login, timed.

    The shell is shown and painted, then the base is opened, checked and attached, and the first
    tab filled; prints `startup_ms` (shell painted), `filled_ms` (first tab filled and counted,
    the window usable), which of SQLAlchemy and the ORM were loaded at the first paint, and
    whether the ORM and the models were loaded once the first tab was filled."""
    from gandrange_desk.errors import DeskError
    from gandrange_desk.ui.main_window import MainWindow

    window = MainWindow()
    loaded: dict[str, str] = {}

    def at_paint() -> None:
        loaded.update(sqlalchemy=str(int("sqlalchemy" in sys.modules)),
                      orm=str(int("sqlalchemy.orm" in sys.modules)),
                      models=str(int("gandrange_desk.models" in sys.modules)))

    failed: list[BaseException] = []

    def open_and_fill() -> None:
        try:
            desk = open_desk(db)
        except DeskError as exc:
            print(str(exc), file=sys.stderr)
            app.exit(1)  # no message box: nobody would close it
            return
        except Exception as exc:  # noqa: BLE001 - raised again out of the event loop
            failed.append(exc)
            app.exit(1)
            return
        window.attach(desk)  # painted already: the first tab is built and filled here
        app.processEvents()
        painted = window.first_painted_at
        print(f"startup_ms={((painted or time.perf_counter()) - _T0) * 1000:.1f}")
        print(f"filled_ms={(time.perf_counter() - _T0) * 1000:.1f}")
        print(f"filled_cpu_ms={time.process_time() * 1000:.1f}")  # from the process's start
        print(f"painted={int(not window.paint_fell_back)}")  # 0: the fallback ran, no paint seen
        for name, value in loaded.items():
            print(f"{name}_at_paint={value}")
        # The first tab and the status bar are read on SQLAlchemy Core: the ORM comes after.
        print(f"sqlalchemy_at_fill={int('sqlalchemy' in sys.modules)}")
        print(f"orm_at_fill={int('sqlalchemy.orm' in sys.modules)}")
        print(f"models_at_fill={int('gandrange_desk.models' in sys.modules)}")
        print(f"rss_mb={_rss_mb():.1f}")
        sys.stdout.flush()
        app.quit()

    window.after_first_paint(at_paint)
    window.after_first_paint(open_and_fill)
    window.show()
    status = app.exec()
    if failed:
        raise failed[0]
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
