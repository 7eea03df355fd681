"""Dialogs of the Rendez-vous tab: book a slot, move a booking, create the September slots."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QEvent, QLocale, Qt, QTime, QTimer
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QAbstractItemView, QButtonGroup, QCheckBox, QComboBox, QDateEdit, QDialog, QDialogButtonBox,
    QFormLayout, QHBoxLayout, QLabel, QLineEdit, QListView, QListWidget, QListWidgetItem,
    QRadioButton, QSpinBox, QTimeEdit, QVBoxLayout, QWidget,
)

from gandrange_desk import formats
from gandrange_desk.ui.common.widgets import pydate, qdate
from gandrange_desk.services.appointments import book as ap
from gandrange_desk.services.families import file as fam
from gandrange_desk.services.appointments.texts import when_text
from gandrange_desk.ui.common import ops

ERROR_STYLE = "color: #b00020;"
FRENCH = QLocale(QLocale.French, QLocale.France)


def _error_label() -> QLabel:
    label = QLabel()
    label.setStyleSheet(ERROR_STYLE)
    label.setWordWrap(True)
    return label


def slot_title(slot: ap.SlotRow) -> str:
    who = f" — {slot.clerk_name}" if slot.clerk_name else ""
    return f"Créneau du {when_text(slot.starts_at)}{who}"


class BookDialog(QDialog):
    """Place a registered family (searched by name, child, phone…) or a visitor in a free slot."""

    def __init__(self, desk, slot: ap.SlotRow, parent: QWidget | None = None):
        super().__init__(parent)
        self.desk = desk
        self.slot = slot
        self.result_booking: ap.BookResult | None = None
        self.setWindowTitle("Réserver un rendez-vous")
        self.resize(560, 520)
        lay = QVBoxLayout(self)
        title = QLabel(f"<b>{slot_title(slot)}</b>")
        lay.addWidget(title)

        self.family_radio = QRadioButton("&Famille inscrite")
        self.visitor_radio = QRadioButton("&Visiteur (famille pas encore inscrite)")
        group = QButtonGroup(self)
        group.addButton(self.family_radio)
        group.addButton(self.visitor_radio)
        self.family_radio.setChecked(True)
        lay.addWidget(self.family_radio)

        self.family_box = QWidget()
        fl = QVBoxLayout(self.family_box)
        fl.setContentsMargins(18, 0, 0, 0)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Nom, référence, enfant, e-mail ou téléphone… (↓ pour choisir)")
        self.results_model = QStandardItemModel(self)
        self.results = QListView()
        self.results.setModel(self.results_model)
        self.results.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.results.setUniformItemSizes(True)
        self.results.doubleClicked.connect(lambda _i: self.accept_booking())
        self.found = QLabel()
        fl.addWidget(self.search)
        fl.addWidget(self.results)
        fl.addWidget(self.found)
        lay.addWidget(self.family_box)

        lay.addWidget(self.visitor_radio)
        self.visitor_box = QWidget()
        vl = QFormLayout(self.visitor_box)
        vl.setContentsMargins(18, 0, 0, 0)
        self.visitor_name = QLineEdit()
        self.visitor_phone = QLineEdit()
        self.visitor_phone.setPlaceholderText("06 12 34 56 78")
        name_label = QLabel("&Nom")
        name_label.setBuddy(self.visitor_name)
        phone_label = QLabel("&Téléphone")
        phone_label.setBuddy(self.visitor_phone)
        vl.addRow(name_label, self.visitor_name)
        vl.addRow(phone_label, self.visitor_phone)
        lay.addWidget(self.visitor_box)

        form = QFormLayout()
        self.notes = QLineEdit()
        self.notes.setPlaceholderText("Ce que la famille vient faire, ce qui manque au dossier…")
        notes_label = QLabel("N&otes")
        notes_label.setBuddy(self.notes)
        form.addRow(notes_label, self.notes)
        lay.addLayout(form)
        self.notify = QCheckBox("Envoyer la &confirmation par e-mail (famille inscrite avec une adresse)")
        self.notify.setChecked(True)
        lay.addWidget(self.notify)
        self.error = _error_label()
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.ok = buttons.addButton("&Réserver", QDialogButtonBox.AcceptRole)
        self.ok.setDefault(True)
        buttons.accepted.connect(self.accept_booking)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(200)
        self._timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _t: self._timer.start())
        self.search.installEventFilter(self)
        self.family_radio.toggled.connect(self._mode)
        self._mode()
        self.run_search()
        self.search.setFocus()

    def eventFilter(self, obj, event):  # noqa: N802 - Qt API
        # ↓/↑ in the search field walk the results without leaving it (keyboard-first).
        if obj is self.search and event.type() == QEvent.KeyPress and event.key() in (Qt.Key_Down, Qt.Key_Up):
            rows = self.results_model.rowCount()
            if rows:
                current = self.results.currentIndex().row()
                step = 1 if event.key() == Qt.Key_Down else -1
                row = min(max(current + step, 0), rows - 1)
                self.results.setCurrentIndex(self.results_model.index(row, 0))
            return True
        return super().eventFilter(obj, event)

    def _mode(self, *_):
        family = self.family_radio.isChecked()
        self.family_box.setEnabled(family)
        self.visitor_box.setEnabled(not family)
        (self.search if family else self.visitor_name).setFocus()

    def run_search(self) -> None:
        self._timer.stop()
        result = fam.search(self.desk, self.search.text(), limit=50)
        self.results_model.clear()
        for r in result.rows:
            text = f"{r.name} ({r.ref})"
            if r.children:
                text += f" — {r.children}"
            item = QStandardItem(text)
            item.setData(r.id, Qt.UserRole)
            self.results_model.appendRow(item)
        if result.rows:
            self.results.setCurrentIndex(self.results_model.index(0, 0))
        shown = len(result.rows)
        self.found.setText(f"{formats.count(result.total, 'famille trouvée', 'familles trouvées')}"
                           + (f" (les {shown} premières affichées)" if result.truncated else ""))

    def chosen_family(self) -> int | None:
        index = self.results.currentIndex()
        return index.data(Qt.UserRole) if index.isValid() else None

    def accept_booking(self) -> None:
        self.error.clear()
        if self.family_radio.isChecked():
            family_id = self.chosen_family()
            if family_id is None:
                self.error.setText("Choisissez la famille dans la liste (tapez son nom, puis ↓).")
                return
            kwargs = {"family_id": family_id}
        else:
            kwargs = {"visitor_name": self.visitor_name.text(), "visitor_phone": self.visitor_phone.text()}
        ops.run(self, "Réserver le rendez-vous", lambda: ap.book(
            self.desk, self.slot.id, self.slot.version, notes=self.notes.text(), notify=self.notify.isChecked(),
            **kwargs), on_done=self._booked, on_error=self.error.setText)

    def _booked(self, result: ap.BookResult) -> None:
        self.result_booking = result
        self.accept()


class MoveDialog(QDialog):
    """Choose another free slot of the month for a booking."""

    def __init__(self, desk, slot: ap.SlotRow, parent: QWidget | None = None):
        super().__init__(parent)
        self.desk = desk
        self.slot = slot
        self.result_booking: ap.BookResult | None = None
        self.setWindowTitle("Déplacer le rendez-vous")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel(f"<b>{slot.who}</b><br>{slot_title(slot)}"))
        first, last = ap.september(desk)
        self.target = QComboBox()
        for r in ap.free_slots(desk, min(first, desk.today()), max(last, desk.today())):
            self.target.addItem(f"{formats.WEEKDAYS_SHORT_FR[r.day.weekday()]} {formats.ddmmyyyy(r.day)} "
                                f"à {r.time_text} — {r.clerk_name or 'sans agent'}", r.id)
        form = QFormLayout()
        label = QLabel("&Nouveau créneau")
        label.setBuddy(self.target)
        form.addRow(label, self.target)
        lay.addLayout(form)
        self.notify = QCheckBox("Prévenir la famille par &e-mail")
        self.notify.setChecked(True)
        lay.addWidget(self.notify)
        self.error = _error_label()
        if not self.target.count():
            self.error.setText("Aucun créneau libre à venir : créez d'autres créneaux d'abord.")
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.ok = buttons.addButton("&Déplacer", QDialogButtonBox.AcceptRole)
        self.ok.setEnabled(self.target.count() > 0)
        buttons.accepted.connect(self.accept_move)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def accept_move(self) -> None:
        target = self.target.currentData()
        if target is None:
            return
        ops.run(self, "Déplacer le rendez-vous", lambda: ap.move(
            self.desk, self.slot.id, self.slot.version, target, notify=self.notify.isChecked()),
            on_done=self._moved, on_error=self.error.setText)

    def _moved(self, result: ap.BookResult) -> None:
        self.result_booking = result
        self.accept()


def _time_edit(hhmm: str) -> QTimeEdit:
    edit = QTimeEdit(QTime.fromString(hhmm, "HH:mm"))
    edit.setDisplayFormat("HH:mm")
    return edit


class CreateSlotsDialog(QDialog):
    """"Créer les créneaux…" (supervisor): period, opening hours, slot length, pause, clerks."""

    def __init__(self, desk, parent: QWidget | None = None, *, first: date | None = None):
        super().__init__(parent)
        self.desk = desk
        self.result_slots: ap.SlotsResult | None = None
        self.setWindowTitle("Créer les créneaux de rendez-vous")
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("Les week-ends, jours fériés et fermetures sont sautés ; un agent n'a jamais "
                             "deux créneaux à la même heure."))
        sept_first, sept_last = ap.september(desk)
        start_day = first or max(sept_first, desk.today())
        form = QFormLayout()
        self.first = QDateEdit(qdate(start_day), calendarPopup=True)
        self.last = QDateEdit(qdate(max(sept_last, start_day)), calendarPopup=True)
        for edit in (self.first, self.last):
            edit.setLocale(FRENCH)
            edit.setDisplayFormat("dd/MM/yyyy")
        self.start = _time_edit("09:00")
        self.end = _time_edit("17:00")
        self.minutes = QSpinBox()
        self.minutes.setRange(10, 240)
        self.minutes.setSingleStep(5)
        self.minutes.setValue(30)
        self.minutes.setSuffix(" min")
        pause_row = QWidget()
        pl = QHBoxLayout(pause_row)
        pl.setContentsMargins(0, 0, 0, 0)
        self.pause = QCheckBox("de")
        self.pause.setChecked(True)
        self.pause_start = _time_edit("12:00")
        self.pause_end = _time_edit("13:30")
        pl.addWidget(self.pause)
        pl.addWidget(self.pause_start)
        pl.addWidget(QLabel("à"))
        pl.addWidget(self.pause_end)
        pl.addStretch(1)
        self.pause.toggled.connect(lambda on: (self.pause_start.setEnabled(on), self.pause_end.setEnabled(on)))
        self.clerk_list = QListWidget()
        self.clerk_list.setMaximumHeight(120)
        for c in ap.clerks(desk):
            item = QListWidgetItem(f"{c.full_name} ({c.login})")
            item.setData(Qt.UserRole, c.login)
            item.setFlags(item.flags() | Qt.ItemIsUserCheckable)
            item.setCheckState(Qt.Checked if c.login == desk.actor.login else Qt.Unchecked)
            self.clerk_list.addItem(item)
        for label, widget in (("Du", self.first), ("&Au", self.last), ("&Première heure", self.start),
                              ("&Fin", self.end), ("&Durée d'un créneau", self.minutes),
                              ("&Pause sans créneau", pause_row), ("A&gents (espace pour cocher)", self.clerk_list)):
            lab = QLabel(label)
            lab.setBuddy(self.pause if widget is pause_row else widget)
            form.addRow(lab, widget)
        lay.addLayout(form)
        self.error = _error_label()
        lay.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Cancel)
        self.ok = buttons.addButton("&Créer les créneaux", QDialogButtonBox.AcceptRole)
        self.ok.setDefault(True)
        buttons.accepted.connect(self.accept_create)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def set_clerks(self, logins: list[str]) -> None:
        for i in range(self.clerk_list.count()):
            item = self.clerk_list.item(i)
            item.setCheckState(Qt.Checked if item.data(Qt.UserRole) in logins else Qt.Unchecked)

    def chosen_clerks(self) -> list[str]:
        return [self.clerk_list.item(i).data(Qt.UserRole) for i in range(self.clerk_list.count())
                if self.clerk_list.item(i).checkState() == Qt.Checked]

    def accept_create(self) -> None:
        pause = (self.pause_start.time().toString("HH:mm"), self.pause_end.time().toString("HH:mm")) \
            if self.pause.isChecked() else None
        ops.run(self, "Créer les créneaux", lambda: ap.create_slots(
            self.desk, pydate(self.first.date()), pydate(self.last.date()),
            start=self.start.time().toString("HH:mm"), end=self.end.time().toString("HH:mm"),
            minutes=self.minutes.value(), clerk_logins=self.chosen_clerks(), pause=pause),
            on_done=self._created, on_error=self.error.setText)

    def _created(self, result: ap.SlotsResult) -> None:
        self.result_slots = result
        self.accept()


__all__ = ["BookDialog", "MoveDialog", "CreateSlotsDialog", "slot_title"]
