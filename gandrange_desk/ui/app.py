"""Starting the window: display check, French locale, database, migration, login."""

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


def run_window(args) -> int:
    if not _has_display():
        print("Aucun écran disponible : la fenêtre ne peut pas s'ouvrir ici. "
              "Utilisez les commandes (gandrange-desk --help) ou ouvrez une session graphique.",
              file=sys.stderr)
        return 1

    from PySide6.QtWidgets import QApplication, QMessageBox

    from gandrange_desk.db import make_engine, resolve_url
    from gandrange_desk.errors import DeskError
    from gandrange_desk.services.system import schema
    from gandrange_desk.services.context import SYSTEM, Desk

    app = QApplication.instance() or QApplication(sys.argv[:1])
    app.setApplicationName("Gandrange Desk")
    app.setOrganizationName("Commune de Gandrange")
    install_french(app)
    bench = os.environ.get("GANDRANGE_DESK_BENCH_STARTUP") == "1"

    try:
        url = resolve_url(args.db)
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
        from gandrange_desk.ui.login import choose_actor

        actor = choose_actor(desk, args.user or os.environ.get("GANDRANGE_DESK_USER"))
        if actor is None:
            return 0
    desk = desk.as_actor(actor)

    from gandrange_desk.ui.main_window import MainWindow

    window = MainWindow(desk)
    window.show()
    if bench:
        from PySide6.QtCore import QTimer

        def report() -> None:
            app.processEvents()
            elapsed = (time.perf_counter() - _T0) * 1000
            print(f"startup_ms={elapsed:.1f}")
            print(f"rss_mb={_rss_mb():.1f}")
            sys.stdout.flush()
            app.quit()

        QTimer.singleShot(0, report)
    return app.exec()


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
    if os.environ.get("GANDRANGE_DESK_DB_PASSWORD"):
        return url
    from gandrange_desk.db import postgres_password as _postgres_password

    if _postgres_password(url):
        return url
    try:
        import keyring
        from keyring.backends import fail, null

        usable = not isinstance(keyring.get_keyring(), (fail.Keyring, null.Keyring))
    except Exception:
        usable = False
    if usable:
        return url  # a keyring exists but holds nothing: the server may not need a password
    from PySide6.QtWidgets import QInputDialog, QLineEdit

    password, ok = QInputDialog.getText(
        None, "Mot de passe PostgreSQL",
        f"Aucun trousseau de mots de passe n'est disponible sur ce poste.\n"
        f"Mot de passe de {url.username or 'l’utilisateur'} sur {url.host} "
        f"(gardé en mémoire pour cette session seulement) :",
        QLineEdit.Password)
    return url.set(password=password) if ok and password else url
