"""The Réservations tab: the month grid of children × (day, unit), keyboard-first.

A click selects; Space, a double-click or the menu's keys act on the selection according to
the current cell: a white cell is booked (R, or DR in « Pour la famille » mode), an R cell is
cancelled (excusée / facturée), a DR or DA cell is decided inline. Ctrl+Z takes back the last
change no family has been told of (`cells.undo`). A rectangle selection applies one action to
all its cells in one service call; the model then updates its arrays and emits one ranged
dataChanged. Other tabs' operations reach the grid as `Changes` (`apply_changes`): the changed
cells are read back and updated in place, keeping the selection and the scroll position.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QLocale, QSize, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QDateEdit, QHBoxLayout, QHeaderView, QLabel,
    QLineEdit, QMenu, QPushButton, QSizePolicy, QSplitter, QToolButton, QVBoxLayout,
    QWidget,
)

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.mail import outbox
from gandrange_desk.services.reservations import cells as cell_ops
from gandrange_desk.services.reservations import reads
from gandrange_desk.services.reservations.bookings import CapacityExceeded
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.reservations.grid import DR
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.refresh import Follow, inside

from gandrange_desk.ui.common.export import export_button

from .grid_actions import APPLIES_TO, SPECS, VERBS, default_action, operation
from .grid_delegate import LEGEND, GridDelegate, NameDelegate
from .grid_header import DayHeader
from .grid_loader import GridLoader
from .grid_month import DAY_WIDTH, GridMonth
from .grid_view import GridView, NamesView
from .grid_model import CLOSED_ROLE, FIXED, STATE_ROLE, GridModel
from .grid_prompts import GridPrompts
from .grid_selection import GridSelection

ROW_HEIGHT = 22
HEADER_HEIGHT = 51


class MessageLine(QWidget):
    """Holds the tab's message label outside any layout, at the width the bottom bar gives it.

    A word-wrapped label in a layout asks for a new layout at every new text: the whole tab is
    laid out and the whole window repainted (~5 ms after each click whose message differs).
    Here its new text repaints the label alone."""

    def __init__(self, label: QLabel):
        super().__init__()
        self.label = label
        label.setParent(self)
        self.setFixedHeight(label.height())
        self.setSizePolicy(QSizePolicy.Expanding, QSizePolicy.Fixed)

    def sizeHint(self) -> QSize:  # noqa: N802 - Qt API
        return QSize(0, self.height())

    def resizeEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.label.setGeometry(self.rect())
        super().resizeEvent(event)


class ReservationsTab(GridMonth, GridSelection, GridPrompts, QWidget):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.cal: Calendar | None = None
        self.filters = {"activities": [], "schools": [], "classes": []}
        self.month = desk.today().replace(day=1)
        self.model = GridModel(parent=self)
        self.model.history_provider = self._history
        self.last_done: cell_ops.CellsResult | None = None  # what Ctrl+Z takes back
        self.holding = False  # an inline decision's e-mail is held for the next ones
        self.warmed = False  # the cell operations' statements compiled once (see `_warm`)
        self.family_children: list[int] | None = None  # one family's children (from its file)
        self._build()
        self.loader = GridLoader(self, self._error)
        self.loader.finished.connect(self._all_rows_read)
        self.model.read_all_rows = self._read_rows_for_change
        self.follow = Follow(self, ("cells", "families", "settings"), self._changed)
        # Nothing is read yet: the first showing reads the choices and the month (`GridMonth`).

    # --- layout ---------------------------------------------------------------------------
    def _build(self) -> None:
        bar = QHBoxLayout()
        self.prev_button = QToolButton(text="◀", toolTip="Mois précédent (Ctrl+Page préc.)")
        self.next_button = QToolButton(text="▶", toolTip="Mois suivant (Ctrl+Page suiv.)")
        self.month_edit = QDateEdit(calendarPopup=True)
        self.month_edit.setLocale(QLocale(QLocale.French, QLocale.France))
        self.month_edit.setDisplayFormat("MMMM yyyy")
        self.month_edit.setDate(QDate(self.month.year, self.month.month, 1))
        self.today_button = QPushButton("Aujourd'&hui")
        self.today_button.setToolTip("Le mois en cours, la colonne du jour en vue (Ctrl+Origine)")
        self.go_edit = QDateEdit(calendarPopup=True)
        self.go_edit.setLocale(QLocale(QLocale.French, QLocale.France))
        self.go_edit.setDisplayFormat("dd/MM/yyyy")
        self.go_edit.setDate(QDate(self.desk.today().year, self.desk.today().month, self.desk.today().day))
        self.go_edit.setToolTip("Aller à une date : son mois, sa colonne en vue")
        self.activity_combo = QComboBox()
        self.units_button = QToolButton(text="Unités", popupMode=QToolButton.InstantPopup)
        self.units_menu = QMenu(self)
        self.units_button.setMenu(self.units_menu)
        self.school_combo = QComboBox()
        self.class_combo = QComboBox()
        self.search = QLineEdit(placeholderText="Rechercher un enfant (Ctrl+F)")
        self.search.setMinimumWidth(220)
        for combo in (self.activity_combo, self.school_combo, self.class_combo):
            combo.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(10)
        self.search.setClearButtonEnabled(True)
        self.family_mode = QCheckBox("Pour la &famille")
        self.family_mode.setToolTip("Les actions créent des demandes (DR / DA) au nom de la famille, "
                                    "comme au portail : séances d'aide de septembre.")
        self.weekends = QCheckBox("Tous les &jours")
        self.weekends.setToolTip("Montrer aussi les jours où l'activité n'accueille jamais "
                                 "(week-ends, jours sans accueil)")
        self.period_button = QPushButton("Réservations sur &période…")
        self.family_chip = QToolButton()
        self.family_chip.setToolTip("Seuls les enfants de cette famille sont affichés : cliquez pour revoir "
                                    "tous les enfants")
        self.family_chip.setStyleSheet("QToolButton { background: #e3ecfa; border: 1px solid #9db4dd; "
                                       "border-radius: 3px; padding: 1px 6px; }")
        self.family_chip.hide()
        month_label = QLabel("&Mois")
        month_label.setBuddy(self.month_edit)
        go_label = QLabel("Aller a&u")
        go_label.setBuddy(self.go_edit)
        activity_label = QLabel("&Activité")
        activity_label.setBuddy(self.activity_combo)
        school_label = QLabel("É&cole")
        school_label.setBuddy(self.school_combo)
        class_label = QLabel("C&lasse")
        class_label.setBuddy(self.class_combo)
        for w in (month_label, self.prev_button, self.month_edit, self.next_button, self.today_button,
                  go_label, self.go_edit, activity_label, self.activity_combo, self.units_button,
                  school_label, self.school_combo, class_label, self.class_combo):
            bar.addWidget(w)
        bar.addStretch(1)
        tools = QHBoxLayout()
        self.export_button = export_button(self, self.desk, "grid", lambda: {
            "month": self.month, "activity_id": self.activity_combo.currentData(),
            "school_id": self.school_combo.currentData(), "class_name": self.class_combo.currentData()})
        for w in (self.family_mode, self.weekends, self.period_button, self.export_button,
                  self.family_chip):
            tools.addWidget(w)
        tools.addWidget(self.search, 1)

        self.names = NamesView()
        self.grid = GridView()
        self.grid.setHorizontalHeader(DayHeader(self.grid))
        self.grid.today = self.desk.today()
        self.grid.horizontalHeader().today = self.desk.today()
        for view in (self.names, self.grid):
            view.setModel(self.model)
            view.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
            view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
            view.verticalHeader().hide()
            view.horizontalHeader().setFixedHeight(HEADER_HEIGHT)
            view.setWordWrap(False)
            view.setTabKeyNavigation(False)
        self.grid.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOn)
        self.names.setSelectionMode(QAbstractItemView.NoSelection)
        self.names.setFocusPolicy(Qt.NoFocus)
        # The names never scroll sideways; a blank strip the height of the grid's scroll bar
        # keeps their rows level with the grid's.
        self.names.setVerticalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.names.setHorizontalScrollBarPolicy(Qt.ScrollBarAlwaysOff)
        self.names.horizontalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.grid.setItemDelegate(GridDelegate(self.model, self.grid))
        self.names.setItemDelegate(NameDelegate(self.model, self.names))
        self.names.setShowGrid(False)
        self.grid.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.grid.setShowGrid(False)
        self.grid.horizontalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.grid.horizontalHeader().setDefaultSectionSize(DAY_WIDTH)
        self.grid.horizontalHeader().setMinimumSectionSize(10)
        self.grid.setContextMenuPolicy(Qt.CustomContextMenu)
        # A day's label spans its units: repaint the whole band, not only the changed sections.
        self.model.placesChanged.connect(lambda _first, _last: self.grid.horizontalHeader().viewport().update())
        self.grid.verticalScrollBar().valueChanged.connect(self.names.verticalScrollBar().setValue)
        self.names.verticalScrollBar().valueChanged.connect(self.grid.verticalScrollBar().setValue)
        names_box = QWidget()
        names_layout = QVBoxLayout(names_box)
        names_layout.setContentsMargins(0, 0, 0, 0)
        names_layout.setSpacing(0)
        names_layout.addWidget(self.names, 1)
        strip = QWidget()
        strip.setFixedHeight(self.grid.horizontalScrollBar().sizeHint().height())
        names_layout.addWidget(strip)
        splitter = QSplitter(Qt.Horizontal)
        splitter.addWidget(names_box)
        splitter.addWidget(self.grid)
        splitter.setStretchFactor(1, 1)
        splitter.setChildrenCollapsible(False)
        self.splitter = splitter

        self.counts = QLabel("")
        self.message = QLabel("")
        self.message.setWordWrap(True)
        # Two lines held from the start, whatever the text: a message must not re-lay the tab
        # out (and repaint the whole grid) after a click. A longer one is whole in its tooltip.
        self.message.setFixedHeight(2 * self.message.fontMetrics().lineSpacing() + 2)
        self.message.setAlignment(Qt.AlignLeft | Qt.AlignVCenter)
        legend = QLabel("   ".join(f"<b>{code}</b> {text}" for code, text in LEGEND)
                        + "   <span style='background:#D4D4D4'>&nbsp;&nbsp;&nbsp;</span> fermé"
                        + "   <b>12</b> places libres")
        legend.setStyleSheet("color: #444")
        legend.setToolTip("Sous chaque unité, le nombre de places encore libres ce jour-là (en rouge : complet). "
                          "Clic : choisir ; Espace ou double-clic : agir ; Ctrl+Z : annuler la dernière saisie.")
        bottom = QHBoxLayout()
        bottom.addWidget(self.counts)
        bottom.addWidget(MessageLine(self.message), 1)
        bottom.addWidget(legend)

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(tools)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

        self.prev_button.clicked.connect(lambda: self.shift_month(-1))
        self.next_button.clicked.connect(lambda: self.shift_month(1))
        self.month_edit.dateChanged.connect(self._month_picked)
        self.today_button.clicked.connect(lambda: self.go_to(self.desk.today()))
        self.go_edit.dateChanged.connect(lambda d: self.go_to(date(d.year(), d.month(), d.day())))
        self.activity_combo.currentIndexChanged.connect(self._activity_changed)
        self.school_combo.currentIndexChanged.connect(lambda _: self.reload())
        self.class_combo.currentIndexChanged.connect(lambda _: self._apply_memory_filter())
        self.search.textChanged.connect(lambda _: self._apply_memory_filter())
        self.weekends.toggled.connect(lambda _: self._apply_columns())
        self.period_button.clicked.connect(self.open_period_dialog)
        self.family_chip.clicked.connect(lambda: self.show_family(None))
        self.grid.act.connect(self.run_action)
        self.grid.clicked.connect(self._clicked)
        self.grid.doubleClicked.connect(self._double_clicked)
        self.names.clicked.connect(self._name_clicked)
        self.grid.customContextMenuRequested.connect(self._context_menu)
        self._build_actions()

    def _build_actions(self) -> None:
        self.actions_by_name: dict[str, QAction] = {}
        for name, text, keys in SPECS:
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
                         ("Ctrl+Home", lambda: self.go_to(self.desk.today())),
                         ("Ctrl+F", self.search.setFocus), ("Ctrl+P", self.open_period_dialog)):
            action = QAction(self)
            action.setShortcut(QKeySequence(keys))
            action.setShortcutContext(Qt.WidgetWithChildrenShortcut)
            action.triggered.connect(fn)
            self.addAction(action)

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

    def show_family(self, label: str | None, child_ids=None) -> None:
        """Only these children (a family's, from its file), or everyone again (None)."""
        self.family_children = list(child_ids) if label is not None else None
        self.family_chip.setText(f"{label}  ✕" if label else "")
        self.family_chip.setVisible(label is not None)
        if label is not None:
            self.search.clear()
            self.class_combo.setCurrentIndex(0)
            if self.school_combo.currentIndex() != 0:
                self.school_combo.setCurrentIndex(0)  # reloads: the children may be in any school
        self._apply_memory_filter()

    # --- month and activity ---------------------------------------------------------------
    def shift_month(self, step: int) -> None:
        m = self.month.month - 1 + step
        self.set_month(date(self.month.year + m // 12, m % 12 + 1, 1))

    def set_month(self, month: date) -> None:
        self.release_held()
        self.month = month.replace(day=1)
        self.month_edit.blockSignals(True)
        self.month_edit.setDate(QDate(self.month.year, self.month.month, 1))
        self.month_edit.blockSignals(False)
        self.reload()

    def go_to(self, day: date) -> None:
        """Show `day`: its month, and its first column in view (the current row kept)."""
        if day.replace(day=1) != self.month:
            self.set_month(day)
        g = self.model.grid
        if g is None or not self.model.rowCount():
            return
        col = next((FIXED + c for c, (d, _u) in enumerate(g.columns)
                    if g.days[d] == day and not self.grid.isColumnHidden(FIXED + c)), None)
        if col is None:
            self.say(f"{formats.long_date(day).capitalize()} : pas d'accueil ce jour-là pour cette activité.")
            return
        row = max(self.grid.currentIndex().row(), 0)
        target = self.model.index(row, col)
        self.grid.scrollTo(target, QAbstractItemView.PositionAtCenter)
        self.grid.setCurrentIndex(target)
        self.grid.setFocus()

    def _month_picked(self, value: QDate) -> None:
        picked = date(value.year(), value.month(), 1)
        if picked != self.month:
            self.set_month(picked)

    def _activity_changed(self, _index) -> None:
        self.release_held()
        self._fill_units()
        self.reload()

    # --- selection ------------------------------------------------------------------------
    def _clicked(self, index) -> None:
        """A click only chooses the cell (a stray click never books); it says why a day is closed."""
        if index.column() >= FIXED and index.data(CLOSED_ROLE):
            self.say(f"Jour fermé : {index.data(CLOSED_ROLE)}.", error=True)

    def _double_clicked(self, index) -> None:
        if index.column() < FIXED or index.data(CLOSED_ROLE):
            return
        self.run_action("default")

    def _name_clicked(self, index) -> None:
        self.grid.setFocus()
        self.grid.selectRow(index.row())

    def _context_menu(self, pos) -> None:
        self.context_menu().exec(self.grid.viewport().mapToGlobal(pos))
        for action in self.actions_by_name.values():  # the keys stay live, they say why not
            action.setEnabled(True)

    def context_menu(self) -> QMenu:
        """The right-click menu, with what does not apply to the selection greyed."""
        menu = QMenu(self)
        cells = self.selected_cells()
        present = set(self.cell_states(cells).values()) if cells and self.model.grid else set()
        for name in ("book", "ask", "cancel", "ask_cancel", "accept", "refuse", "withdraw"):
            action = self.actions_by_name[name]
            action.setEnabled(bool(present & APPLIES_TO[name]))
            menu.addAction(action)
        menu.addSeparator()
        period = menu.addAction("Réservations sur période…")
        period.triggered.connect(self.open_period_dialog)
        period.setEnabled(self.grid.currentIndex().isValid())
        undo = self.actions_by_name["undo"]
        undo.setEnabled(self.last_done is not None)
        menu.addAction(undo)
        menu.addAction(self.actions_by_name["history"])
        return menu

    # --- actions --------------------------------------------------------------------------
    def run_action(self, name: str) -> None:
        if name == "history":
            return self._show_history()
        if name == "undo":
            return self.undo()
        cells = self.selected_cells()
        if not cells:
            current = self.grid.currentIndex()
            if current.isValid() and current.data(CLOSED_ROLE):
                self.say(f"Jour fermé : {current.data(CLOSED_ROLE)}.", error=True)
            else:
                self.say("Sélectionnez une ou plusieurs cases.", error=True)
            return
        if name == "default":
            name = self._default_action(cells)
            if name is None:
                return
        call = operation(self, name, cells)
        if call is None:
            return

        def done(result) -> None:
            self.model.apply_changes(result.changed)
            self.last_done = result
            text = result.summary(VERBS[name])
            if result.action in cell_ops.UNDOABLE:
                text += " (Ctrl+Z pour annuler)"
            self.say(text)

        ops.run(self, "Réservations", lambda: call(False), on_done=done,
                on_refused=lambda exc: self._over_capacity(exc, name, call))

    def undo(self) -> None:
        """Ctrl+Z: take back the last change (see `cells.undo`)."""
        if self.last_done is None:
            self.say("Rien à annuler.", error=True)
            return
        last = self.last_done

        def done(result) -> None:
            self.last_done = None
            self.model.apply_changes(result.changed)
            self.say(result.summary(VERBS["undo"]))

        def refused(text: str) -> None:
            self.last_done = None  # it cannot be taken back: never offer it again
            self.say(text, error=True)

        ops.run(self, "Annuler la saisie", lambda: cell_ops.undo(self.desk, last), on_done=done,
                on_error=refused)

    def _over_capacity(self, exc: DeskError, name: str, call):
        """Going over capacity is the clerk's call: asked, then the same operation with the override."""
        if isinstance(exc, CapacityExceeded) and name in ("book", "ask", "accept"):
            verb = "Accepter" if name == "accept" else "Réserver"
            if self.confirm(f"{exc}\n\n{verb} quand même ?"):
                return lambda: call(True)
        self.say(str(exc), error=True)
        return None

    def _default_action(self, cells) -> str | None:
        current = self.grid.currentIndex()
        state = current.data(STATE_ROLE) if current.isValid() and current.column() >= FIXED else None
        if state is None:
            state = self.cell_states(cells)[cells[0]]
        family = self.family_mode.isChecked()
        name = default_action(state, family)
        if name is None:
            self.say("Case annulée et facturée : elle ne change plus.", error=True)
            return None
        if name != "decide":
            return name
        if state == DR and family:
            return "withdraw" if self.confirm("Retirer la demande de réservation de la famille ?") else None
        return self.prompt_decision(state)

    def release_held(self) -> None:
        """The e-mails of the grid's inline decisions leave now (the clerk moved on)."""
        if not self.holding:
            return
        self.holding = False
        login = self.desk.actor.login
        ops.run(self, "Envoi des courriels", lambda: outbox.release_held(self.desk, created_by=login),
                on_error=self._error, busy=False)

    def hideEvent(self, event) -> None:  # noqa: N802 - Qt API
        self.release_held()
        super().hideEvent(event)

    def run(self, title: str, fn):
        """A quick read for an action (its failure in the message line)."""
        return ops.run(self, title, fn, on_error=self._error)

    def _history(self, cell) -> str:
        # Read while painting a tooltip: not a clerk's action, no busy cursor.
        return reads.cell_history_text(self.desk, cell)

    def _error(self, text: str) -> None:
        self.say(text, error=True)

    def say(self, text: str, error: bool = False) -> None:
        # A style sheet change re-polishes the label (and repaints around it): only when the
        # colour changes, never for the first message (no property yet is not an error).
        if error != bool(self.message.property("error")):
            self.message.setProperty("error", error)
            self.message.setStyleSheet("color: #B00020" if error else "")
        self.message.setText(text)
        self.message.setToolTip(text if len(text) > 120 else "")

    _say = say


__all__ = ["ReservationsTab", "GridView", "VERBS"]
