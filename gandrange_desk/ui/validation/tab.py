"""The Validation tab: the pending requests grouped by family, decided from the keyboard.

Arrows move, A accepts, R refuses (with a reason), F sets a cancellation's billing, N jumps to
the next family, Shift+A accepts the whole family; on a group row A and R act on the group. Registrations show the
submitted family; family changes show old and new values side by side, accepted field by field.
A portal feed is imported from the button or by dropping the .json file on the tab.
The tab follows the other tabs' operations (a booking asked in the grid, a family renamed) by
`apply_changes`; its own decisions reach the grid and the status bar the same way.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QEvent, QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QComboBox, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QMessageBox, QPushButton, QSplitter, QStackedWidget, QTableView, QTextBrowser, QTreeView, QVBoxLayout,
    QWidget,
)
from gandrange_desk import formats
from gandrange_desk.models import Billing, RequestKind
from gandrange_desk.services import queue
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.services.families.lookalikes import registration_look_alikes
from gandrange_desk.services.mail import outbox
from gandrange_desk.services.queue.reads import activity_choices
from gandrange_desk.services.context import Desk
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.export import export_button
from gandrange_desk.ui.common.refresh import Follow
from gandrange_desk.ui.families.file import open_family_file
from gandrange_desk.ui.families.lookalikes import look_alikes_html
from gandrange_desk.ui.families.docs import open_document
from gandrange_desk.ui.validation.dialogs import (
    BillingDialog, RefusalDialog, accept_all_question, document_html, registration_html,
)
from gandrange_desk.ui.validation.field_changes import FieldChangeModel
from gandrange_desk.ui.validation.model import FAMILY, QueueTreeModel
from gandrange_desk.ui.common.windows import keep

KIND_FILTERS = (
    ("Toutes les demandes", None),
    ("Réservations", {"booking"}),
    ("Annulations", {"cancellation"}),
    ("Inscriptions", {"registration"}),
    ("Modifications de famille", {"family_change"}),
    ("Documents reçus", {"document"}),
)


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
    # Emitted after this tab's own decisions and imports (the window follows their Changes).
    queueChanged = Signal()

    def __init__(self, desk: Desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.setAcceptDrops(True)
        self.model = QueueTreeModel(self)
        # Families whose decision e-mails this tab holds for the clerk's next decisions (one
        # e-mail per family and activity round); sent when the clerk leaves the family or the tab.
        self.held_families: set[int] = set()
        self._current_family: int | None = None
        self._build()
        self._search_timer = QTimer(self, singleShot=True, interval=200)
        self._search_timer.timeout.connect(self.refresh)
        self.search.textChanged.connect(lambda _t: self._search_timer.start())
        self.kind.currentIndexChanged.connect(lambda _i: self.refresh())
        self.activity.currentIndexChanged.connect(lambda _i: self.refresh())
        self.late_only.toggled.connect(lambda _b: self.refresh())
        # The queue shows requests, their cells' places left, family names, the activities.
        self.follow = Follow(self, ("requests", "cells", "families", "settings"), lambda _c: self.refresh())
        self.refresh()

    def apply_changes(self, changes: Changes, origin=None) -> None:
        self.follow(changes)

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
        self.search.setMinimumWidth(260)
        self.late_only = QCheckBox("Hors délai &seulement")
        self.import_button = QPushButton("&Importer du portail…")
        self.import_button.setToolTip("Importer un flux de demandes du portail (.json) ; on peut aussi "
                                      "déposer le fichier sur l'onglet (Ctrl+I)")
        self.import_button.clicked.connect(self.import_feed_dialog)
        refresh = QPushButton("Actualiser")
        refresh.clicked.connect(self.refresh)
        for w in (QLabel("&Type :"), self.kind, QLabel("Activité :"), self.activity):
            filters.addWidget(w)
        filters.addWidget(self.search, 1)
        filters.addWidget(self.late_only)
        filters.itemAt(0).widget().setBuddy(self.kind)
        filters.addWidget(self.import_button)
        self.export_button = export_button(self, self.desk, "queue")
        filters.addWidget(self.export_button)
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
        for col, width in enumerate((285, 130, 105, 120, 125, 85, 85, 190, 150)):
            self.tree.setColumnWidth(col, width)
        self.tree.installEventFilter(_Keys(self))
        self.tree.selectionModel().currentChanged.connect(lambda *_: self._current_moved())
        splitter.addWidget(self.tree)
        self.detail = QStackedWidget()
        self.detail_info = QLabel()
        self.detail_info.setWordWrap(True)
        self.detail_info.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.detail_info.linkActivated.connect(self._open_document)
        self.detail.addWidget(self.detail_info)
        self.registration_view = QTextBrowser()
        self.registration_view.setOpenLinks(False)
        self.registration_view.anchorClicked.connect(self._open_link)
        self.detail.addWidget(self.registration_view)
        change_page = QWidget()
        change_layout = QVBoxLayout(change_page)
        change_layout.setContentsMargins(0, 0, 0, 0)
        change_layout.addWidget(QLabel("Modification demandée par la famille — cochez les champs à accepter :"))
        self.change_model = FieldChangeModel(self)
        self.change_table = QTableView()
        self.change_table.setModel(self.change_model)
        self.change_table.setTabKeyNavigation(False)
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
        self.detail.setMinimumHeight(110)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([480, 130])
        self.splitter = splitter
        keep(self.tree, "validation")
        keep(splitter, "validation")
        layout.addWidget(splitter, 1)

        actions = QHBoxLayout()
        self.accept_button = QPushButton("Accepter (A)")
        self.refuse_button = QPushButton("Refuser… (R)")
        self.billing_button = QPushButton("Facturation… (F)")
        self.family_button = QPushButton("Accepter toute la famille (Maj+A)")
        self.all_button = QPushButton("Tout accepter (liste affichée)…")
        self.all_button.setToolTip("Accepte toutes les demandes affichées, y compris les demandes hors délai, "
                                   "les inscriptions et les modifications de famille : la question les compte "
                                   "avant d'accepter.")
        self.next_button = QPushButton("Famille suivante (N)")
        for button, slot in ((self.accept_button, self.accept_selected), (self.refuse_button, self.refuse_selected),
                             (self.billing_button, self.change_billing), (self.family_button, self.accept_family),
                             (self.all_button, self.accept_all_shown), (self.next_button, self.next_family)):
            button.clicked.connect(slot)
            actions.addWidget(button)
        self.status = QLabel()
        # Long messages (a held e-mail, a refusal) wrap instead of widening the window.
        self.status.setWordWrap(True)
        self.status.setAlignment(Qt.AlignRight | Qt.AlignVCenter)
        self.status.setMinimumWidth(200)
        actions.addWidget(self.status, 1)
        layout.addLayout(actions)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self.search.hasFocus():
            self.tree.setFocus()  # the keys work as soon as the tab is shown

    def hideEvent(self, event) -> None:
        # Leaving the tab ends the round: what was held for the next decisions leaves now.
        self.release_held()
        super().hideEvent(event)

    # ------------------------------------------------------------------ data
    def current_filter(self) -> queue.QueueFilter:
        return queue.QueueFilter(kinds=KIND_FILTERS[self.kind.currentIndex()][1],
                                 activity_id=self.activity.currentData(), text=self.search.text(),
                                 late_only=self.late_only.isChecked())

    def _load_activities(self) -> None:
        rows = ops.run(self, "Activités", lambda: activity_choices(self.desk), on_error=self.status.setText,
                       busy=False) or []
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
        groups = ops.run(self, "Demandes en attente", lambda: queue.pending(self.desk, self.current_filter()),
                         on_error=self.status.setText, busy=False)  # also as the clerk types a search
        if groups is None:
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

    # ------------------------------------------------------------------ one e-mail per round
    def _family_of(self, index: QModelIndex) -> int | None:
        if not index.isValid():
            return None
        leaves = self.model.node(index).leaves()
        return leaves[0].family_id if leaves else None

    def _current_moved(self) -> None:
        family = self._family_of(self.tree.currentIndex())
        left = self._current_family
        self._current_family = family
        if left is not None and left != family and left in self.held_families:
            self.release_held(left)  # the clerk left the family: its round is over
        self._show_detail()

    def release_held(self, family_id: int | None = None) -> None:
        """Send now the e-mails this tab held (one family's, or all of them)."""
        families = [family_id] if family_id is not None else sorted(self.held_families)
        families = [f for f in families if f in self.held_families]
        if not families:
            return
        self.held_families.difference_update(families)
        login = self.desk.actor.login
        for fid in families:
            ops.run(self, "Envoi des courriels", lambda fid=fid: outbox.release_held(self.desk, fid, created_by=login),
                    on_error=self.status.setText, busy=False)

    # ------------------------------------------------------------------ detail pane
    def _show_detail(self) -> None:
        item = self.current_item()
        document = item is not None and item.kind == RequestKind.DOCUMENT
        self.accept_button.setText("Vérifié (A)" if document else "Accepter (A)")
        self.refuse_button.setText("Demander un autre… (R)" if document else "Refuser… (R)")
        if item is None:
            self.detail_info.setText("Choisissez une demande : A accepte, R refuse, N passe à la famille suivante ; "
                                     "sur une ligne de groupe, A et R valent pour tout le groupe.")
            self.detail.setCurrentIndex(0)
            return
        if item.kind == "registration":
            found = ops.run(self, "Familles qui se ressemblent", lambda: registration_look_alikes(self.desk, item.id),
                            on_error=self.status.setText, busy=False) or []
            self.registration_view.setHtml(look_alikes_html(found) + registration_html(item))
            self.detail.setCurrentIndex(1)
            self._room_for_detail()
            return
        if item.kind == "family_change":
            fields = ops.run(self, "Modification de famille", lambda: queue.family_change_view(self.desk, item.id),
                             on_error=self.detail_info.setText)
            if fields is None:
                self.detail.setCurrentIndex(0)
                return
            self.change_model.set_rows(fields)
            self.change_reason.clear()
            self.detail.setCurrentIndex(2)
            self._room_for_detail()
            return
        if item.kind == RequestKind.DOCUMENT:
            self.detail_info.setText(document_html(item))
            self.detail.setCurrentIndex(0)
            return
        lines = [f"<b>{item.family_name}</b> ({item.family_ref})",
                 f"{RequestKind.label_of(item.kind)} — {item.child_name}",
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
            override = self.model.overrides.get(item.id)
            if override and override[0] != item.proposed_billing:
                lines.append(f"Facturation choisie : <b>{Billing(override[0]).phrase}</b> au lieu "
                             f"{formats.de(Billing(item.proposed_billing).phrase)} — motif : {override[1]}"
                             " (F pour la changer)")
            else:
                lines.append("Facturation proposée : " + Billing(item.proposed_billing).phrase
                             + (f" — {override[1]}" if override else "") + " (F pour la changer)")
        self.detail_info.setText("<br>".join(lines))
        self.detail.setCurrentIndex(0)

    def _room_for_detail(self, height: int = 280) -> None:
        """A registration or a family change needs more than a line's detail: make room once."""
        top, bottom = self.splitter.sizes()
        if bottom < height and top + bottom > height + 150:
            self.splitter.setSizes([top + bottom - height, height])

    def _open_document(self, link: str) -> None:
        if link.startswith("document:"):
            ops.run(self, "Ouvrir le document", lambda: open_document(self.desk, int(link.split(":", 1)[1])),
                    on_error=self.status.setText)

    def _open_link(self, url) -> None:
        """A look-alike family named in a registration's detail: its file."""
        text = url.toString()
        if text.startswith("family:"):
            open_family_file(self.desk, int(text.split(":", 1)[1]), self)

    # ------------------------------------------------------------------ decisions
    def _decide(self, title: str, fn, items: list[queue.QueueItem] | None = None, *,
                held: bool = False, release_all: bool = False) -> queue.DecisionResult | None:
        """One decision round; the queue itself reloads from the round's Changes (apply_changes).

        `held`: a decision taken one by one, whose e-mails wait for the next decisions of the same
        family and activity. Otherwise the round's e-mails leave now, and so does what this tab
        held for the same families (all of it with `release_all`)."""
        families = {i.family_id for i in items or [] if i.family_id is not None}

        def refused(text: str) -> None:
            self.warn(title, text)
            self.refresh()  # someone else may have decided meanwhile: show the queue as it is

        def done(result: queue.DecisionResult) -> None:
            self.queueChanged.emit()
            text = result.summary("acceptée" if "ccept" in title else "refusée").splitlines()[0]
            if held and result.held_until is not None:
                self.held_families |= families
                text += (f" Envoi différé jusqu'à {formats.hhmm(result.held_until)} : les décisions suivantes "
                         "pour cette famille rejoignent le même e-mail.")
            self.status.setText(text)
            if not held:
                for fid in sorted(self.held_families if release_all else families & self.held_families):
                    self.release_held(fid)
            extra = [line for line in result.summary().splitlines()[1:]]
            for ref, login, password, mailed in result.credentials:
                if not mailed:
                    extra.append(f"{ref} : pas de courriel — identifiant {login}, mot de passe provisoire "
                                 f"{password} (à remettre par courrier).")
            if extra:
                self.inform(title, "\n".join(extra))

        hold = queue.ONE_BY_ONE_HOLD if held else None
        return ops.run(self, title, lambda: fn(hold), on_done=done, on_error=refused)

    def accept_items(self, items: list[queue.QueueItem], *, held: bool = False,
                     release_all: bool = False) -> queue.DecisionResult | None:
        if not items:
            return None
        overrides = {i.id: self.model.overrides[i.id] for i in items if i.id in self.model.overrides}
        return self._decide("Accepter", lambda hold: queue.accept(self.desk, [i.id for i in items],
                                                                  overrides=overrides, hold=hold),
                            items, held=held, release_all=release_all)

    def one_line_chosen(self) -> bool:
        """A single request line (not a group row, not several lines): a decision one by one."""
        rows = self.tree.selectionModel().selectedRows()
        index = rows[0] if len(rows) == 1 else self.tree.currentIndex() if not rows else None
        return index is not None and index.isValid() and self.model.node(index).item is not None

    def accept_selected(self) -> None:
        self.accept_items(self.selected_items(), held=self.one_line_chosen())

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
        if items and self.confirm("Tout accepter", accept_all_question(items)):
            self.accept_items(items, release_all=True)

    def refuse_selected(self) -> None:
        items = self.selected_items()
        if not items:
            return
        held = self.one_line_chosen()
        reason = self.ask_reason(len(items))
        if reason:
            self._decide("Refuser", lambda hold: queue.refuse(self.desk, [i.id for i in items], reason, hold=hold),
                         items, held=held)

    def change_billing(self) -> None:
        item = self.current_item()
        if item is None or item.kind != "cancellation":
            return
        choice = self.ask_billing(item)
        if choice:
            billing, reason = choice
            same = billing == (item.proposed_billing or Billing.EXCUSED)
            self.model.set_override(item.id, None if same and not reason else billing, reason)
            self._show_detail()

    def accept_checked_fields(self) -> None:
        item = self.current_item()
        if item is None or item.kind != "family_change":
            return
        fields = [r.path for r in self.change_model.rows if r.path in self.change_model.checked]
        reason = self.change_reason.text().strip()
        if not fields and not reason:
            self.warn("Modification de famille", "Cochez au moins un champ, ou indiquez le motif du refus.")
            return
        self._decide("Accepter", lambda _hold: queue.accept_family_change(self.desk, item.id, fields, reason=reason),
                     [item])

    def next_family(self) -> None:
        families = self.model.families()
        if not families:
            return
        row, _ = self._position()
        target = families[(row + 1) % len(families)]
        index = self._first_line(target)
        self.tree.setCurrentIndex(index)
        self.tree.scrollTo(index)

    # ------------------------------------------------------------------ feed import
    def import_feed_dialog(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Importer les demandes du portail", "",
                                              "Flux du portail (*.json)")
        if path:
            self.import_feed_file(path)

    def import_feed_file(self, path: str) -> intake.IntakeResult | None:
        title = "Importer les demandes du portail"

        def done(result: intake.IntakeResult) -> None:
            self.queueChanged.emit()
            self.inform(title, result.summary())

        return ops.run(self, title, lambda: intake.import_feed_file(self.desk, path), on_done=done,
                       on_error=lambda text: self.warn(title, text))

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
        items = self.selected_items()
        documents = bool(items) and all(i.kind == RequestKind.DOCUMENT for i in items)
        dialog = RefusalDialog(count, self, documents=documents)
        return dialog.text() if dialog.exec() == RefusalDialog.Accepted else None

    def ask_billing(self, item: queue.QueueItem) -> tuple[str, str] | None:
        dialog = BillingDialog(item, self, self.model.overrides.get(item.id))
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
