"""The windows of this area: school holidays (warning at start, entering them), backup settings."""

from __future__ import annotations

from PySide6.QtCore import QDate, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from gandrange_desk.services.system import auto_backup
from gandrange_desk.services.system import school_holidays as sh
from gandrange_desk.ui.setup.backups import BackupSettingsDialog
from gandrange_desk.ui.setup.holidays import HolidaysDialog, warn_if_uncovered, warn_if_uncovered_later
from tests.builders import load_example_settings


def test_holidays_dialog_enters_christmas_2028(qtbot, desk, clock):
    load_example_settings(desk)
    clock.set(2028, 11, 15, 10, 0)
    dialog = HolidaysDialog(desk)
    qtbot.addWidget(dialog)
    assert "2028-2029 ne sont pas connues" in dialog.status.text()
    dialog.first.setDate(QDate(2028, 12, 23))
    dialog.last.setDate(QDate(2029, 1, 7))
    dialog.label.setText("Vacances de Noël")
    dialog.add()
    assert dialog.model.rowCount() == 1
    assert [dialog.model.index(0, c).data() for c in range(3)] == ["23/12/2028", "07/01/2029", "Vacances de Noël"]
    assert dialog.status.text().startswith("Les vacances des années scolaires en cours sont connues")
    dialog.table.selectRow(0)
    dialog.remove()
    assert dialog.model.rowCount() == 0 and sh.list_holidays(desk) == []


def test_start_warns_only_when_a_year_is_unknown(qtbot, desk, clock):
    load_example_settings(desk)
    clock.set(2027, 3, 1, 9, 0)
    assert warn_if_uncovered(desk) == ""
    clock.set(2028, 9, 3, 9, 0)
    seen = []

    def answer_later() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            seen.append(box.text())
            next(b for b in box.buttons() if b.text() == "Plus tard").click()
    QTimer.singleShot(200, answer_later)
    text = warn_if_uncovered(desk)
    assert "2028-2029 ne sont pas connues" in text
    assert seen and seen[0] == text


def test_start_asks_about_unknown_holidays_after_the_window_is_painted_without_holding_it(
        qtbot, desk, clock, monkeypatch):
    import threading

    from gandrange_desk.ui.main_window import MainWindow

    load_example_settings(desk)
    clock.set(2028, 9, 3, 9, 0)
    checked_on = []
    real_check = sh.check_in_use

    def check(*args, **kwargs):
        checked_on.append(threading.current_thread() is threading.main_thread())
        return real_check(*args, **kwargs)

    monkeypatch.setattr(sh, "check_in_use", check)
    window = MainWindow(desk)
    qtbot.addWidget(window)
    seen = []

    def answer() -> None:
        box = QApplication.activeModalWidget()
        if not isinstance(box, QMessageBox):
            QTimer.singleShot(20, answer)
            return
        seen.append((box.text(), window.first_paint_done))
        next(b for b in box.buttons() if b.text() == "Plus tard").click()

    warn_if_uncovered_later(desk, window)
    assert not checked_on  # nothing before the window is painted
    window.show()
    QTimer.singleShot(20, answer)
    qtbot.waitUntil(lambda: bool(seen), timeout=15000)
    text, painted = seen[0]
    assert "2028-2029 ne sont pas connues" in text and painted
    assert checked_on == [False]  # read off the main thread


def test_backup_settings_dialog(qtbot, desk, tmp_path):
    load_example_settings(desk)
    dialog = BackupSettingsDialog(desk)
    qtbot.addWidget(dialog)
    assert dialog.keep.value() == 30
    dialog.folder.setText(str(tmp_path / "sauvegardes"))
    dialog.keep.setValue(14)
    dialog.accept()
    settings = auto_backup.read_settings(desk)
    assert (settings.path(), settings.keep_days) == (tmp_path / "sauvegardes", 14)
