"""The Pointage tab: a tablet or a PC at the door, one tap per child.

Choose the day (today by default), the school and the unit; every expected child is a big row.
Tap Présent, Absent or Excusé; tap ✕ to take a wrong mark back; for an evening unit, tap Retard
to note when the family came. A child without a reservation is found by name at the bottom and
marked "présent sans réservation". At the end, "Non pointés → absents" marks the rest.

Keyboard at a PC: ↑/↓ choose the child, P / A / E mark, Suppr clears, R the late time.
Two devices at once: each tap says what the screen showed; if another device marked the child
in between, the tap is refused, the line below says by whom, and the sheet reloads. The sheet
also reloads by itself every 20 seconds while it is on screen.
"""

from __future__ import annotations

from datetime import date, timedelta

from PySide6.QtCore import QDate, QLocale, Qt, QTimer
from PySide6.QtGui import QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDateEdit, QHBoxLayout, QHeaderView, QInputDialog, QLabel, QLineEdit,
    QListView, QMessageBox, QPushButton, QSizePolicy, QTableView, QVBoxLayout, QWidget,
)

from gandrange_desk import formats
from gandrange_desk.errors import DeskError, StaleEdit
from gandrange_desk.models import Presence, Role
from gandrange_desk.services.attendance import records
from gandrange_desk.ui.attendance.model import (
    ABSENT, BY, CLASS, CLEAR, EXCUSED, HEALTH, LATE, MARK_OF, NAME, PRESENT, ROW_HEIGHT, ButtonDelegate, SheetModel,
)
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.export import export_button
from gandrange_desk.ui.common.refresh import Follow
from gandrange_desk.ui.common.table_model import RowsTableModel

AUTO_RELOAD_MS = 20_000
NARROW = 1150  # below this width (a tablet): class and health under the name
UPRIGHT = 1000  # below this width (a tablet held upright): the choices on their own line


class CandidatesModel(RowsTableModel):
    HEADERS = ("Enfant",)

    def data(self, index, role=Qt.DisplayRole):
        c = self.row(index)
        if c is not None and role == Qt.DisplayRole:
            return f"{c.name}  —  {c.class_name}  —  {c.school_name}".strip(" —")
        return None


