"""« Réservations sur période » (seed page 7): activity and unit, dates, week type, weekdays,
the live total, then « Réserver » — one R (office) or DR (pour la famille) per open day."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QLocale
from PySide6.QtWidgets import (
    QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox, QFormLayout, QHBoxLayout, QLabel,
    QMessageBox, QVBoxLayout, QWidget,
)

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
from gandrange_desk.ui.common.widgets import pydate, qdate
from gandrange_desk.services.reservations.bookings import CapacityExceeded
from gandrange_desk.services.reservations.cells import book_period
from gandrange_desk.services.reservations.periods import WEEK_TYPES, preview_period
from gandrange_desk.ui.common import ops

DAY_LABELS = tuple(day.capitalize() for day in formats.WEEKDAYS_FR)


class PeriodDialog(QDialog):
    """`activities`: [(id, name, [(unit_id, unit_name)], weekday numbers)];
    `children`: [(child_id, name)] the booking is for."""

    def __init__(self, desk, activities, children, *, activity_id=None, unit_id=None,
                 first: date | None = None, last: date | None = None, for_family: bool = False,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.desk = desk
        self.activities = activities
        self.children = children
        self.for_family = for_family
        self.result_cells = None
        self.setWindowTitle("Réservations sur période")
        self.confirm = self._confirm  # tests replace it

        layout = QVBoxLayout(self)
        who = ", ".join(name for _, name in children[:4])
        if len(children) > 4:
            who += f" et {formats.count(len(children) - 4, 'autre', 'autres')}"
        mode = "demandes pour la famille (DR)" if for_family else "réservations directes (R)"
        header = QLabel(f"<b>{who}</b><br>{mode}")
        layout.addWidget(header)

        form = QFormLayout()
        self.activity = QComboBox()
        for aid, name, _units, _days in activities:
            self.activity.addItem(name, aid)
        self.unit = QComboBox()
        self.first = QDateEdit(calendarPopup=True)
        self.last = QDateEdit(calendarPopup=True)
        for edit in (self.first, self.last):
            edit.setLocale(QLocale(QLocale.French, QLocale.France))
            edit.setDisplayFormat("dd/MM/yyyy")
        today = desk.today()
        self.first.setDate(qdate(first or today))
        self.last.setDate(qdate(last or today))
        self.week_type = QComboBox()
        for key, label in WEEK_TYPES.items():
            self.week_type.addItem(label, key)
        self.days_box = QWidget()
        days_layout = QHBoxLayout(self.days_box)
        days_layout.setContentsMargins(0, 0, 0, 0)
        self.day_checks = []
        for i, label in enumerate(DAY_LABELS):
            box = QCheckBox(label)
            self.day_checks.append(box)
            days_layout.addWidget(box)
        form.addRow("&Activité", self.activity)
        form.addRow("&Unité", self.unit)
        form.addRow("Date &début", self.first)
        form.addRow("Date &fin", self.last)
        form.addRow("&Type de semaine", self.week_type)
        form.addRow("Jours", self.days_box)
        layout.addLayout(form)

        self.total = QLabel("Total : 0")
        font = self.total.font()
        font.setBold(True)
        self.total.setFont(font)
        self.notes = QLabel("")
        self.notes.setWordWrap(True)
        self.error = QLabel("")
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #B00020")
        layout.addWidget(self.total)
        layout.addWidget(self.notes)
        layout.addWidget(self.error)
        self.buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.book_button = self.buttons.addButton("&Réserver", QDialogButtonBox.AcceptRole)
        self.book_button.setDefault(True)
        self.buttons.accepted.connect(self.book)
        self.buttons.rejected.connect(self.reject)
        layout.addWidget(self.buttons)

        if activity_id is not None:
            self.activity.setCurrentIndex(max(0, self.activity.findData(activity_id)))
        self._fill_units(unit_id)
        self.activity.currentIndexChanged.connect(lambda _: self._fill_units(None))
        for signal in (self.unit.currentIndexChanged, self.first.dateChanged,
                       self.last.dateChanged, self.week_type.currentIndexChanged):
            signal.connect(self.update_total)
        for box in self.day_checks:
            box.toggled.connect(self.update_total)
        self.update_total()

    def _activity_entry(self):
        aid = self.activity.currentData()
        return next((a for a in self.activities if a[0] == aid), None)

    def _fill_units(self, unit_id) -> None:
        entry = self._activity_entry()
        self.unit.blockSignals(True)
        self.unit.clear()
        for uid, name in (entry[2] if entry else []):
            self.unit.addItem(name, uid)
        if unit_id is not None:
            self.unit.setCurrentIndex(max(0, self.unit.findData(unit_id)))
        self.unit.blockSignals(False)
        weekdays = set(entry[3]) if entry else set()
        for i, box in enumerate(self.day_checks):
            box.blockSignals(True)
            box.setChecked(i in weekdays)
            box.setEnabled(i in weekdays)
            box.blockSignals(False)
        self.update_total()

    def choices(self) -> dict:
        return {
            "unit_id": self.unit.currentData(),
            "first": pydate(self.first.date()),
            "last": pydate(self.last.date()),
            "week_type": self.week_type.currentData(),
            "weekdays": {i for i, box in enumerate(self.day_checks) if box.isChecked()},
        }

    def update_total(self, *_):
        c = self.choices()
        self.error.setText("")
        if c["unit_id"] is None:
            self.total.setText("Total : 0")
            self.book_button.setEnabled(False)
            return
        def refused(text: str) -> None:
            self.total.setText("Total : 0")
            self.notes.setText("")
            self.error.setText(text)
            self.book_button.setEnabled(False)

        preview = ops.run(self, "Réservations sur période", lambda: preview_period(
            self.desk, [cid for cid, _ in self.children], c["unit_id"], c["first"], c["last"],
            c["week_type"], c["weekdays"]), on_error=refused)
        if preview is None:
            return
        self.total.setText(preview.text())
        notes = list(preview.plan.notes)
        if preview.plan.closed:
            shown = ", ".join(formats.ddmm(d) for d in sorted(preview.plan.closed)[:6])
            more = " …" if len(preview.plan.closed) > 6 else "."
            notes.append(f"{formats.count(len(preview.plan.closed), 'jour fermé ignoré', 'jours fermés ignorés')} : "
                         f"{shown}{more}")
        self.notes.setText("\n".join(notes))
        self.book_button.setEnabled(preview.total > 0)

    def book(self) -> None:
        c = self.choices()
        children = [cid for cid, _ in self.children]

        def booking(override: bool):
            return book_period(self.desk, children, for_family=self.for_family, capacity_override=override, **c)

        def refused(exc: DeskError):
            if isinstance(exc, CapacityExceeded) and self.confirm(str(exc)):
                return lambda: booking(True)
            self.error.setText(str(exc))
            return None

        def done(result) -> None:
            self.result_cells = result
            self.accept()

        ops.run(self, "Réservations sur période", lambda: booking(False), on_done=done, on_refused=refused)

    def _confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Capacité dépassée", text + "\n\nRéserver quand même ?",
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes


__all__ = ["PeriodDialog"]
