"""The Validation tab: the pending requests grouped by family, decided from the keyboard.

Arrows move, A accepts, R refuses (with a reason), F sets a cancellation's billing, N jumps to
the next family, Shift+A accepts the whole family; on a group row A and R act on the group. Registrations show the
submitted family; family changes show old and new values side by side, accepted field by field.
A portal feed is imported from the button or by dropping the .json file on the tab.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QMessageBox, QPushButton, QSplitter, QStackedWidget, QTableView, QTextBrowser, QTreeView, QVBoxLayout,
    QWidget,
)
from sqlalchemy import select

from gandrange_desk import formats
from gandrange_desk.models import Billing, RequestKind
from gandrange_desk.errors import DeskError
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.services import queue
from gandrange_desk.services.context import Desk
from gandrange_desk.ui.common.table_model import RowsTableModel
from gandrange_desk.ui.validation.dialogs import BillingDialog, RefusalDialog, registration_html
from gandrange_desk.ui.validation.model import FAMILY, QueueTreeModel

KIND_FILTERS = (
    ("Toutes les demandes", None),
    ("Réservations", {"booking"}),
    ("Annulations", {"cancellation"}),
    ("Inscriptions", {"registration"}),
    ("Modifications de famille", {"family_change"}),
)


class FieldChangeModel(RowsTableModel):
    """Old and new values side by side; the first column says which fields are accepted."""

    HEADERS = ("Accepter", "Champ", "Valeur actuelle", "Nouvelle valeur")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.checked: set[str] = set()

    def rows_reset(self) -> None:
        self.checked = {r.path for r in self.rows}

    def flags(self, index):
        if not index.isValid():
            return Qt.NoItemFlags
        base = Qt.ItemIsEnabled | Qt.ItemIsSelectable
        return base | Qt.ItemIsUserCheckable if index.column() == 0 else base

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        if role == Qt.CheckStateRole and index.column() == 0:
            return Qt.Checked if row.path in self.checked else Qt.Unchecked
        if role == Qt.DisplayRole:
            return ("", row.label, row.old or "—", row.new)[index.column()]
        return None

    def setData(self, index, value, role=Qt.EditRole):
        if role == Qt.CheckStateRole and index.column() == 0:
            path = self.rows[index.row()].path
            if Qt.CheckState(value) == Qt.Checked:
                self.checked.add(path)
            else:
                self.checked.discard(path)
            self.dataChanged.emit(index, index)
            return True
        return False

    def toggle(self, row: int) -> None:
        index = self.index(row, 0)
        checked = self.rows[row].path in self.checked
        self.setData(index, Qt.Unchecked if checked else Qt.Checked, Qt.CheckStateRole)


class _Keys(QObject):
    """Letters that act on the queue while the tree has the focus (not while typing a search)."""

    def __init__(self, tab: "ValidationTab"):
        super().__init__(tab)
        self.tab = tab

    def eventFilter(self, obj, event):
        if (event.type() == QEvent.KeyPress and event.key() == Qt.Key_A
                and (event.modifiers() & ~Qt.KeypadModifier) == Qt.ShiftModifier):
            self.tab.accept_family()
            return True
        if event.type() == QEvent.KeyPress and not (event.modifiers() & ~Qt.KeypadModifier):
            action = {Qt.Key_A: self.tab.accept_selected, Qt.Key_R: self.tab.refuse_selected,
                      Qt.Key_N: self.tab.next_family, Qt.Key_F: self.tab.change_billing}.get(event.key())
            if action:
                action()
                return True
        return False


class ValidationTab(QWidget):
    # Emitted after a decision or an import: the window's pending count and other tabs may refresh.
    queueChanged = Signal()

    def __init__(self, desk: Desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.setAcceptDrops(True)
        self.model = QueueTreeModel(self)
        self._build()
        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.kind.currentIndexChanged.connect(lambda _i: self.refresh())
        self.activity.currentIndexChanged.connect(lambda _i: self.refresh())
        self.late_only.toggled.connect(lambda _b: self.refresh())
        self.refresh()

    # ------------------------------------------------------------------ layout
    def _build(self) -> None:
        layout = QVBoxLayout(self)
        filters = QHBoxLayout()
        self.kind = QComboBox()
        for label, _kinds in KIND_FILTERS:
            self.kind.addItem(label)
        self.activity = QComboBox()
        self.activity.addItem("Toutes les activités", None)
        self.search = QLineEdit()
        self.search.setPlaceholderText("Rechercher une famille ou un enfant…")
        self.search.setClearButtonEnabled(True)
        self.late_only = QCheckBox("Hors délai &seulement")
        self.import_button = QPushButton("&Importer les demandes du portail…")
        self.import_button.clicked.connect(self.import_feed_dialog)
        refresh = QPushButton("Actualiser")
        refresh.clicked.connect(self.refresh)
        for w in (QLabel("&Type :"), self.kind, QLabel("Activité :"), self.activity, self.search,
                  self.late_only):
            filters.addWidget(w)
        filters.itemAt(0).widget().setBuddy(self.kind)
        filters.addStretch(1)
        filters.addWidget(self.import_button)
        filters.addWidget(refresh)
        layout.addLayout(filters)

        # The detail goes under the list: the list keeps every column, and a family change
        # gets the width to show old and new values side by side.
        splitter = QSplitter(Qt.Vertical)
        self.tree = QTreeView()
        self.tree.setModel(self.model)
        self.tree.setSelectionMode(QAbstractItemView.ExtendedSelection)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.header().setSectionResizeMode(QHeaderView.Interactive)
        for col, width in enumerate((280, 140, 140, 140, 80, 120, 210, 170)):
            self.tree.setColumnWidth(col, width)
        self.tree.installEventFilter(_Keys(self))
        self.tree.selectionModel().currentChanged.connect(lambda *_: self._show_detail())
        splitter.addWidget(self.tree)
        self.detail = QStackedWidget()
        self.detail_info = QLabel()
        self.detail_info.setWordWrap(True)
        self.detail_info.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.detail.addWidget(self.detail_info)
        self.registration_view = QTextBrowser()
        self.detail.addWidget(self.registration_view)
        change_page = QWidget()
        change_layout = QVBoxLayout(change_page)
        change_layout.setContentsMargins(0, 0, 0, 0)
        change_layout.addWidget(QLabel("Modification demandée par la famille — cochez les champs à accepter :"))
        self.change_model = FieldChangeModel(self)
        self.change_table = QTableView()
        self.change_table.setModel(self.change_model)
        self.change_table.verticalHeader().setVisible(False)
        self.change_table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
        self.change_table.horizontalHeader().setStretchLastSection(True)
        self.change_table.setSelectionBehavior(QAbstractItemView.SelectRows)
        self.change_table.setColumnWidth(0, 80)
        self.change_table.setColumnWidth(1, 300)
        self.change_table.setColumnWidth(2, 400)
        change_layout.addWidget(self.change_table)
        self.change_reason = QLineEdit()
        self.change_reason.setPlaceholderText("Motif pour les champs non retenus (envoyé à la famille)")
        change_layout.addWidget(self.change_reason)
        row = QHBoxLayout()
        self.change_accept = QPushButton("Accepter les champs &cochés")
        self.change_accept.clicked.connect(self.accept_checked_fields)
        self.change_refuse = QPushButton("Refuser la &modification")
        self.change_refuse.clicked.connect(self.refuse_selected)
        row.addWidget(self.change_accept)
        row.addWidget(self.change_refuse)
        row.addStretch(1)
        change_layout.addLayout(row)
        self.detail.addWidget(change_page)
        self.detail.setMinimumHeight(150)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([560, 240])
        layout.addWidget(splitter, 1)

        actions = QHBoxLayout()
        self.accept_button = QPushButton("Accepter (A)")
        self.refuse_button = QPushButton("Refuser… (R)")
        self.billing_button = QPushButton("Facturation… (F)")
        self.family_button = QPushButton("Accepter toute la famille (Maj+A)")
        self.all_button = QPushButton("Tout accepter (affiché)")
        self.next_button = QPushButton("Famille suivante (N)")
        for button, slot in ((self.accept_button, self.accept_selected), (self.refuse_button, self.refuse_selected),
                             (self.billing_button, self.change_billing), (self.family_button, self.accept_family),
                             (self.all_button, self.accept_all_shown), (self.next_button, self.next_family)):
            button.clicked.connect(slot)
            actions.addWidget(button)
        actions.addStretch(1)
        self.status = QLabel()
        actions.addWidget(self.status)
        layout.addLayout(actions)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self.search.hasFocus():
            self.tree.setFocus()  # the keys work as soon as the tab is shown

    # ------------------------------------------------------------------ data
    def current_filter(self) -> queue.QueueFilter:
        return queue.QueueFilter(kinds=KIND_FILTERS[self.kind.currentIndex()][1],
                                 activity_id=self.activity.currentData(), text=self.search.text(),
                                 late_only=self.late_only.isChecked())

    def _load_activities(self) -> None:
        from gandrange_desk.models import Activity

        with self.desk.read() as s:
            rows = s.execute(select(Activity.id, Activity.name).order_by(Activity.position, Activity.id)).all()
        current = self.activity.currentData()
        self.activity.blockSignals(True)
        self.activity.clear()
        self.activity.addItem("Toutes les activités", None)
        for aid, name in rows:
            self.activity.addItem(name, aid)
        index = self.activity.findData(current)
        self.activity.setCurrentIndex(max(index, 0))
        self.activity.blockSignals(False)

    def refresh(self) -> None:
        self._load_activities()
        family_row, line_id = self._position()
        try:
            groups = queue.pending(self.desk, self.current_filter())
        except DeskError as exc:
            self.status.setText(str(exc))
            return
        self.model.set_groups(groups)
        self.tree.expandAll()
        items = self.model.all_items()
        late = sum(1 for i in items if i.late)
        text = formats.count(len(items), "demande en attente", "demandes en attente")
        text += " — " + formats.count(len(groups), "famille", "familles")
        if late:
            text += " — " + formats.count(late, "hors délai", "hors délai")
        self.status.setText(text)
        self._restore(family_row, line_id)
        self._show_detail()

    def _position(self) -> tuple[int, int | None]:
        index = self.tree.currentIndex()
        if not index.isValid():
            return 0, None
        node = self.model.node(index)
        item = node.item
        while node.parent is not None and node.parent is not self.model.root:
            node = node.parent
        return node.row, item.id if item else None

    def _restore(self, family_row: int, line_id: int | None) -> None:
        target = self.model.index_of(line_id) if line_id else QModelIndex()
        if not target.isValid():
            families = self.model.families()
            if not families:
                return
            target = self._first_line(families[min(family_row, len(families) - 1)])
        self.tree.setCurrentIndex(target)
        self.tree.scrollTo(target)

    def _first_line(self, node) -> QModelIndex:
        while node.children:
            node = node.children[0]
        return self.model.index_for(node)

    def selected_items(self) -> list[queue.QueueItem]:
        """The request lines under every selected row (a group row means all of its lines)."""
        rows = {id(self.model.node(i)): self.model.node(i) for i in self.tree.selectionModel().selectedRows()}
        nodes = list(rows.values())
        if not nodes and self.tree.currentIndex().isValid():
            nodes = [self.model.node(self.tree.currentIndex())]
        seen, out = set(), []
        for node in nodes:
            for item in node.leaves():
                if item.id not in seen:
                    seen.add(item.id)
                    out.append(item)
        return out

    def current_item(self) -> queue.QueueItem | None:
        index = self.tree.currentIndex()
        return self.model.node(index).item if index.isValid() else None

    # ------------------------------------------------------------------ detail pane
    def _show_detail(self) -> None:
        item = self.current_item()
        if item is None:
            self.detail_info.setText("Choisissez une demande : A accepte, R refuse, N passe à la famille suivante ; "
                                     "sur une ligne de groupe, A et R valent pour tout le groupe.")
            self.detail.setCurrentIndex(0)
            return
        if item.kind == "registration":
            self.registration_view.setHtml(registration_html(item))
            self.detail.setCurrentIndex(1)
            return
        if item.kind == "family_change":
            try:
                self.change_model.set_rows(queue.family_change_view(self.desk, item.id))
            except DeskError as exc:
                self.detail_info.setText(str(exc))
                self.detail.setCurrentIndex(0)
                return
            self.change_reason.clear()
            self.detail.setCurrentIndex(2)
            return
        lines = [f"<b>{item.family_name}</b> ({item.family_ref})",
                 f"{RequestKind(item.kind).label} — {item.child_name}",
                 f"{item.activity_name} — {item.unit_name}"]
        if item.day:
            lines.append(formats.long_date(item.day) + (" <i>(jour passé)</i>" if item.past else "")
                         + (" — mois déjà facturé : régularisation sur la prochaine facture"
                            if item.regularisation else ""))
        lines.append(f"Demandée le {formats.instant(item.submitted_at)}"
                     + (" — <span style='color:#b00020'>hors délai</span>" if item.late else ""))
        if item.places_left is not None:
            lines.append("Places restantes si acceptée : " + (str(item.places_left) if item.places_left >= 0
                                                               else "aucune (au-delà de la capacité)"))
        if item.proposed_billing:
            lines.append("Facturation proposée : " + Billing(item.proposed_billing).phrase
                         + " (F pour la changer)")
        self.detail_info.setText("<br>".join(lines))
        self.detail.setCurrentIndex(0)

    # ------------------------------------------------------------------ decisions
    def _decide(self, title: str, fn) -> queue.DecisionResult | None:
        QGuiApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            result = fn()
        except DeskError as exc:
            QGuiApplication.restoreOverrideCursor()
            self.warn(title, str(exc))
            self.refresh()
            return None
        QGuiApplication.restoreOverrideCursor()
        self.refresh()
        self._changed()
        self.status.setText(result.summary("acceptée" if "ccept" in title else "refusée").splitlines()[0])
        extra = [line for line in result.summary().splitlines()[1:]]
        for ref, login, password, mailed in result.credentials:
            if not mailed:
                extra.append(f"{ref} : pas de courriel — identifiant {login}, mot de passe provisoire "
                             f"{password} (à remettre par courrier).")
        if extra:
            self.inform(title, "\n".join(extra))
        return result

    def accept_items(self, items: list[queue.QueueItem]) -> queue.DecisionResult | None:
        if not items:
            return None
        overrides = {i.id: self.model.overrides[i.id] for i in items if i.id in self.model.overrides}
        return self._decide("Accepter", lambda: queue.accept(self.desk, [i.id for i in items], overrides=overrides))

    def accept_selected(self) -> None:
        self.accept_items(self.selected_items())

    def accept_family(self) -> None:
        index = self.tree.currentIndex()
        if not index.isValid():
            return
        node = self.model.node(index)
        while node.level != FAMILY:
            node = node.parent
        self.accept_items(node.leaves())

    def accept_all_shown(self) -> None:
        items = self.model.all_items()
        if items and self.confirm("Tout accepter", f"Accepter {formats.count(len(items), 'demande', 'demandes')} "
                                                   "affichées et envoyer les courriels ?"):
            self.accept_items(items)

    def refuse_selected(self) -> None:
        items = self.selected_items()
        if not items:
            return
        reason = self.ask_reason(len(items))
        if reason:
            self._decide("Refuser", lambda: queue.refuse(self.desk, [i.id for i in items], reason))

    def change_billing(self) -> None:
        item = self.current_item()
        if item is None or item.kind != "cancellation":
            return
        choice = self.ask_billing(item)
        if choice:
            self.model.set_override(item.id, *choice)

    def accept_checked_fields(self) -> None:
        item = self.current_item()
        if item is None or item.kind != "family_change":
            return
        fields = [r.path for r in self.change_model.rows if r.path in self.change_model.checked]
        reason = self.change_reason.text().strip()
        if not fields and not reason:
            self.warn("Modification de famille", "Cochez au moins un champ, ou indiquez le motif du refus.")
            return
        self._decide("Accepter", lambda: queue.accept_family_change(self.desk, item.id, fields, reason=reason))

    def next_family(self) -> None:
        families = self.model.families()
        if not families:
            return
        row, _ = self._position()
        target = families[(row + 1) % len(families)]
        index = self._first_line(target)
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index)

    def _changed(self) -> None:
        self.queueChanged.emit()
        window = self.window()
        if window is not self and hasattr(window, "update_status"):
            window.update_status()

    # ------------------------------------------------------------------ feed import
    def import_feed_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Importer les demandes du portail", "",
                                              "Flux du portail (*.json)")
        if path:
            self.import_feed_file(path)

    def import_feed_file(self, path: str) -> intake.IntakeResult | None:
        QGuiApplication.setOverrideCursor(Qt.WaitCursor)
        try:
            result = intake.import_feed_file(self.desk, path)
        except DeskError as exc:
            QGuiApplication.restoreOverrideCursor()
            self.warn("Importer les demandes du portail", str(exc))
            return None
        QGuiApplication.restoreOverrideCursor()
        self.refresh()
        self._changed()
        self.inform("Importer les demandes du portail", result.summary())
        return result

    def dragEnterEvent(self, event) -> None:
        if self._dropped_feed(event.mimeData()):
            event.acceptProposedAction()

    def dropEvent(self, event) -> None:
        path = self._dropped_feed(event.mimeData())
        if path:
            event.acceptProposedAction()
            self.import_feed_file(path)

    @staticmethod
    def _dropped_feed(mime) -> str | None:
        if not mime.hasUrls():
            return None
        for url in mime.urls():
            if url.isLocalFile() and Path(url.toLocalFile()).suffix.lower() == ".json":
                return url.toLocalFile()
        return None

    # ------------------------------------------------------------------ questions (overridden in tests)
    def ask_reason(self, count: int) -> str | None:
        dialog = RefusalDialog(count, self)
        return dialog.text() if dialog.exec() == RefusalDialog.Accepted else None

    def ask_billing(self, item: queue.QueueItem) -> tuple[str, str] | None:
        dialog = BillingDialog(item, self)
        return dialog.choice() if dialog.exec() == BillingDialog.Accepted else None

    def confirm(self, title: str, text: str) -> bool:
        return QMessageBox.question(self, title, text) == QMessageBox.Yes

    def inform(self, title: str, text: str) -> None:
        QMessageBox.information(self, title, text)

    def warn(self, title: str, text: str) -> None:
        box = QMessageBox(QMessageBox.Warning, title, text.splitlines()[0], QMessageBox.Ok, self)
        if "\n" in text:
            box.setDetailedText(text)
            box.setInformativeText("\n".join(text.splitlines()[1:12]))
        box.exec()
