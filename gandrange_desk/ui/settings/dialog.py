"""The "Réglages" dialog (Outils › Réglages…): the window edits the same settings as the file.

It loads the settings document (`services.settings.current_document`, the TOML file's shape),
lets the supervisor edit it page by page, and saves it whole through `apply_document` — the
import's own validation and apply, in one transaction, or nothing. Each refusal line is shown in
French with its page and field, and the field or table cell it names turns red. An agent sees
the settings read-only; the service enforces the role anyway.
"""

from __future__ import annotations

import copy
import re

from PySide6.QtCore import Qt
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog, QHBoxLayout, QLabel, QListWidget, QListWidgetItem, QMessageBox, QPushButton, QScrollArea,
    QStackedWidget, QVBoxLayout, QWidget,
)

from gandrange_desk.errors import DeskError, StaleEdit, ValidationFailed
from gandrange_desk.models import Role
from gandrange_desk.services.settings import service as svc
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.settings.activities import ActivitiesPage, UnitModel
from gandrange_desk.services.settings.fields import ACTIVITY_FIELDS, ATTENDANCE_FIELD, STRUCTURE_FIELD, UNIT_FIELDS
from gandrange_desk.ui.settings.pages import AttendancePage, ClosuresPage, SchoolsPage, StructurePage, mark
from gandrange_desk.ui.common.windows import remember

PAGES = ("Structure", "Écoles", "Fermetures", "Activités et unités", "Présences")
STRUCTURE, SCHOOLS, CLOSURES, ACTIVITIES, ATTENDANCE = range(5)

UNIT_COLUMNS = {"name": UnitModel.NAME, "capacity": UnitModel.CAPACITY, "meal": UnitModel.MEAL,
                "prices": UnitModel.PRICE}
# The file's wording, said for someone at the window.
WINDOW_WORDING = (
    ("manque dans le fichier, mais des réservations ou des demandes l'utilisent ; elle ne peut pas être retirée",
     "ne peut pas être retirée : des réservations ou des demandes l'utilisent"),
    ("manque dans le fichier, mais des enfants y sont inscrits ; elle ne peut pas être retirée",
     "ne peut pas être retirée : des enfants y sont inscrits"),
    ('(attendu AAAA-MM-JJ, par exemple "2026-05-15")', "(attendu JJ/MM/AAAA)"),
    ("clé obligatoire manquante", "obligatoire"),
    ('liste de jours attendue, par exemple ["mon", "tue"]', "cochez au moins un jour"),
    (" (opens = \"wednesdays\")", ""),
    ("compter « wed » parmi ses jours", "compter le mercredi parmi ses jours"),
    ("au moins une unité [[activity.unit]] est obligatoire", "au moins une unité est obligatoire"),
    ("au moins une activité [[activity]] est obligatoire", "au moins une activité est obligatoire"),
)

_PLACE = re.compile(r"^(?P<place>[\w.\[\]]+) : (?P<message>.*)$", re.S)
_ACTIVITY = re.compile(r"^activity\[(\d+)\](?:\.(\w+))?(?:\[(\d+)\])?(?:\.(\w+))?")
_STRUCTURE = re.compile(r"^structure\.(\w+)(?:\[(\d+)\])?")


def _wording(message: str) -> str:
    for old, new in WINDOW_WORDING:
        message = message.replace(old, new)
    return message


READ_ONLY_STYLE = (
    'QLineEdit[readOnly="true"], QPlainTextEdit[readOnly="true"], QTextEdit[readOnly="true"] '
    '{ background: #eeeeee; color: #444444; border: 1px solid #d4d4d4; }')


