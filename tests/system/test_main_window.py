"""The window shell: title, tabs, menus, status bar, and a clear refusal without a display."""

import os
import subprocess
import sys
import threading

import pytest

from gandrange_desk.ui.main_window import MainWindow
from tests.ports import closed_port


def test_main_window_shows_tabs_and_status(qtbot, desk):
    window = MainWindow(desk)
    qtbot.addWidget(window)
    window.show()
    assert window.windowTitle() == "Gandrange Desk — Bureau périscolaire"
    titles = [window.tabs.tabText(i).replace("&", "") for i in range(window.tabs.count())]
    assert titles == ["Familles", "Réservations", "Validation", "Facturation", "Courriels", "Rendez-vous",
                      "Pointage", "Listes", "Tableau de bord"]
    assert "Système" in window.user_label.text()
    # The counts follow the first paint.
    qtbot.waitUntil(lambda: window.pending_label.text() == "0 demande en attente")
    menus = [a.text().replace("&", "") for a in window.menuBar().actions()]
    assert menus == ["Fichier", "Affichage", "Outils", "Aide"]
    # Every tab can be opened from the keyboard without error.
    for index in range(window.tabs.count()):
        window.tabs.setCurrentIndex(index)
        assert window.tab_widget(index) is not None


def test_without_display_the_command_says_so(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    result = subprocess.run([sys.executable, "-m", "gandrange_desk", "--db", str(tmp_path / "x.sqlite3")],
                            env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert "Aucun écran disponible" in result.stderr
    assert "Traceback" not in result.stderr


def test_unreachable_database_is_one_french_sentence():
    port = closed_port()  # refused at once, whatever else runs on this machine
    result = subprocess.run([sys.executable, "-m", "gandrange_desk", "--db",
                             f"postgresql://nobody@127.0.0.1:{port}/none", "db", "upgrade"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1
    assert result.stderr.startswith("Impossible d'ouvrir la base de données PostgreSQL")
    assert "le serveur ne répond pas" in result.stderr
    assert "Traceback" not in result.stderr


def test_mail_sender_starts_after_the_window_and_reaches_the_courriels_view(qtbot, desk):
    window = MainWindow(desk)
    qtbot.addWidget(window)
    window.show()
    assert window.mail_sender is None  # nothing competes with the window becoming usable
    window.tabs.setCurrentIndex(4)
    view = window.tab_widget(4)
    try:
        qtbot.waitUntil(lambda: window.mail_sender is not None, timeout=10_000)
        assert view.sender is window.mail_sender
        qtbot.waitUntil(lambda: "courriel" in window.mail_label.text(), timeout=10_000)
        assert window.mail_label.text() == "0 courriel en attente / 0 en échec"
    finally:
        window.close()


def test_a_closed_window_never_starts_a_mail_sender(qtbot, desk):
    window = MainWindow(desk)
    qtbot.addWidget(window)
    window.show()
    assert window._sender_timer.isActive()
    window.close()
    # No wait for the delay to pass (a sleep proves nothing on a busy machine): closing stops
    # the delayed start, and a start that fires anyway (already queued) is refused.
    assert not window._sender_timer.isActive()
    window._sender_timer.timeout.emit()
    assert window.mail_sender is None


def test_the_window_is_painted_before_its_first_tab_queries(qtbot, desk):
    """Paint first: building the window runs no query; the first tab is built and filled, and the
    status bar counted, just after the first paint."""
    from sqlalchemy import event

    statements: list[str] = []
    event.listen(desk.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))
    window = MainWindow(desk)
    qtbot.addWidget(window)
    assert window.built_tabs() == [] and statements == []
    window.show()
    qtbot.waitUntil(lambda: window.first_painted_at is not None)
    qtbot.waitUntil(lambda: window.built_tabs() != [])
    families = window.built_tabs()[0]
    assert families is window.tab_widget(0)
    qtbot.waitUntil(lambda: window.pending_label.text() == "0 demande en attente")
    assert statements  # the search and the counts ran, after the paint


def test_a_tab_asked_for_before_the_first_paint_is_built_at_once(qtbot, desk):
    window = MainWindow(desk)
    qtbot.addWidget(window)
    tab = window.tab_widget(0)
    assert window.built_tabs() == [tab]
    window.show()
    qtbot.waitUntil(lambda: window.first_painted_at is not None)
    assert window.built_tabs() == [tab]  # built once, not again after the paint


def test_a_window_never_painted_still_fills_its_first_tab(qtbot, desk):
    """A shown window whose first paint never comes (minimised, locked session) is not left empty."""
    from PySide6.QtCore import QEvent, QObject

    class NoPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt API
            return event.type() in (QEvent.UpdateRequest, QEvent.Paint)

    window = MainWindow(desk)
    qtbot.addWidget(window)
    blocker = NoPaint()
    window.installEventFilter(blocker)
    window.show()
    qtbot.waitUntil(lambda: window.built_tabs() != [], timeout=5000)
    assert window.first_painted_at is None
    qtbot.waitUntil(lambda: window.pending_label.text() == "0 demande en attente")
    window.removeEventFilter(blocker)


def test_the_shell_is_drawn_without_a_database_then_attached(qtbot, desk):
    """At start-up the window is a shell first (painted before SQLAlchemy loads): title, tabs,
    menus, a calm « Chargement… »; nothing can act on a base not yet open. Attached, it works."""
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: window.first_paint_done)
    assert window.windowTitle() == "Gandrange Desk — Bureau périscolaire"
    assert window.tabs.count() == 9 and window.built_tabs() == []
    assert window.lazy[0].placeholder.text() == "Chargement…"
    assert window.statusBar().currentMessage() == "Ouverture de la base…"
    menus = {a.text().replace("&", ""): a for a in window.menuBar().actions()}
    assert list(menus) == ["Fichier", "Affichage", "Outils", "Aide"]
    file_actions = {a.text().replace("&", ""): a.isEnabled() for a in menus["Fichier"].menu().actions()
                    if not a.isSeparator()}
    assert file_actions["Quitter"] and not file_actions["Sauvegarder la base…"]
    window.tabs.setCurrentIndex(2)  # a tab chosen before the base is open waits for it
    assert window.built_tabs() == []
    window.update_status()  # the counts wait too (no error, nothing shown)
    assert window.pending_label.text() == ""

    window.attach(desk)
    assert window.built_tabs() == [window.tab_widget(2)]  # painted already: built at once
    assert window.statusBar().currentMessage() != "Ouverture de la base…"  # an empty base says so
    assert "Système" in window.user_label.text()
    assert window.db_label.text().startswith(("SQLite — ", "PostgreSQL — "))
    qtbot.waitUntil(lambda: window.pending_label.text() == "0 demande en attente")
    tools = [a.text().replace("&", "") for a in menus["Outils"].menu().actions()]
    assert "Anonymiser les familles éligibles…" in tools  # the system acts as an administrator
    assert all(a.isEnabled() for a in menus["Fichier"].menu().actions())
    assert window._sender_timer.isActive()


def test_a_shell_closed_before_its_base_opened_closes_quietly(qtbot):
    window = MainWindow()
    qtbot.addWidget(window)
    window.show()
    window.close()
    assert not window.isVisible() and not window._sender_timer.isActive()


def test_the_warm_ups_start_once_the_filled_first_tab_is_painted(qtbot, desk, monkeypatch):
    """The holidays' data and the Réservations tab's modules load in threads that take the GIL
    from the main thread: they start after the first tab, filled, is on screen, not beside it."""
    from PySide6.QtCore import QEvent, QObject

    seen: list[tuple[bool, int]] = []
    paints: list[int] = []

    class CountPaints(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt API
            if event.type() in (QEvent.UpdateRequest, QEvent.Paint):
                paints.append(len(window.built_tabs()))
            return False

    monkeypatch.setattr(MainWindow, "_warm_up", lambda self: seen.append((bool(self.built_tabs()), len(paints))))
    window = MainWindow(desk)
    qtbot.addWidget(window)
    counter = CountPaints()
    window.installEventFilter(counter)
    window.show()
    qtbot.waitUntil(lambda: seen != [], timeout=5000)
    filled, painted_before = seen[0]
    assert filled
    # A paint of the window with its first tab built came before the warm-up.
    assert any(built for built in paints[:painted_before])
    window.removeEventFilter(counter)


def test_the_warm_ups_still_start_when_no_paint_comes(qtbot, desk, monkeypatch):
    """A window never painted (minimised, locked session) does not wait forever for its warm-ups."""
    from PySide6.QtCore import QEvent, QObject

    class NoPaint(QObject):
        def eventFilter(self, obj, event):  # noqa: N802 - Qt API
            return event.type() in (QEvent.UpdateRequest, QEvent.Paint)

    started: list[bool] = []
    monkeypatch.setattr(MainWindow, "_warm_up", lambda self: started.append(bool(self.built_tabs())))
    window = MainWindow(desk)
    qtbot.addWidget(window)
    blocker = NoPaint()
    window.installEventFilter(blocker)
    window.show()
    qtbot.waitUntil(lambda: started == [True], timeout=6000)
    window.removeEventFilter(blocker)


def _bare_window(qtbot, desk, monkeypatch, events):
    import importlib

    from gandrange_desk.services.context import Desk
    from gandrange_desk.services.first_reader import open_reader
    from gandrange_desk.ui import main_window

    shown: list[MainWindow] = []
    early: list[str] = []  # engine steps taken before the first tab was built and filled

    def note(event: str) -> None:
        if not (shown and shown[0].built_tabs()):
            early.append(event)
        events.append(event)

    def make():
        note("engine" if threading.current_thread() is threading.main_thread() else "engine in a thread")
        return desk.engine

    bare = Desk.opening(make, open_reader(desk.engine.url.database), desk.actor)
    real_import = importlib.import_module

    def recording(name, *a):
        if name in MainWindow.ENGINE_STEPS:
            note(name)
        return real_import(name, *a)

    monkeypatch.setattr(main_window.importlib, "import_module", recording)
    monkeypatch.setattr(MainWindow, "_warm_tabs", lambda self: events.append("warm-up"))
    window = MainWindow(bare)
    shown.append(window)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitUntil(lambda: bool(window.built_tabs()), timeout=5000)
    # Filled without the engine: every engine step came after the tab (noted as it happened:
    # a busy machine may let the engine's thread run before this line is reached).
    assert early == []
    assert window.db_label.text() == f"SQLite — {desk.engine.url.database}"
    qtbot.waitUntil(lambda: "warm-up" in events, timeout=8000)
    assert bare.first_reader() is None and bare.engine is desk.engine
    return window


def test_a_desk_read_bare_makes_its_engine_in_a_thread_after_the_filled_tab(qtbot, desk, backend, monkeypatch):
    """On SQLite the first screen is read through the bare driver (`Desk.opening`); once the
    filled tab is painted SQLAlchemy is imported and the engine made beside the event loop,
    then the warm-ups start."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL opens its engine before the window, as before")
    events: list[str] = []
    _bare_window(qtbot, desk, monkeypatch, events)
    assert events == ["engine in a thread", "warm-up"]


def test_the_frozen_program_makes_the_engine_on_the_main_thread_a_part_at_a_time(qtbot, desk, backend, monkeypatch):
    """Frozen (its importer is not thread-safe): the parts one per event-loop turn, main thread."""
    if backend != "sqlite":
        pytest.skip("PostgreSQL opens its engine before the window, as before")
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    events: list[str] = []
    _bare_window(qtbot, desk, monkeypatch, events)
    assert events == [*MainWindow.ENGINE_STEPS, "engine", "warm-up"]