class AttendanceTab(QWidget):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.sheet: records.Sheet | None = None
        self.units: list[records.DayUnit] = []
        self._build()
        self.reload_choices()
        self.follow = Follow(self, ("attendance", "cells", "settings"), lambda _changes: self.reload_choices())
        self.timer = QTimer(self)
        self.timer.setInterval(AUTO_RELOAD_MS)
        self.timer.timeout.connect(self._auto_reload)
        self.timer.start()

    # --- layout ---------------------------------------------------------------------------
    def _big(self, widget, size: float = 13) -> QWidget:
        font = QFont(widget.font())
        font.setPointSizeF(size)
        widget.setFont(font)
        widget.setMinimumHeight(44)
        return widget

    def _build(self) -> None:
        self.prev_day = self._big(QPushButton("◀"))
        self.next_day = self._big(QPushButton("▶"))
        self.today_button = self._big(QPushButton("Aujourd'&hui"))
        for b in (self.prev_day, self.next_day):
            b.setFixedWidth(52)
        self.prev_day.setToolTip("Jour précédent")
        self.next_day.setToolTip("Jour suivant")
        self.date_edit = self._big(QDateEdit(calendarPopup=True))
        self.date_edit.setLocale(QLocale(QLocale.French, QLocale.France))
        self.date_edit.setDisplayFormat("ddd dd/MM/yyyy")
        self.school_combo = self._big(QComboBox())
        self.unit_combo = self._big(QComboBox())
        # Short minimums: the whole bar must fit a tablet held upright before it wraps.
        for combo, length in ((self.school_combo, 10), (self.unit_combo, 14)):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(length)
        self.date_edit.setMinimumWidth(150)
        top = QHBoxLayout()
        for w in (self.prev_day, self.date_edit, self.next_day, self.today_button):
            top.addWidget(w)
        # On a wide screen the school and the unit sit on the same line; on a narrow one
        # (a tablet held upright) on their own line below.
        self.choice_row = QHBoxLayout()
        self.choice_row.addWidget(self.school_combo, 1)
        self.choice_row.addWidget(self.unit_combo, 2)
        top.addLayout(self.choice_row, 1)
        self.rules_button = QPushButton("Règles de facturation…")
        self.rules_button.setVisible(self.desk.actor.at_least(Role.RESPONSABLE))
        self.rules_button.clicked.connect(self.open_rules)
        top.addWidget(self.rules_button)
        self.second_row = QHBoxLayout()

        self.summary = self._big(QLabel(""), 14)
        self.summary.setWordWrap(True)
        self.model = SheetModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setItemDelegate(ButtonDelegate(self.model, self.view))
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.view.setVerticalScrollMode(QAbstractItemView.ScrollPerPixel)
        self.view.setShowGrid(False)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        font = QFont(self.view.font())
        font.setPointSizeF(13)
        self.view.setFont(font)
        vertical = self.view.verticalHeader()
        vertical.setSectionResizeMode(QHeaderView.Fixed)
        vertical.setDefaultSectionSize(ROW_HEIGHT)
        vertical.hide()
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.Fixed)
        header.setSectionResizeMode(HEALTH, QHeaderView.Stretch)
        header.setMinimumSectionSize(40)
        for col, width in ((NAME, 290), (CLASS, 72), (PRESENT, 128), (ABSENT, 118), (EXCUSED, 118), (LATE, 104),
                           (BY, 130), (CLEAR, 60)):
            header.resizeSection(col, width)
        self.view.clicked.connect(self._tapped)
        self.message = QLabel("")
        self.message.setWordWrap(True)
        self.message.setMinimumHeight(24)

        self.walk_in = self._big(QLineEdit(), 12)
        self.walk_in.setPlaceholderText("Présent sans réservation : tapez le nom de l'enfant…")
        self.walk_in.setClearButtonEnabled(True)
        self.candidates = CandidatesModel(self)
        self.candidate_view = QListView()
        self.candidate_view.setModel(self.candidates)
        self.candidate_view.setFont(font)
        self.candidate_view.setSpacing(4)
        self.candidate_view.setVisible(False)
        self.candidate_view.clicked.connect(self._candidate_tapped)
        self.rest_button = self._big(QPushButton("Non pointés → absents"), 12)
        self.rest_button.setToolTip("En fin d'accueil : marquer absents les enfants attendus qui ne sont pas pointés")
        self.rest_button.clicked.connect(self.mark_rest_absent)
        self.export_button = self._big(export_button(self, self.desk, "attendance", lambda: {
            "month": self.day().replace(day=1), "school_id": self.school_combo.currentData(),
            "activity_id": self.sheet.unit.activity_id if self.sheet else None}, on_done=self._say), 12)
        self.export_button.setText("E&xporter le mois…")
        bottom = QHBoxLayout()
        bottom.addWidget(self.walk_in, 1)
        bottom.addWidget(self.rest_button)
        bottom.addWidget(self.export_button)

        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(self.second_row)
        self.top_row = top
        layout.addWidget(self.summary)
        layout.addWidget(self.view, 1)
        layout.addWidget(self.message)
        layout.addLayout(bottom)
        layout.addWidget(self.candidate_view)
        self.summary.setSizePolicy(QSizePolicy.Preferred, QSizePolicy.Fixed)

        self.prev_day.clicked.connect(lambda: self.set_day(self.day() - timedelta(days=1)))
        self.next_day.clicked.connect(lambda: self.set_day(self.day() + timedelta(days=1)))
        self.today_button.clicked.connect(lambda: self.set_day(self.desk.today()))
        self.date_edit.dateChanged.connect(lambda _d: self.reload_choices())
        self.school_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.unit_combo.currentIndexChanged.connect(lambda _i: self.reload())
        self.walk_in.textChanged.connect(self._search_walk_in)
        for keys, presence in (("P", Presence.PRESENT), ("A", Presence.ABSENT), ("E", Presence.EXCUSED)):
            shortcut = QShortcut(QKeySequence(keys), self.view, context=Qt.WidgetShortcut)
            shortcut.activated.connect(lambda p=presence: self._key_mark(p))
        QShortcut(QKeySequence.Delete, self.view, context=Qt.WidgetShortcut).activated.connect(
            lambda: self._key_column(CLEAR))
        QShortcut(QKeySequence("R"), self.view, context=Qt.WidgetShortcut).activated.connect(
            lambda: self._key_column(LATE))
        self.set_day(self.desk.today())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().resizeEvent(event)
        self.apply_width(self.width())

    def apply_width(self, width: int) -> None:
        """Wide (a PC): every column. Narrow (a tablet): class and health under the name, no
        "Pointé par"; upright: the school and unit choices on a second line, smaller buttons."""
        compact = width < NARROW
        upright = width < UPRIGHT
        self.model.compact = compact
        for col in (CLASS, HEALTH, BY):
            self.view.setColumnHidden(col, compact)
        header = self.view.horizontalHeader()
        header.setSectionResizeMode(NAME, QHeaderView.Stretch if compact else QHeaderView.Fixed)
        header.setSectionResizeMode(HEALTH, QHeaderView.Fixed if compact else QHeaderView.Stretch)
        if not compact:
            header.resizeSection(NAME, 290)
        for col, wide, narrow in ((PRESENT, 128, 112), (ABSENT, 118, 100), (EXCUSED, 118, 100), (LATE, 104, 92),
                                  (CLEAR, 60, 54)):
            header.resizeSection(col, narrow if upright else wide)
        target = self.second_row if upright else self.choice_row
        for combo in (self.school_combo, self.unit_combo):
            target.addWidget(combo, 1 if combo is self.school_combo else 2)

    # --- choosing the sheet ---------------------------------------------------------------
    def day(self) -> date:
        return self.date_edit.date().toPython()

    def set_day(self, day: date) -> None:
        self.date_edit.setDate(QDate(day.year, day.month, day.day))

    def reload_choices(self) -> None:
        """The schools and the units open on the chosen day (the unit chosen before is kept)."""
        day = self.day()
        school, unit = self.school_combo.currentData(), self.unit_combo.currentData()
        try:
            sites = records.sites(self.desk)
            self.units = records.open_units(self.desk, day)
        except DeskError as exc:
            self._say(str(exc), error=True)
            return
        for combo, items, everything in ((self.school_combo, sites, "Toutes les écoles"),
                                         (self.unit_combo, [(u.unit_id, u.label) for u in self.units], None)):
            combo.blockSignals(True)
            combo.clear()
            if everything:
                combo.addItem(everything, None)
            for value, label in items:
                combo.addItem(label, value)
            combo.blockSignals(False)
        self.school_combo.setCurrentIndex(max(0, self.school_combo.findData(school)) if school is not None else 0)
        if unit is not None and self.unit_combo.findData(unit) >= 0:
            self.unit_combo.setCurrentIndex(self.unit_combo.findData(unit))
        else:
            self.unit_combo.setCurrentIndex(self._default_unit(day))
        self.reload()

    def refresh(self) -> None:
        """F5: the sites, the units open that day and the sheet, read again."""
        self.reload_choices()

    def _default_unit(self, day: date) -> int:
        """On today's sheet, the unit of the hour: morning before 10, the meal before 14, then
        the evening; on another day, the first unit."""
        if not self.units or day != self.desk.today():
            return 0
        hour = self.desk.now().hour
        wanted = "matin" if hour < 10 else "repas" if hour < 14 else "soir"
        for i, unit in enumerate(self.units):
            if wanted in unit.unit_name.lower():
                return i
        return 0

    def reload(self) -> None:
        unit_id = self.unit_combo.currentData()
        if unit_id is None:
            self.sheet = None
            self.model.set_rows([])
            self.summary.setText(f"Aucun accueil le {formats.long_date(self.day())}.")
            self._enable(False)
            return
        try:
            self.sheet = records.sheet(self.desk, self.day(), unit_id, self.school_combo.currentData())
        except DeskError as exc:
            self._say(str(exc), error=True)
            return
        self.model.update_rows(self.sheet.rows)
        self.summary.setText(self.sheet.summary())
        self._enable(self.sheet.editable)
        if self.sheet.future:
            self._say("Jour à venir : la liste se consulte, le pointage se fera le jour même.")
        elif self.sheet.closed:
            self._say(f"Fermé ce jour-là ({self.sheet.closed}).")

    def _enable(self, editable: bool) -> None:
        self.view.setEnabled(editable or bool(self.model.rows))
        self.walk_in.setEnabled(editable)
        self.rest_button.setEnabled(editable)
        self.view.setColumnHidden(LATE, not (self.sheet and editable))

    def _auto_reload(self) -> None:
        if self.isVisible() and self.sheet is not None:
            self.reload()

    def apply_changes(self, changes, origin=None) -> None:
        """The window's "what changed" broadcast: marks, cells or settings (this tab's own taps
        have reloaded it already)."""
        if origin is not self:
            self.follow(changes)

    # --- marking --------------------------------------------------------------------------
    def _tapped(self, index) -> None:
        row = self.model.row(index)
        if row is None or self.sheet is None or not self.sheet.editable:
            return
        col = index.column()
        if col not in MARK_OF and col not in (LATE, CLEAR):
            return
        if not self.model.button(index)[2]:  # a disabled button (no late time for an absent child)
            return
        if col in MARK_OF:
            if row.presence != MARK_OF[col]:
                self.mark(row, MARK_OF[col])
        elif col == LATE:
            self.note_late(row)
        elif col == CLEAR:
            self._run(lambda: records.clear(self.desk, row.child_id, self.sheet.unit.unit_id, self.sheet.day,
                                            expected=row.presence))

    def mark(self, row, presence: str, late_time: str = "") -> None:
        self._run(lambda: records.record(self.desk, row.child_id, self.sheet.unit.unit_id, self.sheet.day, presence,
                                         late_time=late_time, expected=row.presence))

    def _current(self):
        return self.model.row(self.view.currentIndex())

    def _key_mark(self, presence: str) -> None:
        row = self._current()
        if row is not None and self.sheet and self.sheet.editable and row.expected and row.presence != presence:
            self.mark(row, presence)

    def _key_column(self, column: int) -> None:
        index = self.view.currentIndex()
        if index.isValid():
            self._tapped(self.model.index(index.row(), column))

    def note_late(self, row) -> None:
        text = self.ask_late_time(row)
        if text is None:
            return
        self.mark(row, row.presence, text)

    def ask_late_time(self, row) -> str | None:
        """The family's arrival time, "" to remove it; None when cancelled. Tests replace it."""
        now = self.desk.now().strftime("%H:%M") if self.sheet.day == self.desk.today() else ""
        text, ok = QInputDialog.getText(self, "Retard", f"{row.name} : heure d'arrivée de la famille (HH:MM), "
                                                        "vide pour l'effacer", text=row.late_time or now)
        return text.strip() if ok else None

    def mark_rest_absent(self) -> None:
        if self.sheet is None:
            return
        unmarked = self.sheet.counts()["unmarked"]
        if not unmarked:
            self._say("Tous les enfants attendus sont déjà pointés.")
            return
        if not self.confirm(f"Marquer absents les {formats.count(unmarked, 'enfant', 'enfants')} non pointés "
                            f"de {self.sheet.unit.label} ?"):
            return
        self._run(lambda: records.mark_unmarked(self.desk, self.sheet.day, self.sheet.unit.unit_id,
                                                self.sheet.school_id))

    def confirm(self, text: str) -> bool:
        return QMessageBox.question(self, "Pointage", text) == QMessageBox.Yes

    def _run(self, fn) -> None:
        """One tap, one operation; refusals go to the line under the sheet, never to a box (the
        door has no time for one), and a tap refused because another device marked first
        reloads the sheet."""
        ops.run(self, "Pointage", fn, on_done=self._marked, on_refused=self._refused)

    def _marked(self, result) -> None:
        self._say(result.text + (f" {result.note}" if result.note else ""))
        self.reload()

    def _refused(self, exc: DeskError) -> None:
        self._say(str(exc), error=True)
        if isinstance(exc, StaleEdit):
            self.reload()

    # --- walk-ins -------------------------------------------------------------------------
    def _search_walk_in(self, text: str) -> None:
        if self.sheet is None or len(text.strip()) < 2:
            self.candidates.set_rows([])
            self.candidate_view.setVisible(False)
            return
        try:
            found = records.walk_in_candidates(self.desk, text, self.sheet.day, self.sheet.unit.unit_id, limit=8)
        except DeskError as exc:
            self._say(str(exc), error=True)
            return
        self.candidates.set_rows(found)
        self.candidate_view.setFixedHeight(min(150, 12 + 36 * len(found)))
        self.candidate_view.setVisible(bool(found))
        if not found:
            self._say("Aucun enfant à ce nom parmi ceux qui ne sont pas déjà sur la liste.")

    def _candidate_tapped(self, index) -> None:
        candidate = self.candidates.row(index)
        if candidate is None or self.sheet is None:
            return
        self._run(lambda: records.record(self.desk, candidate.child_id, self.sheet.unit.unit_id, self.sheet.day,
                                         Presence.WALK_IN, expected=None))
        self.walk_in.clear()

    # --- settings -------------------------------------------------------------------------
    def open_rules(self) -> None:
        from gandrange_desk.ui.attendance.settings_dialog import AttendanceSettingsDialog

        AttendanceSettingsDialog(self.desk, self).exec()

    def _say(self, text: str, error: bool = False) -> None:
        stamp = self.desk.now().strftime("%H:%M:%S")
        self.message.setStyleSheet("color: #B00020; font-weight: bold" if error else "color: #1B5E20")
        self.message.setText(f"{stamp} — {text}" if text else "")