class SettingsDialog(QDialog):
    def __init__(self, desk, parent: QWidget | None = None):
        super().__init__(parent)
        self.desk = desk
        self.draft: svc.SettingsDraft | None = None
        self.can_edit = desk.actor.at_least(Role.RESPONSABLE)
        self.setWindowTitle("Réglages")
        remember(self, "settings", (1100, 660))

        self.nav = QListWidget()
        self.nav.addItems(PAGES)
        self.nav.setMaximumWidth(170)
        self.structure_page = StructurePage()
        self.schools_page = SchoolsPage()
        self.closures_page = ClosuresPage()
        self.activities_page = ActivitiesPage()
        self.attendance_page = AttendancePage()
        self.pages = (self.structure_page, self.schools_page, self.closures_page, self.activities_page,
                      self.attendance_page)
        self.stack = QStackedWidget()
        for page in self.pages:
            if page is self.structure_page:
                scroll = QScrollArea()
                scroll.setWidgetResizable(True)
                scroll.setFrameShape(QScrollArea.NoFrame)
                scroll.setWidget(page)
                self.stack.addWidget(scroll)
            else:
                self.stack.addWidget(page)
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)

        self.notice = QLabel("Lecture seule : les réglages sont modifiés par le responsable ou "
                             "l'administrateur.")
        self.notice.setStyleSheet("font-weight: bold;")
        self.notice.setVisible(not self.can_edit)
        self.problems = QListWidget()
        self.problems.setMaximumHeight(110)
        self.problems.setStyleSheet("color: #a00000;")
        self.problems.setVisible(False)
        self.problems.itemActivated.connect(self._go_to_problem)
        self.problems.itemClicked.connect(self._go_to_problem)
        self.status = QLabel()
        self.status.setAlignment(Qt.AlignRight | Qt.AlignVCenter)

        self.tariffs_button = QPushButton("&Tarifs…")
        self.smtp_button = QPushButton("Cou&rriels…")
        self.reload_button = QPushButton("Rec&harger")
        self.save_button = QPushButton("&Enregistrer")
        self.close_button = QPushButton("&Fermer")
        self.save_button.setDefault(False)
        self.save_button.setAutoDefault(False)
        self.save_button.setEnabled(self.can_edit)
        if not self.can_edit:
            self.save_button.setToolTip("Réservé au rôle responsable ou administrateur.")
        self.tariffs_button.clicked.connect(self.open_tariffs)
        self.smtp_button.clicked.connect(self.open_smtp)
        self.reload_button.clicked.connect(self.ask_reload)
        self.save_button.clicked.connect(self.save)
        self.close_button.clicked.connect(self.reject)
        QShortcut(QKeySequence.Save, self, activated=self.save)

        buttons = QHBoxLayout()
        for b in (self.tariffs_button, self.smtp_button, self.reload_button):
            buttons.addWidget(b)
        buttons.addWidget(self.status, 1)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.close_button)
        body = QHBoxLayout()
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        outer = QVBoxLayout(self)
        outer.addWidget(self.notice)
        outer.addLayout(body, 1)
        outer.addWidget(self.problems)
        outer.addLayout(buttons)

        if not self.can_edit:
            for page in self.pages:
                page.set_read_only()
            # Read-only fields must not look like fields waiting to be typed into.
            self.setStyleSheet(READ_ONLY_STYLE)
        self.nav.setCurrentRow(0)
        self.reload()

    # ----- loading and collecting
    def reload(self) -> bool:
        def refused(text: str) -> None:
            self.status.setText(text)
            self.save_button.setEnabled(False)

        self.draft = ops.run(self, "Réglages", lambda: svc.current_document(self.desk), on_error=refused)
        if self.draft is None:
            return False
        for page in self.pages:
            page.load(self.draft.document)
        self._baseline = self.document()  # as the pages give it back, to tell real edits
        self.clear_problems()
        self.status.setText("")
        return True

    def is_modified(self) -> bool:
        if self.draft is None or not self.can_edit:
            return False
        return self.document() != self._baseline

    def _may_drop_edits(self, what: str) -> bool:
        if not self.is_modified():
            return True
        answer = QMessageBox.question(
            self, "Réglages", f"Des modifications ne sont pas enregistrées. {what} quand même ?",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        return answer == QMessageBox.Yes

    def ask_reload(self) -> None:
        if self._may_drop_edits("Recharger et les abandonner"):
            self.reload()

    def reject(self) -> None:
        if self._may_drop_edits("Fermer et les abandonner"):
            super().reject()

    def document(self) -> dict:
        """The document as edited in the window (what the save sends)."""
        doc = copy.deepcopy(self.draft.document) if self.draft else {}
        doc.pop("smtp", None)  # the SMTP dialog's business; the service keeps the saved one
        for page in self.pages:
            page.store(doc)
        return doc

    # ----- saving
    def save(self) -> bool:
        if self.draft is None or not self.can_edit:
            return False
        self.clear_problems()

        def refused(exc: DeskError) -> None:
            if isinstance(exc, ValidationFailed):
                self.show_problems(exc.problems)
            elif isinstance(exc, StaleEdit):
                answer = QMessageBox.warning(
                    self, "Réglages", f"{exc}\n\nRecharger maintenant ? (vos modifications seront perdues)",
                    QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
                if answer == QMessageBox.Yes:
                    self.reload()
            else:
                QMessageBox.warning(self, "Réglages", str(exc))

        # Saved, the settings reach every tab as Changes (calendar, units, capacities, prices).
        summary = ops.run(self, "Réglages", lambda: svc.apply_document(self.desk, self.document(), self.draft.versions),
                          on_refused=refused)
        if summary is None:
            return False
        current_page, current_activity = self.nav.currentRow(), self.activities_page.current
        self.reload()
        self.nav.setCurrentRow(current_page)
        self.activities_page.select_activity(current_activity)
        self.status.setText("Réglages enregistrés." if summary.changed else "Aucun changement à enregistrer.")
        return True

    # ----- problems shown where they are
    def clear_problems(self) -> None:
        self.problems.clear()
        self.problems.setVisible(False)
        for page in self.pages:
            page.clear_marks()

    def show_problems(self, problems: list[str]) -> None:
        doc = self.document()
        activity_fields: dict[int, dict[str, str]] = {}
        unit_cells: dict[int, dict[tuple[int, int], str]] = {}
        closure_rows: dict[int, str] = {}
        for problem in problems:
            text, page, activity = self.describe(problem, doc)
            match = _PLACE.match(problem)
            place, message = (match.group("place"), _wording(match.group("message"))) if match else ("", problem)
            if m := _STRUCTURE.match(place):
                key, index = m.group(1), m.group(2)
                if key in self.structure_page.fields:
                    mark(self.structure_page.fields[key], message)
                elif key == "schools" and index is not None:
                    self.schools_page.mark_row(int(index), message)
                elif key == "closures" and index is not None:
                    closure_rows[int(index)] = message
            elif m := _ACTIVITY.match(place):
                row, key, sub, leaf = int(m.group(1)), m.group(2), m.group(3), m.group(4)
                if key == "unit" and sub is not None:
                    column = UNIT_COLUMNS.get((leaf or "name"), UnitModel.PRICE)
                    unit_cells.setdefault(row, {})[(int(sub), column)] = message
                elif key:
                    activity_fields.setdefault(row, {})[key] = message
                else:
                    activity_fields.setdefault(row, {})
            item = QListWidgetItem(text)
            item.setData(Qt.UserRole, (page, activity))
            self.problems.addItem(item)
        self.closures_page.model.set_errors(closure_rows)
        self.activities_page.set_marks(activity_fields, unit_cells)
        self.problems.setVisible(True)
        self.status.setText("Rien n'a été enregistré : corrigez les erreurs signalées.")
        if self.problems.count():
            self._go_to_problem(self.problems.item(0))

    def describe(self, problem: str, doc: dict) -> tuple[str, int, int]:
        """One problem line in the window's words: (text, page, activity row or -1)."""
        match = _PLACE.match(problem)
        if not match:
            return _wording(problem), STRUCTURE, -1
        place, message = match.group("place"), _wording(match.group("message"))
        if m := _STRUCTURE.match(place):
            key, index = m.group(1), m.group(2)
            if key == "schools":
                where = "Écoles" + (f", ligne {int(index) + 1}" if index is not None else "")
                return f"{where} : {message}", SCHOOLS, -1
            if key == "closures":
                where = "Fermetures" + (f", ligne {int(index) + 1}" if index is not None else "")
                return f"{where} : {message}", CLOSURES, -1
            title = STRUCTURE_FIELD[key].title if key in STRUCTURE_FIELD else key
            return f"Structure, {title.lower()} : {message}", STRUCTURE, -1
        if m := _ACTIVITY.match(place):
            row, key, sub, leaf = int(m.group(1)), m.group(2), m.group(3), m.group(4)
            activities = doc.get("activity", [])
            code = activities[row].get("code") if row < len(activities) else ""
            where = f"Activité {code or f'n° {row + 1}'}"
            if key == "unit" and sub is not None:
                units = activities[row].get("unit", []) if row < len(activities) else []
                name = units[int(sub)].get("name") if int(sub) < len(units) else ""
                where += f", unité « {name} »" if name else f", unité ligne {int(sub) + 1}"
                where += f", {UNIT_FIELDS.get(leaf or 'name', leaf)}"
            elif key:
                where += f", {ACTIVITY_FIELDS.get(key, key)}"
            return f"{where} : {message}", ACTIVITIES, row
        if place == "activity":
            return f"Activités : {message}", ACTIVITIES, -1
        if place.startswith("attendance"):
            f = ATTENDANCE_FIELD.get(place.partition(".")[2])
            return f"Présences{f', ' + f.label.lower() if f else ''} : {message}", ATTENDANCE, -1
        return f"{place} : {message}", STRUCTURE, -1

    def _go_to_problem(self, item: QListWidgetItem) -> None:
        page, activity = item.data(Qt.UserRole)
        self.nav.setCurrentRow(page)
        if activity >= 0:
            self.activities_page.select_activity(activity)

    # ----- the neighbouring dialogs
    def open_tariffs(self) -> None:
        from gandrange_desk.ui.billing.tariff_editor import TariffEditorDialog

        TariffEditorDialog(self.desk, self).exec()
        self._take_fresh_prices()

    def _take_fresh_prices(self) -> None:
        fresh = ops.run(self, "Réglages", lambda: svc.current_document(self.desk), on_error=lambda _text: None)
        if fresh is None:
            return
        self.activities_page.refresh_prices(fresh.document)

    def open_smtp(self) -> None:
        from gandrange_desk.ui.mail.smtp_dialog import SmtpDialog

        SmtpDialog(self.desk, self).exec()
