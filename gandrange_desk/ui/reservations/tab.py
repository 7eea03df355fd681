"""The Réservations tab: the month grid of children × (day, unit), keyboard-first.

Click or Space acts on the selection according to the current cell: a white cell is booked
(R, or DR in « Pour la famille » mode), an R cell is cancelled (excusée / facturée), a DR or DA
cell is decided inline. A rectangle selection applies one action to all its cells in one
service call; the model then updates its arrays and emits one ranged dataChanged.
Other tabs' operations reach the grid as `Changes` (`apply_changes`): the changed cells are read
back and updated in place, keeping the selection and the scroll position.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QItemSelectionModel, QLocale, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDateEdit, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QMenu, QMessageBox, QPushButton, QSplitter, QToolButton, QVBoxLayout,
    QWidget,
)

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.reservations import cells as cell_ops
from gandrange_desk.services.reservations import reads
from gandrange_desk.services.reservations.bookings import CapacityExceeded
from gandrange_desk.services.calendar import NO_ACTIVITY_REASON, WEEKEND_REASON, Calendar
from gandrange_desk.services.reservations.grid import AF, BLANK, DA, DR, R
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.refresh import Follow, inside

from gandrange_desk.ui.common.export import export_button

from .grid_delegate import LEGEND, GridDelegate, NameDelegate
from .grid_dialogs import CancelDialog, ReasonDialog
from .grid_view import GridView, NamesView
from .grid_model import CELL_ROLE, CLOSED_ROLE, FIXED, STATE_ROLE, GridModel
from .period_dialog import PeriodDialog

NEVER_OPEN = (WEEKEND_REASON, NO_ACTIVITY_REASON)
ROW_HEIGHT = 22
DAY_WIDTH = 40
HEADER_HEIGHT = 52


class ReservationsTab(QWidget):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.cal: Calendar | None = None
        self.filters = {"activities": [], "schools": [], "classes": []}
        self.month = desk.today().replace(day=1)
        self.model = GridModel(parent=self)
        self.model.history_provider = self._history
        self._build()
        self.follow = Follow(self, ("cells", "families", "settings"), self._changed)
        self.refresh()

    # --- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        bar = QHBoxLayout()
        self.prev_button = QToolButton(text="◀", toolTip="Mois précédent (Ctrl+Page préc.)")
        self.next_button = QToolButton(text="▶", toolTip="Mois suivant (Ctrl+Page suiv.)")
        self.month_edit = QDateEdit(calendarPopup=True)
        self.month_edit.setLocale(QLocale(QLocale.French, QLocale.France))
        self.month_edit.setDisplayFormat("MMMM yyyy")
        self.month_edit.setDate(QDate(self.month.year, self.month.month, 1))
        self.activity_combo = QComboBox()
        self.units_button = QToolButton(text="Unités", popupMode=QToolButton.InstantPopup)
        self.units_menu = QMenu(self)
        self.units_button.setMenu(self.units_menu)
        self.school_combo = QComboBox()
        self.class_combo = QComboBox()
        self.search = QLineEdit(placeholderText="Rechercher un enfant (Ctrl+F)")
        self.search.setMinimumWidth(180)
        for combo in (self.activity_combo, self.school_combo, self.class_combo):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        self.search.setClearButtonEnabled(True)
        self.family_mode = QCheckBox("Pour la &famille")
        self.family_mode.setToolTip("Les clics créent des demandes (DR / DA) au nom de la famille, "
                                    "comme au portail : séances d'aide de septembre.")
        self.weekends = QCheckBox("Tous les &jours")
        self.weekends.setToolTip("Montrer aussi les jours où l'activité n'accueille jamais "
                                 "(week-ends, jours sans accueil)")
        self.period_button = QPushButton("Réservations sur &période…")
        month_label = QLabel("&Mois")
        month_label.setBuddy(self.month_edit)
        activity_label = QLabel("&Activité")
        activity_label.setBuddy(self.activity_combo)
        school_label = QLabel("É&cole")
        school_label.setBuddy(self.school_combo)
        class_label = QLabel("C&lasse")
        class_label.setBuddy(self.class_combo)
        for w in (month_label, self.prev_button, self.month_edit, self.next_button, activity_label,
                  self.activity_combo, self.units_button, school_label, self.school_combo,
                  class_label, self.class_combo, self.search):
            bar.addWidget(w)
        bar.addStretch(1)
        tools = QHBoxLayout()
        self.export_button = export_button(self, self.desk, "grid", lambda: {
            "month": self.month, "activity_id": self.activity_combo.currentData(),
            "school_id": self.school_combo.currentData(), "class_name": self.class_combo.currentData()})
        for w in (self.family_mode, self.weekends, self.period_button, self.export_button):
            tools.addWidget(w)
        tools.addStretch(1)

        self.names = NamesView()
        self.grid = GridView()
        for view in (self.names, self.grid):
            view.setModel(self.model)
            view.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
            view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
            view.verticalHeader().hide()
            view.horizontalHeader().setFixedHeight(HEADER_HEIGHT)
            view.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOn)
            view.setWordWrap(False)
        self.names.setSelectionMode(QAbstractItemView.NoSelection)
        self.names.setFocusPolicy(Qt.NoFocus)
        self.names.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.names.horizontalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.grid.setItemDelegate(GridDelegate(self.model, self.grid))
        self.names.setItemDelegate(NameDelegate(self.model, self.names))
        self.names.setShowGrid(False)
        self.grid.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.grid.setShowGrid(False)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.grid.horizontalHeader().setDefaultSectionSize(DAY_WIDTH)
        self.grid.horizontalHeader().setMinimumSectionSize(20)
        self.grid.setContextMenuPolicy(Qt.CustomContextMenu)
        self.grid.verticalScrollBar().valueChanged.connect(self.names.verticalScrollBar().setValue)
        self.names.verticalScrollBar().valueChanged.connect(self.grid.verticalScrollBar().setValue)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(self.names)
        splitter.addWidget(self.grid)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter

        self.message = QLabel("")
        self.message.setWordWrap(True)
        legend = QLabel("   ".join(f"<b>{code}</b> {text}" for code, text in LEGEND)
                        + "   <span style='background:#D4D4D4'>&nbsp;&nbsp;&nbsp;</span> fermé")
        legend.setStyleSheet("color: #444")
        bottom = QHBoxLayout()
        bottom.addWidget(self.message, 1)
        bottom.addWidget(legend)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(tools)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

        self.prev_button.clicked.connect(lambda: self.shift_month(-1))
        self.next_button.clicked.connect(lambda: self.shift_month(1))
        self.month_edit.dateChanged.connect(self._month_picked)
        self.activity_combo.currentIndexChanged.connect(self._activity_changed)
        self.school_combo.currentIndexChanged.connect(lambda _: self.reload())
        self.class_combo.currentIndexChanged.connect(lambda _: self._apply_memory_filter())
        self.search.textChanged.connect(lambda _: self._apply_memory_filter())
        self.weekends.toggled.connect(lambda _: self._apply_columns())
        self.period_button.clicked.connect(self.open_period_dialog)
        self.grid.act.connect(self.run_action)
        self.grid.clicked.connect(self._clicked)
        self.names.clicked.connect(self._name_clicked)
        self.grid.customContextMenuRequested.connect(self._context_menu)
        self._build_actions()

    def _build_actions(self) -> None:
        self.actions_by_name: dict[str, QAction] = {}
        specs = [
            ("book", "Réserver (R)", "Ctrl+R"),
            ("ask", "Demande pour la famille (DR)", "Ctrl+D"),
            ("cancel", "Annuler la réservation…", "Del"),
            ("ask_cancel", "Demande d'annulation pour la famille (DA)", "Ctrl+Shift+D"),
            ("accept", "Accepter la demande", "Ctrl+Return"),
            ("refuse", "Refuser la demande…", "Ctrl+Shift+Return"),
            ("withdraw", "Retirer la demande de la famille", ""),
            ("history", "Historique de la case", "Ctrl+H"),
        ]
        for name, text, keys in specs:
            action = QAction(text, self)
            if keys and name != "cancel":
                action.setShortcut(QKeySequence(keys))
                action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
                self.grid.addAction(action)
            elif keys:
                action.setShortcut(QKeySequence(keys))  # shown in the menu; the view handles it
                action.setShortcutContext(Qt.WidgetShortcut)
            action.triggered.connect(lambda _=False, n=name: self.run_action(n))
            self.actions_by_name[name] = action
        for keys, fn in (("Ctrl+PgUp", lambda: self.shift_month(-1)),
                         ("Ctrl+PgDown", lambda: self.shift_month(1)),
                         ("Ctrl+F", self.search.setFocus), ("Ctrl+P", self.open_period_dialog)):
            action = QAction(self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            action.triggered.connect(fn)
            self.addAction(action)

    # --- loading --------------------------------------------------------------------------
    def refresh(self) -> None:
        """Reload the filter choices, the calendar and the month (after a settings change)."""
        choices = ops.run(self, "Réservations", lambda: reads.grid_choices(self.desk), on_error=self._error)
        if choices is None:
            return
        self.filters, self.cal = choices.filters, choices.calendar
        current = self.activity_combo.currentData()
        self.activity_combo.blockSignals(True)
        self.activity_combo.clear()
        for aid, name, _units, _days in self.filters["activities"]:
            self.activity_combo.addItem(name, aid)
        if current is not None and self.activity_combo.findData(current) >= 0:
            self.activity_combo.setCurrentIndex(self.activity_combo.findData(current))
        self.activity_combo.blockSignals(False)
        self._fill_combo(self.school_combo, "Toutes les écoles", self.filters["schools"])
        self._fill_combo(self.class_combo, "Toutes les classes",
                         [(c, c) for c in self.filters["classes"]])
        self._fill_units()
        self.reload()

    def _fill_combo(self, combo: QComboBox, everything: str, items) -> None:
        current = combo.currentData()
        combo.blockSignals(True)
        combo.clear()
        combo.addItem(everything, None)
        for value, label in items:
            combo.addItem(label, value)
        index = combo.findData(current) if current is not None else 0
        combo.setCurrentIndex(max(0, index))
        combo.blockSignals(False)

    def _fill_units(self) -> None:
        self.units_menu.clear()
        entry = self._activity_entry()
        for uid, name in (entry[2] if entry else []):
            action = self.units_menu.addAction(name)
            action.setCheckable(True)
            action.setChecked(True)
            action.setData(uid)
            action.toggled.connect(lambda _: self.reload())

    def _activity_entry(self):
        aid = self.activity_combo.currentData()
        return next((a for a in self.filters["activities"] if a[0] == aid), None)

    def selected_unit_ids(self) -> list[int]:
        return [a.data() for a in self.units_menu.actions() if a.isChecked()]

    def set_units(self, unit_ids) -> None:
        for action in self.units_menu.actions():
            action.blockSignals(True)
            action.setChecked(action.data() in set(unit_ids))
            action.blockSignals(False)
        self.reload()

    def reload(self) -> None:
        aid = self.activity_combo.currentData()
        if aid is None:
            self.model.clear()
            self.message.setText("Aucune activité : importez d'abord les paramètres.")
            return
        unit_ids = self.selected_unit_ids()
        data = ops.run(self, "Réservations", lambda: reads.month_grid(
            self.desk, self.cal, self.month, aid, unit_ids or [-1], school_id=self.school_combo.currentData()),
            on_error=self._error)
        if data is None:
            return
        self.model.set_data(data)
        self._apply_memory_filter(force=True)
        n = len(self.model.grid.units)
        self.units_button.setText(f"Unités ({n})")
        self._say(f"{formats.month_year(self.month).capitalize()} — "
                  f"{formats.count(len(data.child_ids), 'enfant', 'enfants')}.")

    # --- following the other tabs -----------------------------------------------------------
    def apply_changes(self, changes: Changes, origin=None) -> None:
        if inside(origin, self) and not changes.touches("families", "settings"):
            return  # the grid's own operations update it from their exact result
        self.follow(changes)

    def _changed(self, changes: Changes) -> None:
        if changes.touches("settings"):
            self.refresh()  # units, closures, capacities, activities
            return
        if changes.families:
            self.reload()  # children added, renamed, moved to another class or archived
            return
        g = self.model.grid
        if g is None:
            return
        shown = [c for c in changes.cells if c[0] in self.model.row_of and g.column_of(c[1], c[2]) is not None]
        if shown:
            states = ops.run(self, "Réservations", lambda: reads.cell_states(self.desk, shown),
                             on_error=self._error)
            if states is not None:
                self.model.apply_changes(states)

    def _apply_memory_filter(self, force: bool = False) -> None:
        self.model.set_filter(self.search.text(), self.class_combo.currentData() or "")
        self._apply_columns()

    def _apply_columns(self) -> None:
        g = self.model.grid
        if g is None:
            return
        total = self.model.columnCount()
        show_weekends = self.weekends.isChecked()
        for col in range(total):
            fixed = col < FIXED
            self.names.setColumnHidden(col, not fixed)
            hidden = fixed
            if not fixed and not show_weekends:
                hidden = g.closed[col - FIXED] in NEVER_OPEN
            self.grid.setColumnHidden(col, hidden)
        for col, width in enumerate((180, 46, 58, 44)):
            self.names.setColumnWidth(col, width)
        self.names.setFixedWidth(180 + 46 + 58 + 44 + 2 * self.names.frameWidth())

    # --- month and activity ---------------------------------------------------------------
    def shift_month(self, step: int) -> None:
        m = self.month.month - 1 + step
        self.set_month(date(self.month.year + m // 12, m % 12 + 1, 1))

    def set_month(self, month: date) -> None:
        self.month = month.replace(day=1)
        self.month_edit.blockSignals(True)
        self.month_edit.setDate(QDate(self.month.year, self.month.month, 1))
        self.month_edit.blockSignals(False)
        self.reload()

    def _month_picked(self, value: QDate) -> None:
        picked = date(value.year(), value.month(), 1)
        if picked != self.month:
            self.set_month(picked)

    def _activity_changed(self, _index) -> None:
        self._fill_units()
        self.reload()

    # --- selection ------------------------------------------------------------------------
    def selected_cells(self) -> list[tuple]:
        indexes = [i for i in self.grid.selectionModel().selectedIndexes()
                   if i.column() >= FIXED and not i.data(CLOSED_ROLE)]
        if not indexes:
            current = self.grid.currentIndex()
            if current.isValid() and current.column() >= FIXED and not current.data(CLOSED_ROLE):
                indexes = [current]
        return [i.data(CELL_ROLE) for i in indexes]

    def _states(self, cells) -> dict:
        g = self.model.grid
        out = {}
        for cell in cells:
            row = self.model.row_of[cell[0]]
            out[cell] = g.states[row][g.column_of(cell[1], cell[2])]
        return out

    def select_cells(self, first, last) -> None:
        """Select the rectangle between two model indexes (tests and keyboard helpers)."""
        from PySide6.QtCore import QItemSelection

        self.grid.setCurrentIndex(first)
        self.grid.selectionModel().select(QItemSelection(first, last),
                                          QItemSelectionModel.ClearAndSelect)

    def _clicked(self, index) -> None:
        from PySide6.QtWidgets import QApplication

        if QApplication.keyboardModifiers() & (Qt.ShiftModifier | Qt.ControlModifier):
            return
        if index.column() < FIXED:
            return
        if index.data(CLOSED_ROLE):
            self._say(f"Jour fermé : {index.data(CLOSED_ROLE)}.", error=True)
            return
        self.run_action("default")

    def _name_clicked(self, index) -> None:
        self.grid.setFocus()
        self.grid.selectRow(index.row())

    def _context_menu(self, pos) -> None:
        menu = QMenu(self)
        for name in ("book", "ask", "cancel", "ask_cancel", "accept", "refuse", "withdraw"):
            menu.addAction(self.actions_by_name[name])
        menu.addSeparator()
        period = menu.addAction("Réservations sur période…")
        period.triggered.connect(self.open_period_dialog)
        menu.addAction(self.actions_by_name["history"])
        menu.exec(self.grid.viewport().mapToGlobal(pos))

    # --- actions --------------------------------------------------------------------------
    def run_action(self, name: str) -> None:
        cells = self.selected_cells()
        if name == "history":
            return self._show_history()
        if not cells:
            current = self.grid.currentIndex()
            if current.isValid() and current.data(CLOSED_ROLE):
                self._say(f"Jour fermé : {current.data(CLOSED_ROLE)}.", error=True)
            else:
                self._say("Sélectionnez une ou plusieurs cases.", error=True)
            return
        if name == "default":
            name = self._default_action(cells)
            if name is None:
                return
        operation = self._operation(name, cells)
        if operation is None:
            return

        def done(result) -> None:
            self.model.apply_changes(result.changed)
            self._say(result.summary(VERBS[name]))

        ops.run(self, "Réservations", lambda: operation(False), on_done=done,
                on_refused=lambda exc: self._over_capacity(exc, name, operation))

    def _over_capacity(self, exc: DeskError, name: str, operation):
        """Going over capacity is the clerk's call: asked, then the same operation with the override."""
        if isinstance(exc, CapacityExceeded) and name in ("book", "ask", "accept"):
            verb = "Accepter" if name == "accept" else "Réserver"
            if self.confirm(f"{exc}\n\n{verb} quand même ?"):
                return lambda: operation(True)
        self._say(str(exc), error=True)
        return None

    def _default_action(self, cells) -> str | None:
        current = self.grid.currentIndex()
        state = current.data(STATE_ROLE) if current.isValid() and current.column() >= FIXED else None
        if state is None:
            state = self._states(cells)[cells[0]]
        family = self.family_mode.isChecked()
        if state == BLANK:
            return "ask" if family else "book"
        if state == R:
            return "ask_cancel" if family else "cancel"
        if state == AF:
            self._say("Case annulée et facturée : elle ne change plus.", error=True)
            return None
        if state == DR and family:
            return "withdraw" if self.confirm("Retirer la demande de réservation de la famille ?") \
                else None
        choice = self.prompt_decision(state)
        return choice

    def _operation(self, name: str, cells):
        """Ask what the action needs (billing, reason), then return the service call to make,
        `operation(capacity_override)`, or None when there is nothing to do."""
        d, cal = self.desk, self.cal
        if name in ("book", "ask"):
            return lambda override: cell_ops.book_cells(d, cells, for_family=name == "ask",
                                                        capacity_override=override, cal=cal)
        if name == "cancel":
            r_cells = [c for c, st in self._states(cells).items() if st == R]
            if not r_cells:
                self._say("Seules les cases réservées (R) s'annulent ainsi.", error=True)
                return None
            proposal = ops.run(self, "Annuler", lambda: reads.cancellation_proposal(
                d, cal, self.activity_combo.currentData(), r_cells), on_error=self._error)
            if proposal is None:
                return None
            proposed, late = proposal
            choice = self.prompt_cancel(len(r_cells), proposed, late)
            if choice is None:
                return None
            billing, reason = choice
            return lambda _override: cell_ops.cancel_cells(d, r_cells, billing=billing, reason=reason, cal=cal)
        if name == "ask_cancel":
            return lambda _override: cell_ops.ask_cancel_cells(d, cells, cal=cal)
        if name == "withdraw":
            return lambda _override: cell_ops.withdraw_cells(d, cells)
        if name in ("accept", "refuse"):
            pending = [c for c, st in self._states(cells).items() if st in (DR, DA)]
            if not pending:
                self._say("Aucune demande en attente dans la sélection.", error=True)
                return None
            reason = ""
            if name == "refuse":
                reason = self.prompt_reason("Refuser la demande", "Motif du refus (envoyé à la famille) :")
                if reason is None:
                    return None
            return lambda override: cell_ops.decide_cells(d, pending, name == "accept", reason=reason,
                                                          capacity_override=override)
        raise ValueError(name)

    def _history(self, cell) -> str:
        # Read while painting a tooltip: not a clerk's action, no busy cursor.
        return reads.cell_history_text(self.desk, cell)

    def _show_history(self) -> None:
        current = self.grid.currentIndex()
        if not current.isValid() or current.column() < FIXED:
            return
        if current.data(CLOSED_ROLE):
            text = f"Jour fermé : {current.data(CLOSED_ROLE)}."
        else:
            text = self._history(current.data(CELL_ROLE))
        QMessageBox.information(self, "Historique de la case", text)

    def open_period_dialog(self) -> None:
        g = self.model.grid
        if g is None:
            return
        rows = sorted({i.row() for i in self.grid.selectionModel().selectedIndexes()}
                      or ({self.grid.currentIndex().row()} if self.grid.currentIndex().isValid()
                          else set()))
        if not rows:
            self._say("Choisissez d'abord l'enfant (une case de sa ligne).", error=True)
            return
        children = [(g.child_ids[self.model.visible[r]], g.names[self.model.visible[r]])
                    for r in rows]
        current = self.grid.currentIndex()
        unit_id = g.units[g.columns[current.column() - FIXED][1]].id \
            if current.isValid() and current.column() >= FIXED else None
        last = date(self.month.year + self.month.month // 12, self.month.month % 12 + 1, 1)
        from datetime import timedelta

        dialog = self.make_period_dialog(children, unit_id, last - timedelta(days=1))
        # The dialog's booking reaches the grid from its exact result, below.
        if dialog.exec() and dialog.result_cells is not None:
            self.model.apply_changes(dialog.result_cells.changed)
            self._say(dialog.result_cells.summary(VERBS["ask" if dialog.for_family else "book"]))

    def make_period_dialog(self, children, unit_id, last) -> PeriodDialog:
        return PeriodDialog(self.desk, self.filters["activities"], children,
                            activity_id=self.activity_combo.currentData(), unit_id=unit_id,
                            first=max(self.month, self.desk.today()), last=last,
                            for_family=self.family_mode.isChecked(), parent=self)

    # --- prompts (tests replace these) -----------------------------------------------------
    def prompt_decision(self, state: int) -> str | None:
        menu = QMenu(self)
        what = "de réservation" if state == DR else "d'annulation"
        menu.addSection(f"Demande {what}")
        accept = menu.addAction("&Accepter")
        refuse = menu.addAction("&Refuser…")
        rect = self.grid.visualRect(self.grid.currentIndex())
        chosen = menu.exec(self.grid.viewport().mapToGlobal(rect.bottomLeft()))
        return "accept" if chosen is accept else "refuse" if chosen is refuse else None

    def prompt_cancel(self, count: int, proposed: str, late: int):
        dialog = CancelDialog(count, proposed, late, self)
        return dialog.choice() if dialog.exec() else None

    def prompt_reason(self, title: str, prompt: str) -> str | None:
        dialog = ReasonDialog(title, prompt, self)
        return dialog.text() if dialog.exec() else None

    def confirm(self, text: str) -> bool:
        answer = QMessageBox.question(self, "Confirmer", text, QMessageBox.Yes | QMessageBox.No,
                                      QMessageBox.No)
        return answer == QMessageBox.Yes

    def _error(self, text: str) -> None:
        self._say(text, error=True)

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet("color: #B00020" if error else "")
        self.message.setText(text)


VERBS = {
    "book": ("réservée", "réservées"),
    "ask": ("demandée pour la famille", "demandées pour la famille"),
    "cancel": ("annulée", "annulées"),
    "ask_cancel": ("en demande d'annulation", "en demande d'annulation"),
    "accept": ("acceptée", "acceptées"),
    "refuse": ("refusée", "refusées"),
    "withdraw": ("retirée", "retirées"),
}

__all__ = ["ReservationsTab", "GridView"]
