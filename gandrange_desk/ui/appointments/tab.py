"""« Rendez-vous »: the September help sessions (DESIGN §6).

A day picker, the day's slots, and from a booked slot everything the clerk does with the family
in front of them: open (or create) the family file, open the portal account, book the year with
the period dialog, print the acknowledgement to sign, record that it came back, close the slot.
The day reloads from the `Changes` of every operation (its own and the other tabs'), keeping the
selected slot.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QComboBox, QDialog, QHBoxLayout, QHeaderView, QLabel, QMessageBox, QPushButton,
    QTableView, QVBoxLayout, QWidget,
)

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
from gandrange_desk.models import PortalState, Role
from gandrange_desk.services.appointments import book as ap
from gandrange_desk.services.changes import Changes
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.refresh import Follow
from gandrange_desk.ui.common.table_model import RowsTableModel
from gandrange_desk.ui.common.windows import keep

COLUMNS = ("Heure", "Agent", "Famille / visiteur", "Téléphone", "État", "Accusé", "Portail", "Notes")
ASKED = ("demandée pour la famille", "demandées pour la famille")
STATUS_COLORS = {"free": QColor("#6b6b6b"), "done": QColor("#1b5e20"), "missed": QColor("#b00020"),
                 "cancelled": QColor("#9e9e9e")}


def _pdf():
    """The appointment PDFs: their module brings fpdf2 in (~25 MB), loaded on the first one drawn."""
    from gandrange_desk.services.pdf import appointments

    return appointments


class SlotsModel(RowsTableModel):
    HEADERS = COLUMNS

    def cell(self, r: ap.SlotRow, col: int) -> str:
        if col == 0:
            return r.time_text
        if col == 1:
            return r.clerk_name
        if col == 2:
            return r.who or "— libre —"
        if col == 3:
            return r.phone
        if col == 4:
            return r.status_label
        if col == 5:
            if r.family_id is None:
                return ""
            return "✓ rendu" if r.acknowledgement_returned else "⚠ non rendu"
        if col == 6:
            return PortalState.label_of(r.portal_state, "") if r.family_id else ""
        return r.notes

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role in (Qt.DisplayRole, Qt.ToolTipRole):
            return self.cell(r, col)
        if role == Qt.ForegroundRole:
            if col == 5 and r.family_id is not None:
                return QColor("#1b5e20") if r.acknowledgement_returned else QColor("#b06000")
            return STATUS_COLORS.get(r.status)
        if role == Qt.FontRole and r.status == "free":
            font = QFont()
            font.setItalic(True)
            return font
        if role == Qt.UserRole:
            return r
        return None


def show_file(path: Path) -> None:
    """Hand a PDF to the system viewer for printing (tests replace the tab's `show_file`)."""
    from PySide6.QtCore import QUrl
    from PySide6.QtGui import QDesktopServices

    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


class AppointmentsTab(QWidget):
    def __init__(self, desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.desk = desk
        self.show_file = show_file
        self.last_pdf: Path | None = None
        self.open_dialogs: list[QWidget] = []

        top = QHBoxLayout()
        day_label = QLabel("&Jour :")
        self.day_combo = QComboBox()
        self.day_combo.setMinimumWidth(300)
        day_label.setBuddy(self.day_combo)
        self.prev_button = QPushButton("◀")
        self.next_button = QPushButton("▶")
        self.prev_button.setToolTip("Jour précédent (Ctrl+Page précédente)")
        self.next_button.setToolTip("Jour suivant (Ctrl+Page suivante)")
        for b in (self.prev_button, self.next_button):
            b.setFixedWidth(32)
            b.setFocusPolicy(Qt.NoFocus)
        self.create_button = QPushButton("Créer les créneau&x…")
        self.print_day_button = QPushButton("Imprimer la &liste du jour")
        self.print_acks_button = QPushButton("Accusés du jour à &signer")
        self.print_acks_button.setToolTip("Un accusé de réception prérempli par rendez-vous du jour "
                                          "dont l'accusé signé n'est pas encore rendu")
        top.addWidget(day_label)
        top.addWidget(self.prev_button)
        top.addWidget(self.day_combo)
        top.addWidget(self.next_button)
        top.addStretch(1)
        top.addWidget(self.create_button)
        top.addWidget(self.print_acks_button)
        top.addWidget(self.print_day_button)

        self.model = SlotsModel(self)
        self.table = QTableView()
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.table.setAlternatingRowColors(True)
        self.table.verticalHeader().setVisible(False)
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        for col, width in enumerate((60, 150, 260, 120, 80, 100, 80)):
            self.table.setColumnWidth(col, width)
        header.setStretchLastSection(True)
        self.table.setTabKeyNavigation(False)
        keep(self.table, "appointments")
        self.table.activated.connect(lambda _i: self.default_action())

        slot_bar = QHBoxLayout()
        self.book_button = QPushButton("&Réserver…")
        self.move_button = QPushButton("Dé&placer…")
        self.cancel_button = QPushButton("Annuler le rende&z-vous")
        self.done_button = QPushButton("&Terminé")
        self.missed_button = QPushButton("A&bsent")
        self.notes_button = QPushButton("&Notes…")
        self.withdraw_button = QPushButton("Retirer le &créneau")
        self.withdraw_button.setToolTip("Le créneau libre disparaît du planning (agent absent)")
        for b in (self.book_button, self.move_button, self.cancel_button, self.done_button, self.missed_button,
                  self.notes_button, self.withdraw_button):
            slot_bar.addWidget(b)
        slot_bar.addStretch(1)
        family_bar = QHBoxLayout()
        self.family_button = QPushButton("&Ouvrir la fiche famille")
        self.credentials_button = QPushButton("Envoyer les &identifiants")
        self.period_button = QPushButton("Réserver sur p&ériode…")
        self.ack_print_button = QPushButton("Imprimer l'&accusé de réception")
        self.ack_button = QPushButton("Accusé ren&du")
        for b in (self.family_button, self.credentials_button, self.period_button, self.ack_print_button,
                  self.ack_button):
            family_bar.addWidget(b)
        family_bar.addStretch(1)

        self.detail = QLabel()
        self.detail.setWordWrap(True)
        self.status = QLabel()
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextSelectableByMouse)

        lay = QVBoxLayout(self)
        lay.addLayout(top)
        lay.addWidget(self.table, 1)
        lay.addWidget(self.detail)
        lay.addLayout(slot_bar)
        lay.addLayout(family_bar)
        lay.addWidget(self.status)

        self.day_combo.currentIndexChanged.connect(lambda _i: self.load_day())
        self.prev_button.clicked.connect(lambda: self.step_day(-1))
        self.next_button.clicked.connect(lambda: self.step_day(1))
        QShortcut(QKeySequence("Ctrl+PgUp"), self, activated=lambda: self.step_day(-1))
        QShortcut(QKeySequence("Ctrl+PgDown"), self, activated=lambda: self.step_day(1))
        QShortcut(QKeySequence("F5"), self, activated=self.refresh)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self.update_buttons())
        self.create_button.clicked.connect(self.create_slots)
        self.print_day_button.clicked.connect(self.print_day)
        self.print_acks_button.clicked.connect(self.print_day_acknowledgements)
        self.book_button.clicked.connect(self.book)
        self.move_button.clicked.connect(self.move)
        self.cancel_button.clicked.connect(self.cancel)
        self.done_button.clicked.connect(lambda: self.mark("done"))
        self.missed_button.clicked.connect(lambda: self.mark("missed"))
        self.family_button.clicked.connect(self.open_family)
        self.credentials_button.clicked.connect(self.send_credentials)
        self.period_button.clicked.connect(self.book_period)
        self.ack_print_button.clicked.connect(self.print_acknowledgement)
        self.ack_button.clicked.connect(self.toggle_acknowledgement)
        self.notes_button.clicked.connect(self.edit_notes)
        self.withdraw_button.clicked.connect(self.withdraw)
        supervisor = desk.actor.at_least(Role.RESPONSABLE)
        self.create_button.setVisible(supervisor)
        self.withdraw_button.setVisible(supervisor)
        self.setTabOrder(self.day_combo, self.table)
        # Slots, and the family columns (acknowledgement, portal account), and the calendar.
        self.follow = Follow(self, ("appointments", "families", "settings"), lambda _c: self.refresh())
        self.refresh()

    def apply_changes(self, changes: Changes, origin=None) -> None:
        self.follow(changes)

    # ------------------------------------------------------------------ loading

    def selected_day(self) -> date | None:
        # Held as ISO text: a Python date comes back from Qt as a QDate (and findData misses it).
        value = self.day_combo.currentData()
        return date.fromisoformat(value) if value else None

    def select_day(self, day: date) -> bool:
        index = self.day_combo.findData(day.isoformat())
        if index >= 0:
            self.day_combo.setCurrentIndex(index)
        return index >= 0

    def refresh(self) -> None:
        """Reload the day picker and the current day, keeping the day and the selected slot."""
        keep = self.selected_day()
        days = ap.book_days(self.desk)
        self.day_combo.blockSignals(True)
        self.day_combo.clear()
        for d in days:
            self.day_combo.addItem(d.label(), d.day.isoformat())
        if keep is None and days:
            today = self.desk.today()
            keep = next((d.day for d in days if d.day >= today), days[0].day)
        index = self.day_combo.findData(keep.isoformat()) if keep is not None else -1
        self.day_combo.setCurrentIndex(max(index, 0) if days else -1)
        self.day_combo.blockSignals(False)
        self.load_day()

    def load_day(self, keep_id: int | None = None) -> None:
        current = self.current()
        keep_id = keep_id if keep_id is not None else (current.id if current else None)
        day = self.selected_day()
        rows = ap.day_list(self.desk, day) if day else []
        self.model.set_rows(rows)
        row = next((i for i, r in enumerate(rows) if r.id == keep_id), 0 if rows else -1)
        if row >= 0:
            self.table.selectRow(row)
            self.table.setCurrentIndex(self.model.index(row, 0))
        if not rows:
            self.detail.setText("Aucun créneau ce jour-là." + (
                " Créez-les avec « Créer les créneaux… »." if not self.create_button.isHidden() else ""))
        self.update_buttons()

    def step_day(self, delta: int) -> None:
        index = self.day_combo.currentIndex() + delta
        if 0 <= index < self.day_combo.count():
            self.day_combo.setCurrentIndex(index)

    def current(self) -> ap.SlotRow | None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            return None
        return self.model.rows[index.row()]

    def update_buttons(self) -> None:
        r = self.current()
        free = r is not None and r.status == "free"
        booked = r is not None and r.status == "booked"
        taken = r is not None and r.taken
        family = r is not None and r.family_id is not None
        self.book_button.setEnabled(free)
        self.withdraw_button.setEnabled(free)
        self.notes_button.setEnabled(taken)
        self.move_button.setEnabled(booked)
        self.cancel_button.setEnabled(booked)
        begun = taken and r.starts_at <= self.desk.now()  # the service refuses it before
        self.done_button.setEnabled(begun and r.status != "done")
        self.missed_button.setEnabled(begun and r.status != "missed")
        self.family_button.setEnabled(taken)
        self.family_button.setText("&Ouvrir la fiche famille" if family or not taken else "Créer la &fiche famille…")
        self.credentials_button.setEnabled(family)
        self.period_button.setEnabled(family)
        self.ack_print_button.setEnabled(taken)
        self.ack_button.setEnabled(family)
        self.ack_button.setText("Accusé non ren&du" if family and r.acknowledgement_returned else "Accusé ren&du")
        self.print_day_button.setEnabled(bool(self.model.rows))
        self.print_acks_button.setEnabled(any(x.status == "booked" for x in self.model.rows))
        if r is None:
            return
        parts = [f"<b>{r.time_text}</b> avec {r.clerk_name or 'un agent'} — {r.status_label}"]
        if family:
            parts.append(f"Famille {r.family_name} ({r.family_ref}), responsable : {r.guardian_name or '—'}")
            parts.append("E-mail : " + (", ".join(r.emails) if r.emails else "aucun (lettre à imprimer)"))
        elif r.visitor_name:
            parts.append(f"Visiteur : {r.visitor_name}, {r.visitor_phone} — pas encore de fiche famille")
        self.detail.setText(" · ".join(parts))

    def say(self, text: str, error: bool = False) -> None:
        self.status.setStyleSheet("color: #b00020;" if error else "color: #1b5e20;")
        self.status.setText(text)

    def _refused(self, text: str) -> None:
        """A refusal shows in the status line; the day is reloaded (someone may have changed it)."""
        self.say(text, error=True)
        self.load_day()

    # ------------------------------------------------------------------ slot actions

    def default_action(self) -> None:
        r = self.current()
        if r is None:
            return
        if r.status == "free":
            self.book()
        elif r.taken:
            self.open_family()

    def make_book_dialog(self, slot):  # tests replace the dialogs' exec through these
        from gandrange_desk.ui.appointments.dialogs import BookDialog

        return BookDialog(self.desk, slot, self)

    def make_move_dialog(self, slot):
        from gandrange_desk.ui.appointments.dialogs import MoveDialog

        return MoveDialog(self.desk, slot, self)

    def make_create_dialog(self):
        from gandrange_desk.ui.appointments.dialogs import CreateSlotsDialog

        return CreateSlotsDialog(self.desk, self)

    def book(self) -> None:
        r = self.current()
        if r is None or r.status != "free":
            return
        dialog = self.make_book_dialog(r)
        if dialog.exec() == QDialog.Accepted and dialog.result_booking:
            self.say(dialog.result_booking.summary)

    def move(self) -> None:
        r = self.current()
        if r is None or r.status != "booked":
            return
        dialog = self.make_move_dialog(r)
        if dialog.exec() == QDialog.Accepted and dialog.result_booking:
            self.say(dialog.result_booking.summary)

    def confirm(self, title: str, text: str) -> bool:
        return QMessageBox.question(self, title, text, QMessageBox.Yes | QMessageBox.No,
                                    QMessageBox.No) == QMessageBox.Yes

    def cancel(self) -> None:
        r = self.current()
        if r is None or r.status != "booked":
            return
        if not self.confirm("Annuler le rendez-vous", f"Annuler le rendez-vous de {r.who} à {r.time_text} ?\n"
                            "Le créneau redevient libre et la famille est prévenue par e-mail."):
            return
        ops.run(self, "Annuler le rendez-vous", lambda: ap.cancel_booking(self.desk, r.id, r.version),
                on_done=lambda result: self.say(result.summary), on_error=self._refused)

    def mark(self, status: str) -> None:
        r = self.current()
        if r is None or not r.taken:
            return
        ops.run(self, "Clore le rendez-vous", lambda: ap.mark(self.desk, r.id, r.version, status),
                on_done=lambda row: self.say(f"Rendez-vous de {row.time_text} ({row.who}) : "
                                             f"{row.status_label.lower()}."),
                on_error=self._refused)

    def ask_notes(self, current: str) -> str | None:
        from PySide6.QtWidgets import QInputDialog

        text, ok = QInputDialog.getMultiLineText(self, "Notes du rendez-vous", "Notes :", current)
        return text if ok else None

    def edit_notes(self) -> None:
        r = self.current()
        if r is None or not r.taken:
            return
        notes = self.ask_notes(r.notes)
        if notes is None:
            return
        ops.run(self, "Notes du rendez-vous", lambda: ap.set_notes(self.desk, r.id, r.version, notes),
                on_done=lambda row: self.say(f"Notes du rendez-vous de {row.time_text} enregistrées."),
                on_error=self._refused)

    def withdraw(self) -> None:
        r = self.current()
        if r is None or r.status != "free":
            return
        if not self.confirm("Retirer le créneau", f"Retirer le créneau libre de {r.time_text} "
                            f"({r.clerk_name}) du planning ?"):
            return
        ops.run(self, "Retirer le créneau", lambda: ap.withdraw_slot(self.desk, r.id, r.version),
                on_done=lambda row: self.say(f"Créneau de {row.time_text} ({row.clerk_name}) retiré du planning."),
                on_error=self._refused)

    def create_slots(self) -> None:
        dialog = self.make_create_dialog()
        if dialog.exec() == QDialog.Accepted and dialog.result_slots:
            self.say(dialog.result_slots.text())

    # ------------------------------------------------------------------ the family in front of us

    def open_family(self):
        r = self.current()
        if r is None or not r.taken:
            return None
        if r.family_id is not None:
            from gandrange_desk.ui.families.file import open_family_file

            dialog = open_family_file(self.desk, r.family_id, self)  # its saves reach the day as Changes
            self.open_dialogs.append(dialog)
            return dialog
        return self.create_family_for_visitor(r)

    def create_family_for_visitor(self, r: ap.SlotRow):
        from gandrange_desk.ui.families.file import new_family

        created: list[int] = []

        def saved(family_id: int) -> None:
            if not created:
                created.append(family_id)
                ops.run(self, "Rattacher la famille", lambda: ap.attach_family(self.desk, r.id, r.version, family_id),
                        on_done=lambda row: self.say(f"Fiche créée : le rendez-vous de {row.time_text} est "
                                                     f"rattaché à la famille {row.family_name}."),
                        on_error=self._refused)

        return new_family(self.desk, self, on_saved=saved)

    def send_credentials(self) -> None:
        r = self.current()
        if r is None or r.family_id is None:
            return
        from gandrange_desk.services.families.portal import send_credentials

        def done(result) -> None:
            if result.letter_pdf:
                self._show_pdf(result.letter_pdf, f"identifiants-{r.family_ref}.pdf")
            self.say(result.summary)

        ops.run(self, "Envoyer les identifiants", lambda: send_credentials(self.desk, r.family_id, r.family_version),
                on_done=done, on_error=self._refused)

    def make_period_dialog(self, r: ap.SlotRow):
        from gandrange_desk.services.families.file import get_family
        from gandrange_desk.services.reservations.reads import activity_choices
        from gandrange_desk.ui.reservations.period_dialog import PeriodDialog

        snap = get_family(self.desk, r.family_id)
        children = [(c.id, c.full_name) for c in snap.children if not c.archived]
        if not children:
            raise DeskError(f"La famille {r.family_name} n'a pas d'enfant inscrit : ajoutez-le d'abord dans sa fiche.")
        activities = activity_choices(self.desk)
        first, _last = ap.september(self.desk)
        start = max(first, self.desk.today())
        return PeriodDialog(self.desk, activities, children, first=start,
                            last=date(first.year + 1, 7, 3), for_family=True, parent=self)

    def book_period(self) -> None:
        r = self.current()
        if r is None or r.family_id is None:
            return
        dialog = ops.run(self, "Réserver sur période", lambda: self.make_period_dialog(r), on_error=self._refused)
        if dialog is None:
            return
        if dialog.exec() and dialog.result_cells is not None:
            self.say(f"Famille {r.family_name} : {dialog.result_cells.summary(ASKED)}")

    def _show_pdf(self, data: bytes, name: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix="gandrange-rdv-")) / name
        path.write_bytes(data)
        self.last_pdf = path
        self.show_file(path)
        return path

    def print_acknowledgement(self) -> None:
        r = self.current()
        if r is None or not r.taken:
            return
        data = ops.run(self, "Accusé de réception", lambda: _pdf().acknowledgement_pdf(
            self.desk, r.family_id, name=r.visitor_name, contact=r.clerk_name), on_error=self._refused)
        if data:
            who = r.family_ref or "visiteur"
            self._show_pdf(data, f"accuse-de-reception-{who}.pdf")
            self.say(f"Accusé de réception de {r.guardian_name or r.visitor_name} ouvert pour l'impression.")

    def toggle_acknowledgement(self) -> None:
        r = self.current()
        if r is None or r.family_id is None:
            return
        returned = not r.acknowledgement_returned
        # It returns the family's new version: the change is the family's (the Familles list shows it).
        ops.run(self, "Accusé de réception", lambda: ap.set_acknowledgement(
            self.desk, r.family_id, r.family_version, returned), changes=Changes(families={r.family_id}),
            on_done=lambda _version: self.say(f"Famille {r.family_name} : accusé de réception signé "
                                              + ("rendu." if returned else "non rendu.")),
            on_error=self._refused)

    def print_day(self) -> None:
        day = self.selected_day()
        if day is None:
            return
        data = ops.run(self, "Liste du jour", lambda: _pdf().day_list_pdf(self.desk, day),
                       on_error=self._refused)
        if data:
            self._show_pdf(data, f"rendez-vous-{day.isoformat()}.pdf")
            self.say(f"Liste du {formats.long_date(day)} ouverte pour l'impression.")

    def print_day_acknowledgements(self) -> None:
        day = self.selected_day()
        if day is None:
            return
        result = ops.run(self, "Accusés du jour", lambda: _pdf().day_acknowledgements_pdf(self.desk, day),
                         on_error=self._refused)
        if result is None:
            return
        data, count = result
        if not data:
            self.say("Aucun accusé à préparer : tous les rendez-vous à venir de ce jour ont rendu le leur.")
            return
        self._show_pdf(data, f"accuses-{day.isoformat()}.pdf")
        self.say(f"{formats.count(count, 'accusé de réception prêt', 'accusés de réception prêts')} "
                 "à imprimer : le document est ouvert pour l'impression.")


__all__ = ["AppointmentsTab", "SlotsModel"]
