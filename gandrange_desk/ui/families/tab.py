"""The Familles tab: instant search, the list with balance and states, and the way into a file.

The list follows the other operations (a payment, issued invoices, a decision, a file saved):
it re-reads the same search, keeping the selected family and the scroll position.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QModelIndex, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from gandrange_desk import formats
from gandrange_desk.services.changes import Changes
# The list's search alone (SQLAlchemy Core): this tab is the window's first, filled before the ORM
# and the models load; a family file imports them when it opens.
from gandrange_desk.services.families import search as fam
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.export import export_button
from gandrange_desk.ui.common.refresh import Follow
from gandrange_desk.ui.common.table_model import RowsTableModel
from gandrange_desk.ui.common.windows import keep

SEARCH_DELAY_MS = 150
PAGE = 300

COLUMNS = ("Famille", "Réf.", "Enfants", "Solde", "Paiement", "Portail", "Demandes", "Accusé")
RIGHT = {3, 6}


class FamiliesModel(RowsTableModel):
    HEADERS = COLUMNS

    def __init__(self, parent=None):
        super().__init__(parent)
        self._bold = QFont()
        self._bold.setBold(True)
        self._italic = QFont()
        self._italic.setItalic(True)

    def headerData(self, section, orientation, role=Qt.DisplayRole):
        if orientation == Qt.Horizontal and role == Qt.TextAlignmentRole and section in RIGHT:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return super().headerData(section, orientation, role)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.DisplayRole:
            if col == 0:
                return r.name + ("  (archivée)" if r.archived else "")
            if col == 1:
                return r.ref
            if col == 2:
                return r.children
            if col == 3:
                return formats.euros(r.balance_cents) if r.balance_cents else "—"
            if col == 4:
                return r.payment_mode_label
            if col == 5:
                return r.portal_state_label
            if col == 6:
                return str(r.pending_requests) if r.pending_requests else ""
            if col == 7:
                return "⚠ non rendu" if r.acknowledgement_missing else "✓"
        if role == Qt.TextAlignmentRole and col in RIGHT:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.ForegroundRole:
            if r.archived:
                return QColor("#888888")
            if col == 3 and r.balance_cents > 0:
                return QColor("#b00020")
            if col == 3 and r.balance_cents < 0:
                return QColor("#1b5e20")
            if col == 7:
                return QColor("#b06000") if r.acknowledgement_missing else QColor("#1b5e20")
            if col == 5 and r.portal_state == "to_create":
                return QColor("#b06000")
        if role == Qt.FontRole:
            if col == 6 and r.pending_requests:
                return self._bold
            if r.archived:
                return self._italic
        if role == Qt.ToolTipRole:
            if col == 7 and r.acknowledgement_missing:
                return "L'accusé signé de la notice du portail n'est pas revenu avec le dossier périscolaire."
            if col == 6 and r.pending_requests:
                return f"{formats.count(r.pending_requests, 'demande en attente', 'demandes en attente')}"
        return None


class FamiliesTab(QWidget):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.open_dialogs: dict[int, object] = {}
        lay = QVBoxLayout(self)
        top = QHBoxLayout()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Rechercher une famille : nom, enfant, responsable, référence, e-mail, téléphone…")
        self.search.setClearButtonEnabled(True)
        self.search.textChanged.connect(self._schedule)
        self.search.installEventFilter(self)
        top.addWidget(self.search, 1)
        self.archived = QCheckBox("Afficher les &archivées")
        self.archived.toggled.connect(lambda _v: self.refresh())
        top.addWidget(self.archived)
        self.new_btn = QPushButton("&Nouvelle famille")
        self.new_btn.clicked.connect(self.new_family)
        top.addWidget(self.new_btn)
        self.published_btn = QPushButton("Documents &publiés…")
        self.published_btn.clicked.connect(self.manage_published)
        top.addWidget(self.published_btn)
        self.export_btn = export_button(self, desk, "families", lambda: {
            "text": self.search.text(), "include_archived": self.archived.isChecked()})
        top.addWidget(self.export_btn)
        lay.addLayout(top)

        self.model = FamiliesModel(self)
        self.view = QTableView()
        self.view.setModel(self.model)
        self.view.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.view.setSelectionMode(QAbstractItemView.SingleSelection)
        self.view.setEditTriggers(QAbstractItemView.NoEditTriggers)
        self.view.setAlternatingRowColors(True)
        self.view.setWordWrap(False)
        vh = self.view.verticalHeader()
        vh.setSectionResizeMode(QHeaderView.Fixed)
        vh.setDefaultSectionSize(24)
        vh.hide()
        hh = self.view.horizontalHeader()
        hh.setSectionResizeMode(QHeaderView.Interactive)
        hh.setStretchLastSection(False)
        hh.setSectionResizeMode(2, QHeaderView.Stretch)
        for col, width in ((0, 220), (1, 80), (3, 100), (4, 120), (5, 90), (6, 85), (7, 100)):
            self.view.setColumnWidth(col, width)
        self.view.activated.connect(self._open_index)
        self.view.installEventFilter(self)
        self.view.setTabKeyNavigation(False)
        keep(self.view, "families")
        lay.addWidget(self.view, 1)
        self.status = QLabel()
        self.status.setStyleSheet("color:#555;")
        lay.addWidget(self.status)

        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SEARCH_DELAY_MS)
        self.timer.timeout.connect(self.refresh)
        QShortcut(QKeySequence("Ctrl+F"), self, activated=self.focus_search)
        self.setFocusProxy(self.search)
        # Names, balances, payment modes, portal states, pending requests, acknowledgements.
        self.follow = Follow(self, ("families", "payments", "invoices", "requests"), self._changed)
        self.refresh()

    def apply_changes(self, changes: Changes, origin=None) -> None:
        self.follow(changes)

    def _changed(self, _changes: Changes) -> None:
        scrolled = self.view.verticalScrollBar().value()
        self.refresh()
        self.view.verticalScrollBar().setValue(scrolled)

    # ------------------------------------------------------------------ search

    def _schedule(self, _text: str = "") -> None:
        self.timer.start()

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def refresh(self) -> None:
        self.timer.stop()
        selected = self.selected_id()
        result = ops.run(self, "Rechercher une famille", lambda: fam.search(
            self.desk, self.search.text(), PAGE, include_archived=self.archived.isChecked()),
            on_error=self.status.setText, busy=False)  # as the clerk types
        if result is None:
            return
        self.model.set_rows(result.rows)
        n = result.total
        text = formats.count(n, "famille", "familles")
        if result.truncated:
            text += f" — {len(result.rows)} premières affichées, précisez la recherche"
        owing = sum(1 for r in result.rows if r.balance_cents > 0)
        missing = sum(1 for r in result.rows if r.acknowledgement_missing)
        if owing:
            text += f" · {formats.count(owing, 'solde à payer', 'soldes à payer')}"
        if missing:
            text += f" · {formats.count(missing, 'accusé non rendu', 'accusés non rendus')}"
        self.status.setText(text)
        row = next((i for i, r in enumerate(result.rows) if r.id == selected), 0 if result.rows else -1)
        if row >= 0:
            self.view.selectRow(row)

    def selected_id(self) -> int | None:
        index = self.view.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            return None
        return self.model.rows[index.row()].id

    # ------------------------------------------------------------------ keyboard

    def eventFilter(self, obj, event):
        if event.type() == QEvent.KeyPress:
            key = event.key()
            if obj is self.search:
                if key == Qt.Key_Down and self.model.rows:
                    if self.timer.isActive():
                        self.refresh()
                    self.view.setFocus()
                    self.view.selectRow(max(self.view.currentIndex().row(), 0))
                    return True
                if key in (Qt.Key_Return, Qt.Key_Enter):
                    if self.timer.isActive():
                        self.refresh()
                    self.open_selected()
                    return True
            elif obj is self.view:
                if key in (Qt.Key_Return, Qt.Key_Enter):
                    self.open_selected()
                    return True
                if key == Qt.Key_Escape or (key == Qt.Key_Up and self.view.currentIndex().row() <= 0):
                    self.focus_search()
                    return True
        return super().eventFilter(obj, event)

    # ------------------------------------------------------------------ opening

    def _open_index(self, index: QModelIndex) -> None:
        if index.isValid():
            self.open_family(self.model.rows[index.row()].id)

    def open_selected(self):
        family_id = self.selected_id()
        if family_id is None and self.model.rows:
            family_id = self.model.rows[0].id
        if family_id is not None:
            return self.open_family(family_id)
        return None

    def open_family(self, family_id: int):
        from gandrange_desk.ui.families.file import open_family_file

        existing = self.open_dialogs.get(family_id)
        if existing is not None:
            try:
                existing.raise_()
                existing.activateWindow()
                return existing
            except RuntimeError:  # closed and deleted
                pass
        dialog = open_family_file(self.desk, family_id, self)  # its saves reach the list as Changes
        self.open_dialogs[family_id] = dialog
        dialog.destroyed.connect(lambda _o=None, fid=family_id: self.open_dialogs.pop(fid, None))
        return dialog

    def new_family(self):
        from gandrange_desk.ui.families.file import new_family

        dialog = new_family(self.desk, self)
        if dialog is not None:
            self.open_dialogs[dialog.family_id] = dialog
        return dialog

    def manage_published(self) -> None:
        from gandrange_desk.ui.families.docs import PublishedDocumentsDialog

        PublishedDocumentsDialog(self.desk, self).exec()
