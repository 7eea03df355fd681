"""The Courriels tab: the outbox with filters, one message opened, resend a failed one.

It follows the operations that queue e-mails (decisions, invoices sent, reminders…) through
their `Changes.outbox`, and the background sender's runs.
"""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate, QModelIndex, Qt, QTimer, Signal
from PySide6.QtGui import QBrush, QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (QAbstractItemView, QComboBox, QDateEdit, QFrame, QHBoxLayout, QHeaderView,
                               QInputDialog, QLabel, QLineEdit, QMessageBox, QPushButton, QSplitter,
                               QTableView,
                               QTextBrowser, QVBoxLayout, QWidget)

from gandrange_desk import formats
from gandrange_desk.models import OutboxStatus
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.mail import sender as mailer
from gandrange_desk.services.context import Desk
from gandrange_desk.services.mail.outbox import (CANCELLABLE, OutboxRow, cancel, counts_text, list_messages,
                                                 message_detail, outbox_counts, resend)
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.refresh import Follow
from gandrange_desk.ui.common.table_model import RowsTableModel
from gandrange_desk.ui.common.windows import keep
from gandrange_desk.ui.mail.notice_dialog import NoticeDialog

LIST_LIMIT = 2000
COLUMNS = ("Créé le", "Famille", "Destinataires", "Objet", "État", "Essais", "Envoyé / prochain essai", "Erreur")
COL_FAMILY = 1
STATUS_COLORS = {OutboxStatus.FAILED: "#b3261e", OutboxStatus.TEMP_FAILED: "#a15c00",
                 OutboxStatus.SENT: "#1e6b35", OutboxStatus.SENDING: "#1f4e9c",
                 OutboxStatus.CANCELLED: "#6b6b6b"}
RESENDABLE = (OutboxStatus.FAILED, OutboxStatus.TEMP_FAILED)
NO_DATE = QDate(2000, 1, 1)


class OutboxTableModel(RowsTableModel):
    HEADERS = COLUMNS

    def __init__(self, parent=None, now=None):
        super().__init__(parent)
        self.now = now  # the desk's clock: a held message says until when

    def when(self, r: OutboxRow) -> str:
        if r.sent_at:
            return r.sent_at.strftime("%d/%m %H:%M")
        held = r.held_until(self.now()) if self.now is not None else None
        if held is not None:
            return f"Envoi différé jusqu'à {formats.hhmm(held)}"
        if r.next_attempt_at and r.attempts and r.status in (OutboxStatus.TEMP_FAILED, OutboxStatus.PENDING):
            return "essai " + r.next_attempt_at.strftime("%d/%m %H:%M")
        return ""

    def row_at(self, index: QModelIndex) -> OutboxRow | None:
        return self.row(index)

    def index_of(self, message_id: int) -> QModelIndex:
        for i, r in enumerate(self.rows):
            if r.id == message_id:
                return self.index(i, 0)
        return QModelIndex()

    def data(self, index, role=Qt.DisplayRole):
        r = self.row_at(index)
        if r is None:
            return None
        col = index.column()
        if role == Qt.DisplayRole:
            if col == 0:
                return r.created_at.strftime("%d/%m/%Y %H:%M")
            if col == 1:
                return f"{r.family_ref} {r.family_name}".strip() or "—"
            if col == 2:
                return mailer.visible(r.recipients)
            if col == 3:
                if not r.attachment_count:
                    return mailer.visible(r.subject)
                return f"{mailer.visible(r.subject)} ({formats.count(r.attachment_count, 'pièce jointe', 'pièces jointes')})"
            if col == 4:
                return OutboxStatus.label_of(r.status)
            if col == 5:
                return str(r.attempts)
            if col == 6:
                return self.when(r)
            if col == 7:
                return r.last_error
        if role == Qt.ForegroundRole and col == 4 and r.status in STATUS_COLORS:
            return QBrush(QColor(STATUS_COLORS[r.status]))
        if role == Qt.ToolTipRole and col in (1, 2, 3, 7):
            return (f"{r.family_ref} {r.family_name}".strip(), mailer.visible(r.recipients), mailer.visible(r.subject),
                    r.last_error)[(1, 2, 3, 7).index(col)] or None
        if role == Qt.ToolTipRole and col == 6 and self.now is not None and r.held_until(self.now()):
            return ("Décision prise ligne à ligne : l'e-mail attend les décisions suivantes pour la même famille "
                    "et la même activité, puis part seul ; il part aussitôt quand le bureau quitte la famille.")
        if role == Qt.TextAlignmentRole and col == 5:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None


