"""Long operations: results and progress reach the UI thread; cancel rolls back; errors are French."""

import threading

from PySide6.QtCore import Qt, QThread
from PySide6.QtWidgets import QWidget

from gandrange_desk.errors import DeskError
from gandrange_desk.ui.common.ops import run_operation


def test_result_is_delivered_on_the_ui_thread(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    seen = {}

    def work(progress):
        seen["worker"] = threading.get_ident()
        for i in range(3):
            progress.step(i + 1, 3, f"étape {i + 1}")
        return 42

    def done(result):
        seen["result"] = result
        seen["ui"] = threading.get_ident()

    thread = run_operation(parent, "Essai", work, done)
    qtbot.waitUntil(lambda: "result" in seen, timeout=5000)
    assert seen["result"] == 42
    assert seen["ui"] == threading.get_ident() != seen["worker"]
    qtbot.waitUntil(lambda: not thread.isRunning(), timeout=5000)


def test_cancel_and_error_messages(qtbot):
    parent = QWidget()
    qtbot.addWidget(parent)
    errors = []
    started = threading.Event()

    def slow(progress):
        started.set()
        while True:
            progress.check()
            QThread.msleep(10)

    thread = run_operation(parent, "Essai", slow, on_error=errors.append)
    started.wait(5)
    thread._worker.cancel_event.set()
    qtbot.waitUntil(lambda: len(errors) == 1, timeout=5000)
    assert errors == ["Opération annulée : rien n'a été enregistré."]

    def refused(progress):
        raise DeskError("Mois déjà émis.")

    run_operation(parent, "Essai", refused, on_error=errors.append)
    qtbot.waitUntil(lambda: len(errors) == 2, timeout=5000)
    assert errors[1] == "Mois déjà émis."


# --- the one entry point: quick calls, refusals, bugs, what changed, long runs -----------------

import logging  # noqa: E402
from datetime import date  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtWidgets import QMessageBox, QProgressDialog, QPushButton  # noqa: E402
from sqlalchemy import func, select  # noqa: E402

from gandrange_desk.services.changes import Changes  # noqa: E402
from gandrange_desk.ui.common import ops  # noqa: E402


class Window(QWidget):
    """Stands for the main window: receives what every operation inside it changed."""

    def __init__(self):
        super().__init__()
        self.published: list[tuple[Changes, QWidget]] = []

    def publish_changes(self, changes, origin):
        self.published.append((changes, origin))


@pytest.fixture
def boxes(monkeypatch):
    shown = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: shown.append(("warning", a[1], a[2])))
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: shown.append(("information", a[1], a[2])))
    return shown


@pytest.fixture
def window(qtbot):
    win = Window()
    qtbot.addWidget(win)
    return win


def test_success_tells_the_window_then_the_caller(window):
    child = QWidget(window)
    order = []
    window.publish_changes = lambda changes, origin: order.append(("published", changes.families, origin))

    class Saved:
        changes = Changes(families={7})

    result = ops.run(child, "Enregistrer", Saved, on_done=lambda r: order.append(("done", type(r).__name__)))
    assert isinstance(result, Saved)
    assert order == [("published", {7}, child), ("done", "Saved")]
    # A service that returns a bare id: the caller says what changed.
    ops.run(child, "Créer", lambda: 42, changes=lambda new_id: Changes(families={new_id}))
    assert order[-1] == ("published", {42}, child)
    # Nothing changed, nothing published.
    ops.run(child, "Lire", lambda: [1, 2])
    assert len(order) == 3


def test_a_refusal_shows_its_french_text_and_changes_nothing(window, boxes):
    done = []
    result = ops.run(window, "Payer", lambda: (_ for _ in ()).throw(DeskError("Montant : indiquez un montant positif.")),
                     on_done=done.append)
    assert result is None and done == [] and window.published == []
    assert boxes == [("warning", "Payer", "Montant : indiquez un montant positif.")]
    # Given a place to say it, the text goes there instead of a box.
    said = []
    ops.run(window, "Payer", lambda: (_ for _ in ()).throw(DeskError("Refusé.")), on_error=said.append)
    assert said == ["Refusé."] and len(boxes) == 1
    assert not ops.attempt(window, "Payer", lambda: (_ for _ in ()).throw(DeskError("Refusé.")), on_error=said.append)
    assert ops.attempt(window, "Payer", lambda: None)


