"""The Courriels tab of a family file: what was sent to the family, when, and what failed."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QLabel, QSplitter, QVBoxLayout, QWidget

from gandrange_desk import formats
from gandrange_desk.models import OutboxStatus
from gandrange_desk.services.context import Desk
from gandrange_desk.services.mail.outbox import list_messages
from gandrange_desk.ui.mail.view import COL_FAMILY, MessageDetail, OutboxTableModel, make_table


class FamilyMailList(QWidget):
    """`FamilyMailList(desk, family_id, parent=None)`; `refresh()`, `set_family(family_id)`;
    signal `resent(message_id)` after "Renvoyer" (connect it to `MailSender.send_now`)."""

    resent = Signal(int)

    def __init__(self, desk: Desk, family_id: int | None, parent: QWidget | None = None):
        super().__init__(parent)
        self.desk = desk
        self.family_id = family_id
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 4, 4, 4)
        self.summary = QLabel()
        layout.addWidget(self.summary)
        self.model = OutboxTableModel(self)
        self.table = make_table(self.model)
        self.table.setColumnHidden(COL_FAMILY, True)
        self.detail = MessageDetail(desk)
        self.detail.resent.connect(self._after_resend)
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        layout.addWidget(splitter, 1)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        QShortcut(QKeySequence("Ctrl+R"), self, self.detail.resend, context=Qt.WidgetWithChildrenShortcut)
        self.refresh()

    def set_family(self, family_id: int | None) -> None:
        self.family_id = family_id
        self.detail.message_id = None
        self.refresh()

    def refresh(self) -> None:
        current = self.detail.message_id
        rows = [] if self.family_id is None else list_messages(self.desk, family_id=self.family_id)
        self.model.set_rows(rows)
        failed = sum(1 for r in rows if r.status == OutboxStatus.FAILED)
        waiting = sum(1 for r in rows if r.status in (OutboxStatus.PENDING, OutboxStatus.SENDING,
                                                       OutboxStatus.TEMP_FAILED))
        parts = [formats.count(len(rows), "courriel", "courriels")]
        if waiting:
            parts.append(f"{waiting} en attente")
        if failed:
            parts.append(f"{failed} en échec définitif")
        self.summary.setText(" — ".join(parts) if rows else "Aucun courriel pour cette famille.")
        index = self.model.index_of(current) if current is not None else QModelIndex()
        if not index.isValid() and rows:
            index = self.model.index(0, 0)
        if index.isValid():
            self.table.setCurrentIndex(index)
            self.detail.show_message(self.model.row_at(index).id)
        else:
            self.detail.show_message(None)

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.row_at(current)
        self.detail.show_message(row.id if row else None)

    def _after_resend(self, message_id: int) -> None:
        self.refresh()
        self.resent.emit(message_id)