def make_table(model: OutboxTableModel) -> QTableView:
    table = QTableView()
    table.setModel(model)
    table.setSelectionBehavior(QAbstractItemView.SelectRows)
    table.setSelectionMode(QAbstractItemView.SingleSelection)
    table.setEditTriggers(QAbstractItemView.NoEditTriggers)
    table.setAlternatingRowColors(True)
    table.setWordWrap(False)
    table.verticalHeader().setVisible(False)
    table.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
    table.verticalHeader().setDefaultSectionSize(24)
    table.setTabKeyNavigation(False)
    header = table.horizontalHeader()
    header.setHighlightSections(False)
    # Sized for a 1366-pixel screen: the subject takes what is left, the error is read below.
    for col, width in enumerate((122, 180, 250, 300, 90, 45, 190, 120)):
        table.setColumnWidth(col, width)
    header.setStretchLastSection(False)
    header.setSectionResizeMode(3, QHeaderView.Stretch)
    return table


class MessageDetail(QWidget):
    """One message as the family received (or will receive) it, and "Renvoyer" when it failed."""

    resent = Signal(int)

    def __init__(self, desk: Desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.message_id: int | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.headers = QLabel("Sélectionnez un courriel pour l'afficher.")
        self.headers.setTextFormat(Qt.RichText)
        self.headers.setWordWrap(True)
        self.headers.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setStyleSheet("color: #b3261e;")
        self.error.hide()
        self.body = QTextBrowser()
        self.body.setOpenExternalLinks(False)
        buttons = QHBoxLayout()
        self.resend_button = QPushButton("Renvo&yer")
        self.resend_button.setToolTip("Remet ce courriel en file pour un nouvel envoi (Ctrl+R)")
        self.resend_button.setEnabled(False)
        self.resend_button.clicked.connect(self.resend)
        self.correct_button = QPushButton("Corriger l'&adresse et renvoyer…")
        self.correct_button.setToolTip("Remplace les adresses de ce courriel en échec, puis le renvoie")
        self.correct_button.setEnabled(False)
        self.correct_button.clicked.connect(self.correct)
        self.cancel_button = QPushButton("Annu&ler ce courriel")
        self.cancel_button.setToolTip("Ce courriel ne partira jamais (il reste visible, « Annulé »)")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        buttons.addStretch(1)
        buttons.addWidget(self.cancel_button)
        buttons.addWidget(self.correct_button)
        buttons.addWidget(self.resend_button)
        self.recipients = ""
        layout.addWidget(self.headers)
        layout.addWidget(self.error)
        layout.addWidget(self.body, 1)
        layout.addLayout(buttons)

    def show_message(self, message_id: int | None) -> None:
        self.message_id = message_id
        if message_id is None:
            self.headers.setText("Sélectionnez un courriel pour l'afficher.")
            self.body.clear()
            self.error.hide()
            self.resend_button.setEnabled(False)
            self.correct_button.setEnabled(False)
            self.cancel_button.setEnabled(False)
            return
        d = message_detail(self.desk, message_id)
        r = d.row
        config = mailer.smtp_config(self.desk)
        lines = [("De", config.sender if config else "(expéditeur des paramètres SMTP)"),
                 ("À", mailer.visible(r.recipients)), ("Objet", mailer.visible(r.subject)),
                 ("Créé le", formats.instant(r.created_at)),
                 ("État", OutboxStatus.label_of(r.status) + (f" le {formats.instant(r.sent_at)}" if r.sent_at else "")),
                 ("Essais", str(r.attempts))]
        held = r.held_until(self.desk.now())
        if held is not None:
            lines.append(("Envoi", f"différé jusqu'à {formats.hhmm(held)} : les décisions suivantes pour la même "
                                   "famille et la même activité rejoignent ce courriel"))
        elif r.next_attempt_at and r.attempts and r.status in (OutboxStatus.TEMP_FAILED, OutboxStatus.PENDING):
            lines.append(("Prochain essai", formats.instant(r.next_attempt_at)))
        if r.family_ref:
            lines.append(("Famille", f"{r.family_ref} — {r.family_name}"))
        if d.attachments:
            lines.append(("Pièces jointes", ", ".join(
                f"{name} ({max(1, size // 1024)} Ko)" for name, _mime, size in d.attachments)))
        lines.append(("Message-ID", d.message_id))
        self.headers.setText("<table cellspacing='2'>" + "".join(
            f"<tr><td><b>{_esc(k)} :</b></td><td>{_esc(v)}</td></tr>" for k, v in lines) + "</table>")
        self.error.setVisible(bool(r.last_error))
        self.error.setText(("Réponse / erreur : " if r.status != OutboxStatus.SENT else "Remarque : ")
                           + r.last_error)
        self.body.setPlainText(d.body_text)
        self.resend_button.setEnabled(r.status in RESENDABLE)
        self.correct_button.setEnabled(r.status in RESENDABLE)
        self.cancel_button.setEnabled(r.status in CANCELLABLE)
        self.recipients = r.recipients

    def resend(self) -> None:
        if self.message_id is None or not self.resend_button.isEnabled():
            return
        message_id = self.message_id
        ops.run(self, "Renvoyer", lambda: resend(self.desk, message_id),
                on_done=lambda _row: self.resent.emit(message_id))


    def correct(self) -> None:
        if self.message_id is None or not self.correct_button.isEnabled():
            return
        message_id = self.message_id
        shown = mailer.visible(self.recipients)
        text, ok = QInputDialog.getText(self, "Corriger l'adresse",
                                        "Adresses du destinataire (séparées par des virgules) :",
                                        QLineEdit.Normal, shown)
        if not ok:
            return
        ops.run(self, "Corriger l'adresse", lambda: resend(self.desk, message_id, recipients=text),
                on_done=lambda _row: self.resent.emit(message_id))

    def cancel(self) -> None:
        if self.message_id is None or not self.cancel_button.isEnabled():
            return
        message_id = self.message_id
        answer = QMessageBox.question(self, "Annuler le courriel",
                                      "Ce courriel ne sera jamais envoyé. L'annuler ?",
                                      QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        if answer != QMessageBox.Yes:
            return
        ops.run(self, "Annuler le courriel", lambda: cancel(self.desk, message_id),
                on_done=lambda _row: self.show_message(message_id))


def _esc(text: str) -> str:
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class MailView(QWidget):
    """Tab "Courriels". `set_sender(MailSender)` lets "Envoyer maintenant" use the background sender."""

    def __init__(self, desk: Desk, parent=None, sender=None):
        super().__init__(parent)
        self.desk = desk
        self.sender = None
        layout = QVBoxLayout(self)

        self.banner = QFrame()
        self.banner.setStyleSheet("QFrame { background: #fff4ce; border: 1px solid #e0c060; border-radius: 4px; }")
        banner_layout = QHBoxLayout(self.banner)
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        banner_layout.addWidget(self.banner_text, 1)
        self.banner_button = QPushButton("Paramètres SMTP…")
        self.banner_button.clicked.connect(self.open_settings)
        banner_layout.addWidget(self.banner_button)
        layout.addWidget(self.banner)

        filters = QHBoxLayout()
        self.status_filter = QComboBox()
        self.status_filter.addItem("Tous les états", None)
        self.status_filter.addItem("À envoyer (en attente, en cours, échec temporaire)",
                                   [OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.TEMP_FAILED])
        for st in OutboxStatus:
            self.status_filter.addItem(st.label, [st])
        # The longest state ("À envoyer (en attente, …)") must not take the family search's room.
        self.status_filter.setSizeAdjustPolicy(QComboBox.AdjustToMinimumContentsLengthWithIcon)
        self.status_filter.setMinimumContentsLength(18)
        self.family_filter = QLineEdit()
        self.family_filter.setPlaceholderText("Famille : nom, référence ou adresse")
        self.family_filter.setClearButtonEnabled(True)
        self.date_from = _date_edit()
        self.date_to = _date_edit()
        label_state = QLabel("É&tat :")
        label_state.setBuddy(self.status_filter)
        label_family = QLabel("Fami&lle :")
        label_family.setBuddy(self.family_filter)
        label_from = QLabel("&Période du :")
        label_from.setBuddy(self.date_from)
        filters.addWidget(label_state)
        filters.addWidget(self.status_filter)
        filters.addWidget(label_family)
        filters.addWidget(self.family_filter, 1)
        filters.addWidget(label_from)
        filters.addWidget(self.date_from)
        filters.addWidget(QLabel("au :"))
        filters.addWidget(self.date_to)
        self.send_button = QPushButton("Envoyer mai&ntenant")
        self.send_button.setToolTip("Envoie tout de suite les courriels en attente (Ctrl+Maj+E)")
        self.send_button.clicked.connect(self.send_now)
        self.settings_button = QPushButton("Paramètres &SMTP…")
        self.settings_button.clicked.connect(self.open_settings)
        self.notice_button = QPushButton("&Message aux familles…")
        self.notice_button.setToolTip("Écrire à toutes les familles, ou à celles d'une activité ou d'une école "
                                      "(fermeture, grève…)")
        self.notice_button.clicked.connect(self.write_to_families)
        filters.addWidget(self.send_button)
        filters.addWidget(self.notice_button)
        filters.addWidget(self.settings_button)
        layout.addLayout(filters)

        self.model = OutboxTableModel(self, now=desk.now)
        self.table = make_table(self.model)
        self.detail = MessageDetail(desk)
        self.detail.resent.connect(self._after_resend)
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(self.detail)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)
        keep(self.table, "outbox")
        keep(splitter, "outbox")
        layout.addWidget(splitter, 1)
        self.summary = QLabel()
        layout.addWidget(self.summary)

        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.status_filter.currentIndexChanged.connect(self.refresh)
        # As the clerk types, like every other search of the desk (Entrée just goes at once).
        self._filter_timer = QTimer(self, singleShot=True, interval=250)
        self._filter_timer.timeout.connect(self.refresh)
        self.family_filter.textChanged.connect(lambda t: self._filter_timer.start() if t else self.refresh())
        self.family_filter.returnPressed.connect(self.refresh)
        self.date_from.dateChanged.connect(self.refresh)
        self.date_to.dateChanged.connect(self.refresh)
        # F5 (Actualiser) and Ctrl+Maj+E (envoyer maintenant) belong to the main window's menus.
        QShortcut(QKeySequence("Ctrl+R"), self, self.detail.resend)
        QShortcut(QKeySequence("Ctrl+F"), self, self.family_filter.setFocus)
        self.setTabOrder(self.status_filter, self.family_filter)
        self.setTabOrder(self.family_filter, self.date_from)
        self.setTabOrder(self.date_from, self.date_to)
        self.setTabOrder(self.date_to, self.table)
        if sender is not None:
            self.set_sender(sender)
        self.follow = Follow(self, ("outbox", "families", "settings"), lambda _c: self.refresh())
        self.refresh()

    def apply_changes(self, changes: Changes, origin=None) -> None:
        self.follow(changes)

    def set_sender(self, sender) -> None:
        self.sender = sender
        sender.sendFinished.connect(self._after_send)

    def _find_sender(self) -> None:
        # The main window owns the one background sender (`mail_sender`); use it once it exists.
        if self.sender is None:
            found = getattr(self.window(), "mail_sender", None)
            if found is not None and hasattr(found, "sendFinished"):
                self.set_sender(found)

    def showEvent(self, event) -> None:
        self._find_sender()
        super().showEvent(event)

    def _after_send(self, report) -> None:
        # Every minute: re-read only when something changed and someone is looking.
        if self.isVisible() and (report is None or report.deliveries or report.released or report.requeued_stale):
            self.refresh()
        elif self.isVisible():
            self._update_banner(getattr(self.sender, "waiting", 0))

    def refresh(self) -> None:
        self._filter_timer.stop()
        current = self.detail.message_id
        scrolled = self.table.verticalScrollBar().value()
        rows = list_messages(self.desk, status=self.status_filter.currentData(),
                             family_query=self.family_filter.text(), date_from=_date(self.date_from),
                             date_to=_date(self.date_to), limit=LIST_LIMIT)
        self.model.set_rows(rows)
        waiting, failed = outbox_counts(self.desk)
        shown = formats.count(len(rows), "courriel affiché", "courriels affichés")
        held = sum(1 for r in rows if r.held_until(self.desk.now()))
        self.summary.setText(f"{shown}{' (les plus récents)' if len(rows) == LIST_LIMIT else ''} — "
                             f"{counts_text(waiting, failed)}"
                             + (f", dont {formats.count(held, 'différé', 'différés')} (décisions en cours)"
                                if held else ""))
        window = self.window()
        if hasattr(window, "show_mail_counts"):  # the status bar says the same figures
            window.show_mail_counts(waiting, failed)
        self._update_banner(waiting)
        index = self.model.index_of(current) if current is not None else QModelIndex()
        if index.isValid():
            self.table.setCurrentIndex(index)
            self.detail.show_message(current)
            self.table.verticalScrollBar().setValue(scrolled)
        elif rows:
            self.table.setCurrentIndex(self.model.index(0, 0))
        else:
            self.detail.show_message(None)

    def _update_banner(self, waiting: int) -> None:
        config = mailer.smtp_config(self.desk)
        problem = getattr(self.sender, "problem", "") if self.sender is not None else ""
        if config is None:
            text = ("Aucun serveur SMTP n'est configuré : les courriels restent dans la boîte d'envoi "
                    f"({formats.count(waiting, 'courriel en attente', 'courriels en attente')}) "
                    "jusqu'à ce qu'un serveur soit indiqué.")
        elif problem:
            text = f"Dernier envoi : {problem}"
        else:
            text = ""
        self.banner_text.setText(text)
        self.banner.setVisible(bool(text))

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        row = self.model.row_at(current)
        self.detail.show_message(row.id if row else None)

    def _after_resend(self, _message_id: int) -> None:
        # The list has followed the resend's Changes already; now deliver it.
        if self.sender is not None:
            self.sender.send_now()

    def send_now(self) -> None:
        window = self.window()
        if hasattr(window, "send_mail_now"):
            window.send_mail_now()  # asks for a missing SMTP password, as Outils does
            return
        if self.sender is not None:
            self.sender.send_now()
            return
        def done(report) -> None:
            self.refresh()
            if report.problem:
                QMessageBox.warning(self, "Envoi des courriels", report.problem)

        ops.run(self, "Envoi des courriels", lambda progress: mailer.send_pending(self.desk, progress=progress),
                long=True, on_done=done,
                on_error=lambda message: (self.refresh(), QMessageBox.warning(self, "Envoi des courriels", message)))

    def write_to_families(self) -> None:
        NoticeDialog(self.desk, self).exec()  # its messages reach this list as Changes

    def open_settings(self) -> None:
        from gandrange_desk.ui.mail.smtp_dialog import SmtpDialog

        if SmtpDialog(self.desk, self).exec() and self.sender is not None:  # its save refreshed the view
            self.sender.send_now()


def _date_edit() -> QDateEdit:
    edit = QDateEdit()
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd/MM/yyyy")
    edit.setMinimumDate(NO_DATE)
    edit.setSpecialValueText("—")  # shown at the minimum date: no bound
    edit.setDate(NO_DATE)
    return edit


def _date(edit: QDateEdit) -> date | None:
    value = edit.date()
    return None if value == NO_DATE else date(value.year(), value.month(), value.day())