def test_confirm_and_retry_runs_the_other_call(window, boxes):
    class Full(DeskError):
        pass

    calls = []

    def book(override: bool):
        calls.append(override)
        if not override:
            raise Full("Capacité dépassée : Repas le 13/03 (111/110).")
        return Changes(cells={(1, 2, date(2026, 3, 13))})

    asked = []
    result = ops.run(window, "Réserver", lambda: book(False),
                     on_refused=lambda exc: asked.append(str(exc)) or (lambda: book(True)))
    assert calls == [False, True] and asked == ["Capacité dépassée : Repas le 13/03 (111/110)."]
    assert result.cells == {(1, 2, date(2026, 3, 13))} and len(window.published) == 1 and boxes == []
    # Declined: nothing more is run, nothing published.
    assert ops.run(window, "Réserver", lambda: book(False), on_refused=lambda exc: None) is None
    assert calls == [False, True, False] and len(window.published) == 1


def test_a_bug_shows_one_french_sentence_and_logs_the_traceback(window, boxes, caplog):
    def broken():
        raise KeyError("colonne_inconnue")

    with caplog.at_level(logging.ERROR, logger="gandrange_desk"):
        assert ops.run(window, "Accepter", broken) is None
    assert boxes == [("warning", "Accepter",
                      "Une erreur inattendue a interrompu l'opération ; rien n'a été enregistré.")]
    [record] = caplog.records
    assert record.name == "gandrange_desk" and record.exc_info[0] is KeyError
    assert "colonne_inconnue" in caplog.text and "Traceback" in caplog.text
    assert window.published == []


def test_a_long_bug_is_logged_from_the_worker(qtbot, window, caplog):
    errors = []
    with caplog.at_level(logging.ERROR, logger="gandrange_desk"):
        ops.run(window, "Émission", lambda progress: 1 / 0, long=True, on_error=errors.append)
        qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors == ["Une erreur inattendue a interrompu l'opération ; rien n'a été enregistré."]
    assert "ZeroDivisionError" in caplog.text


def test_disk_full_in_the_window_is_said_as_such(qtbot, window, boxes):
    import errno
    import sqlite3

    def full():
        raise sqlite3.OperationalError("database or disk is full")

    assert ops.run(window, "Enregistrer", full) is None
    assert boxes[-1][2].startswith("Disque plein : l'opération n'a pas pu être enregistrée.")
    errors = []
    ops.run(window, "Émission", lambda progress: (_ for _ in ()).throw(OSError(errno.ENOSPC, "No space left")),
            long=True, on_error=errors.append)
    qtbot.waitUntil(lambda: bool(errors), timeout=5000)
    assert errors[0].startswith("Disque plein")


def test_annuler_stops_a_long_run_and_rolls_it_back(qtbot, window, desk, boxes):
    from gandrange_desk.models import Invoice
    from gandrange_desk.services.billing import invoicing
    from tests.billing.test_invoicing import NOV, NOV_DAYS, book
    from tests.builders import load_example_settings, make_family, unit_id

    load_example_settings(desk)
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    for name in ("Arnaud", "Bernard"):
        book(desk, make_family(desk, name).children[0].id, repas, NOV_DAYS[:3])
    invoicing.prepare(desk, NOV)

    def drafts():
        with desk.read() as s:
            return sorted(s.execute(select(Invoice.id)).scalars())

    before = drafts()
    assert len(before) == 2
    reached, pressed = threading.Event(), threading.Event()

    class Gate:
        """The worker's progress, held at its first step until the clerk has pressed Annuler."""

        def __init__(self, progress):
            self.progress = progress

        def step(self, *args):
            self.progress.step(*args)
            reached.set()
            pressed.wait(10)

        def check(self):
            self.progress.check()

    results, errors = [], []
    # The second preparation first drops the month's drafts, then is cancelled: they must come back.
    thread = ops.run(window, "Préparation des factures", lambda progress: invoicing.prepare(desk, NOV, Gate(progress)),
                     long=True, on_done=results.append, on_error=errors.append)
    qtbot.waitUntil(reached.is_set, timeout=10_000)
    dialog = window.findChild(QProgressDialog)
    qtbot.waitUntil(dialog.isVisible, timeout=5000)
    assert dialog.labelText().startswith("Préparation : ")
    cancel = next(b for b in dialog.findChildren(QPushButton) if b.text() == "Annuler")
    qtbot.mouseClick(cancel, Qt.LeftButton)
    pressed.set()
    qtbot.waitUntil(lambda: bool(errors), timeout=10_000)
    qtbot.waitUntil(lambda: not thread.isRunning(), timeout=5000)
    assert errors == ["Opération annulée : rien n'a été enregistré."] and results == []
    assert drafts() == before and window.published == []
    with desk.read() as s:
        assert s.scalar(select(func.count()).select_from(Invoice)) == 2
