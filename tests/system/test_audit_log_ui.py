"""pytest-qt: the « Journal des opérations » dialog and the anonymisation dialog."""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QMessageBox

from gandrange_desk.models import Family
from gandrange_desk.services.families import retention
from gandrange_desk.ui.families.anonymise_dialog import AnonymiseDialog
from gandrange_desk.ui.admin.audit_view import AuditDialog
from tests.system.test_audit_log import trail
from tests.families.test_retention import old_family

SHOTS = Path(os.environ.get("GD_SHOTS", "/tmp/audit_shots"))


def _cells(dialog, column):
    m = dialog.model
    return [m.data(m.index(r, column)) for r in range(m.rowCount())]


def test_audit_dialog_filters_and_pages(qtbot, desk, clock, agent_desk, responsable_desk):
    ids = trail(desk, clock, agent_desk, responsable_desk)
    with desk.unit_of_work() as s:
        for i in range(250):
            desk.audit(s, "decide", "request", i, family_id=ids["muller"], before={"state": "DR"},
                       after={"status": "accepted", "state": "R"})
    dialog = AuditDialog(responsable_desk)
    qtbot.addWidget(dialog)
    dialog.resize(1400, 850)
    assert dialog.model.rowCount() == 200  # first page only
    assert dialog.status.text().startswith("255 opérations")
    assert dialog.model.canFetchMore()
    dialog.table.scrollToBottom()
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 255, timeout=10_000)
    assert not dialog.model.canFetchMore()
    assert _cells(dialog, 2)[0] == "Demande traitée"
    assert _cells(dialog, 5)[0] == "état : DR → R ; statut : acceptée"
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "audit_all.png"))

    # Filter by action: the combo lists French labels.
    index = dialog.action_box.findText("Foyer modifié")
    dialog.action_box.setCurrentIndex(index)
    assert _cells(dialog, 2) == ["Foyer modifié"]
    assert _cells(dialog, 1) == ["Sandrine Foncin"]
    assert _cells(dialog, 5) == ["téléphone : — → 03 87 12 34 56"]
    assert dialog.status.text() == "1 opération"
    dialog.action_box.setCurrentIndex(0)

    # Family text filter (debounced) and a user.
    qtbot.keyClicks(dialog.family_edit, "weber")
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=10_000)
    assert _cells(dialog, 2) == ["Famille archivée", "Création de la fiche"]
    dialog.user_box.setCurrentIndex(dialog.user_box.findData("sfoncin"))
    assert dialog.model.rowCount() == 0 and dialog.status.text() == "0 opération"
    dialog.user_box.setCurrentIndex(0)
    dialog.family_edit.clear()

    # Date range, inclusive.
    dialog.date_from.setDate(QDate(2026, 3, 3))
    dialog.date_to.setDate(QDate(2026, 3, 3))
    qtbot.waitUntil(lambda: dialog.model.rowCount() == 1, timeout=10_000)
    assert _cells(dialog, 0) == ["03/03/2026 à 10:00"]
    dialog.date_from.setDate(QDate(2026, 3, 6))
    qtbot.waitUntil(lambda: "début de la période est après sa fin" in dialog.status.text(), timeout=10_000)
    dialog.date_to.setDate(QDate(2026, 3, 31))
    # the 250 decisions of the 6th
    qtbot.waitUntil(lambda: dialog.status.text().startswith("252 opérations"), timeout=10_000)
    dialog.grab().save(str(SHOTS / "audit_filtered.png"))


def test_audit_dialog_refused_to_an_agent(qtbot, desk, agent_desk):
    dialog = AuditDialog(agent_desk)
    qtbot.addWidget(dialog)
    assert "réservé au rôle « responsable »" in dialog.status.text()
    assert not dialog.table.isEnabled() and dialog.model.rowCount() == 0


def test_anonymise_dialog(qtbot, desk, monkeypatch):
    fid = old_family(desk)
    old_family(desk, "Schmitt", last_day=date(2024, 5, 10))
    dialog = AnonymiseDialog(desk)
    qtbot.addWidget(dialog)
    dialog.resize(900, 520)
    m = dialog.model
    assert m.rowCount() == 1 and m.data(m.index(0, 1)) == "Muller"
    assert m.data(m.index(0, 2)) == "20/04/2020" and m.data(m.index(0, 3)) == "01/09/2026"
    assert dialog.go.text() == "&Anonymiser 1 famille…"
    assert "6 ans après la fin de l'année scolaire" in dialog.rule.text()
    SHOTS.mkdir(parents=True, exist_ok=True)
    dialog.grab().save(str(SHOTS / "anonymise.png"))

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.No)
    qtbot.mouseClick(dialog.go, Qt.LeftButton)
    with desk.read() as s:
        assert s.get(Family, fid).anonymised_at is None

    monkeypatch.setattr(QMessageBox, "question", lambda *a, **k: QMessageBox.Yes)
    qtbot.mouseClick(dialog.go, Qt.LeftButton)
    qtbot.waitUntil(lambda: dialog.last_result is not None, timeout=10000)
    assert dialog.status.text() == "1 famille anonymisée (2 enfants, 2 responsables, 1 document, 1 courriel, " \
                                   "2 demandes, 2 entrées du journal)."
    assert m.rowCount() == 0 and not dialog.go.isEnabled()
    with desk.read() as s:
        assert s.get(Family, fid).name.startswith("Famille anonymisée")
    assert retention.eligible(desk) == []


def _tools_entries(window) -> list[str]:
    menu = next(a.menu() for a in window.menuBar().actions() if a.text().replace("&", "") == "Outils")
    return [a.text().replace("&", "") for a in menu.actions()]


def test_tools_menu_entries(qtbot, desk, agent_desk, monkeypatch):
    from gandrange_desk.ui.main_window import MainWindow

    def stop_sender(w):
        # The window's mail thread must end before the window goes, or Qt aborts the process.
        if getattr(w, "mail_sender", None) is not None:
            w.mail_sender.stop()

    window = MainWindow(desk)
    qtbot.addWidget(window, before_close_func=stop_sender)
    entries = _tools_entries(window)
    assert "Journal des opérations…" in entries and "Anonymiser les familles éligibles…" in entries
    agent_window = MainWindow(agent_desk)
    qtbot.addWidget(agent_window, before_close_func=stop_sender)
    assert "Anonymiser les familles éligibles…" not in _tools_entries(agent_window)
    # An agent choosing the journal is told why it stays closed.
    warned = []
    monkeypatch.setattr(QMessageBox, "warning", lambda parent, title, text: warned.append((title, text)))
    menu = next(a.menu() for a in agent_window.menuBar().actions() if a.text().replace("&", "") == "Outils")
    next(a for a in menu.actions() if a.text().replace("&", "") == "Journal des opérations…").trigger()
    assert warned == [("Journal des opérations", "Consulter le journal des opérations : réservé au rôle "
                                                 "« responsable » ou supérieur.")]
