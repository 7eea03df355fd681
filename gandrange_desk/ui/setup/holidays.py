"""School holidays the package does not know: the warning at start and the dialog to enter
them or import the ministry's calendar (Outils › Vacances scolaires)."""

from __future__ import annotations

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (QDateEdit, QDialog, QDialogButtonBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QHeaderView, QLabel, QLineEdit, QMessageBox,
                               QPushButton, QTableView, QVBoxLayout)

from gandrange_desk.errors import DeskError
from gandrange_desk.services.system import school_holidays as sh
from gandrange_desk.ui.common.table_model import RowsTableModel

TITLE = "Vacances scolaires"


class HolidaysModel(RowsTableModel):
    HEADERS = ("Premier jour", "Dernier jour", "Vacances")

    def data(self, index, role=Qt.DisplayRole):
        row = self.row(index)
        if row is None or role != Qt.DisplayRole:
            return None
        return (f"{row.first_day:%d/%m/%Y}", f"{row.last_day:%d/%m/%Y}", row.label)[index.column()]


def _date_edit() -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd/MM/yyyy")
    edit.setDate(QDate.currentDate())
    return edit


class HolidaysDialog(QDialog):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle(TITLE)
        self.resize(620, 460)
        self.status = QLabel("")
        self.status.setWordWrap(True)
        self.model = HolidaysModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QTableView.SelectRows)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.first = _date_edit()
        self.last = _date_edit()
        self.label = QLineEdit("Vacances de Noël")
        add = QPushButton("&Ajouter")
        add.clicked.connect(self.add)
        remove = QPushButton("&Supprimer la période choisie")
        remove.clicked.connect(self.remove)
        imp = QPushButton("&Importer le calendrier du ministère…")
        imp.clicked.connect(self.import_file)
        form = QFormLayout()
        form.addRow("Premier jour :", self.first)
        form.addRow("Dernier jour :", self.last)
        form.addRow("Nom :", self.label)
        buttons_row = QHBoxLayout()
        for button in (add, remove, imp):
            buttons_row.addWidget(button)
        close = QDialogButtonBox(QDialogButtonBox.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.status)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        layout.addLayout(buttons_row)
        layout.addWidget(close)
        self.reload()

    def reload(self) -> None:
        self.model.set_rows(sh.list_holidays(self.desk))
        warning = sh.check_in_use(self.desk)
        self.status.setText(warning or f"Les vacances des années scolaires en cours sont connues "
                                       f"(données officielles jusqu'au {sh.package_last_day():%d/%m/%Y}).")

    def _run(self, fn) -> bool:
        try:
            fn()
        except DeskError as exc:
            QMessageBox.warning(self, TITLE, str(exc))
            return False
        self.reload()
        return True

    def add(self) -> None:
        self._run(lambda: sh.add_holiday(self.desk, self.first.date().toPython(), self.last.date().toPython(),
                                         self.label.text()))

    def remove(self) -> None:
        row = self.model.row(self.table.currentIndex())
        if row is not None:
            self._run(lambda: sh.remove_holiday(self.desk, row.id))

    def import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Calendrier scolaire du ministère", "",
                                              "Calendrier (*.ics *.csv)")
        if path:
            self._run(lambda: sh.import_calendar(self.desk, path))


def warn_if_uncovered(desk, parent=None) -> str:
    """At start: say which school year in use has no known holidays, and offer to enter them."""
    try:
        text = sh.check_in_use(desk)
    except DeskError:
        return ""
    _ask(desk, text, parent)
    return text


def warn_if_uncovered_later(desk, window) -> None:
    """`warn_if_uncovered` once the window's filled first tab is on screen, its data read off the
    main thread: the school holidays' CSV (~0.1 s of CPU) and two reads would otherwise hold the
    filled list back from its paint (issue 14, the start-up after « Se connecter »). The frozen
    program's importer is not thread-safe: there the check runs on the main thread, after that
    paint all the same."""
    import sys
    import threading

    from PySide6.QtCore import QTimer

    if getattr(sys, "frozen", False):
        window.after_first_paint(lambda: window.after_next_paint(lambda: warn_if_uncovered(desk, window)))
        return
    found: dict[str, str] = {}

    def check() -> None:
        try:
            found["text"] = sh.check_in_use(desk)
        except Exception:  # noqa: BLE001 - a start-up courtesy: the holidays window says it all
            found["text"] = ""

    def start() -> None:
        worker = threading.Thread(target=check, name="holidays-check", daemon=True)
        worker.start()

        def ask() -> None:
            if worker.is_alive():
                QTimer.singleShot(50, window, ask)
            elif window.isVisible():
                _ask(desk, found.get("text", ""), window)

        QTimer.singleShot(50, window, ask)

    window.after_first_paint(lambda: window.after_next_paint(start))


def _ask(desk, text: str, parent) -> None:
    if not text:
        return
    box = QMessageBox(QMessageBox.Warning, TITLE, text, parent=parent)
    enter = box.addButton("Saisir les vacances…", QMessageBox.AcceptRole)
    box.addButton("Plus tard", QMessageBox.RejectRole)
    box.exec()
    if box.clickedButton() is enter:
        HolidaysDialog(desk, parent).exec()
