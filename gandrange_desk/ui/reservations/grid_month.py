"""Loading the Réservations tab's month (a mixin of the tab): the filter bar's choices, the
month's frame and its rows (`grid_loader`), the search and the columns shown.

Building the tab reads nothing: its first showing does (`showEvent`), so the main window's
tab opens as soon as its widgets exist. A month opens with its frame (every child, the places
per column) and the rows on screen; the other rows are read after, between events.
"""

from __future__ import annotations

from PySide6.QtCore import QTimer
from PySide6.QtGui import QFont, QFontMetrics
from PySide6.QtWidgets import QComboBox

from gandrange_desk import formats
from gandrange_desk.services.reservations import reads
from gandrange_desk.services.calendar import NO_ACTIVITY_REASON, WEEKEND_REASON
from gandrange_desk.ui.common import ops

from .grid_model import FIXED

NEVER_OPEN = (WEEKEND_REASON, NO_ACTIVITY_REASON)
DAY_WIDTH = 36
CLOSED_WIDTH = 14  # a holiday or closure: grey and narrow, the open days get the room
NAME_WIDTHS = (170, 40, 40, 40)  # child, class, health mark, month total
# The health marks the grid writes in bold; the column is as wide as the widest of them in the
# font of this workstation (Windows' Segoe UI is wider than the 40 px that hold "PAI").
HEALTH_MARKS = ("PAI", "Allergie")


def name_widths(font: QFont) -> tuple[int, ...]:
    bold = QFont(font)
    bold.setBold(True)
    metrics = QFontMetrics(bold)
    health = max(metrics.horizontalAdvance(mark) for mark in HEALTH_MARKS) + 10
    return NAME_WIDTHS[:2] + (max(NAME_WIDTHS[2], health),) + NAME_WIDTHS[3:]


class GridMonth:
    def showEvent(self, event) -> None:  # noqa: N802 - Qt API
        super().showEvent(event)
        if self.cal is None:
            self.refresh()  # the first showing: the choices, the month, the rows on screen

    def ensure_ready(self) -> bool:
        """The choices and the calendar read (the tab may not have been shown yet)."""
        if self.cal is None:
            self.refresh()
        return self.cal is not None

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
        """The month's frame and the rows on screen now; the other rows after (`grid_loader`).
        A load still running for the month shown before stops here."""
        if self.cal is None:
            self.refresh()  # not shown yet: the choices first (which reload)
            return
        self.loader.cancel()
        aid = self.activity_combo.currentData()
        if aid is None:
            self.model.clear()
            self.say("Aucune activité : importez d'abord les paramètres.")
            return
        unit_ids = self.selected_unit_ids()
        data = ops.run(self, "Réservations", lambda: reads.month_grid_frame(
            self.desk, self.cal, self.month, aid, unit_ids or [-1], school_id=self.school_combo.currentData()),
            on_error=self._error)
        if data is None:
            return
        self.model.set_data(data)
        self._apply_memory_filter(force=True)
        n = len(self.model.grid.units)
        self.units_button.setText(f"Unités ({n})")
        self.say("")
        self.loader.start(data)
        if self.loader.loading:
            self._show_counts()

    def finish_loading(self) -> bool:
        """Every row of the month read now (an action, a change to follow); False if it failed."""
        return self.loader.finish()

    def _read_rows_for_change(self) -> bool:
        """A change reached a grid still loading (the model asks): the rows left are read,
        then the places per column again, both as the database holds them after the change."""
        g = self.model.grid
        if g is None or not self.loader.finish():
            return False
        used = ops.run(self, "Réservations", lambda: reads.month_grid_places(self.desk, g),
                       on_error=self._error)
        if used is None or self.model.grid is not g:
            return False
        g.used[:] = used
        self.model.placesChanged.emit(FIXED, FIXED + len(used) - 1)
        return True

    def _all_rows_read(self) -> None:
        self._show_counts()
        if not self.warmed:
            self.warmed = True
            QTimer.singleShot(0, self._warm)

    def _warm(self) -> None:
        """Once the grid is painted: the first click must cost what the next ones do."""
        g = self.model.grid
        if g is None or not g.child_ids:
            return
        c = next((c for c, closed in enumerate(g.closed) if closed is None), None)
        if c is None:
            return
        try:
            reads.warm_cells(self.desk, self.cal, [g.cell(0, c)])
        except Exception:  # noqa: BLE001 - a warm-up that fails costs only the first click's time
            pass

    # --- what is shown ----------------------------------------------------------------------
    def _apply_memory_filter(self, force: bool = False) -> None:
        self.model.set_filter(self.search.text(), self.class_combo.currentData() or "", self.family_children)
        self._apply_columns()
        self._show_counts()

    def _show_counts(self) -> None:
        g = self.model.grid
        if g is None:
            self.counts.setText("")
            return
        shown, total = self.model.rowCount(), len(g.child_ids)
        text = f"{formats.month_year(self.month).capitalize()} — "
        if shown == total:
            text += formats.count(total, "enfant", "enfants") + "."
        else:
            text += f"{formats.count(shown, 'enfant affiché', 'enfants affichés')} sur {total}."
        if self.loader.loading:
            text += " Chargement des cases…"
        self.counts.setText(text)

    def _apply_columns(self) -> None:
        g = self.model.grid
        if g is None:
            return
        total = self.model.columnCount()
        show_weekends = self.weekends.isChecked()
        header = self.grid.horizontalHeader()
        for col in range(total):
            fixed = col < FIXED
            self.names.setColumnHidden(col, not fixed)
            hidden = fixed
            if not fixed and not show_weekends:
                hidden = g.closed[col - FIXED] in NEVER_OPEN
            self.grid.setColumnHidden(col, hidden)
            if not fixed:
                header.resizeSection(col, CLOSED_WIDTH if g.closed[col - FIXED] else DAY_WIDTH)
        widths = name_widths(self.names.font())
        for col, width in enumerate(widths):
            self.names.setColumnWidth(col, width)
        self.names.setFixedWidth(sum(widths) + 2 * self.names.frameWidth())


__all__ = ["CLOSED_WIDTH", "DAY_WIDTH", "GridMonth", "NAME_WIDTHS", "NEVER_OPEN", "name_widths"]
