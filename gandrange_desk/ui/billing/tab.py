"""Facturation: the supervisor's month — prepare, review, issue, open, print, send.

A month picker and the run's buttons on top; below, "Factures du mois" (the review list and
the detail of the selected invoice) and, when part B's view exists, "Paiements et avoirs".
Every action goes through `ui.common.ops.run` (long runs in a worker thread, with progress and
cancel); the tab follows the invoices and payments other operations change.
"""

from __future__ import annotations

import tempfile
from datetime import date
from pathlib import Path

from PySide6.QtCore import QDate, QLocale, Qt, QUrl
from PySide6.QtGui import QBrush, QColor, QDesktopServices, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView, QCheckBox, QDateEdit, QFileDialog, QHBoxLayout, QHeaderView, QLabel, QLineEdit,
    QMessageBox, QPushButton, QSplitter, QTableView, QTabWidget, QVBoxLayout, QWidget,
)

from gandrange_desk import formats
from gandrange_desk.models import InvoiceStatus, Role
from gandrange_desk.services.billing import invoice_views
from gandrange_desk.services.billing import invoicing, month_checks
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.search import normalize
from gandrange_desk.ui.billing.month_dialogs import PaperInvoicesDialog, RecapDialog
from gandrange_desk.ui.billing.payments_view import PaymentsView
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.export import export_button
from gandrange_desk.ui.common.refresh import Follow
from gandrange_desk.ui.common.table_model import RowsTableModel
from gandrange_desk.ui.common.windows import keep

ROW_HEIGHT = 24
AMBER = QColor(255, 243, 205)


class InvoiceTableModel(RowsTableModel):
    HEADERS = ("Famille", "Réf.", "Numéro", "Lignes", "Total", "Anomalies", "Statut")

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        r = self.rows[index.row()]
        col = index.column()
        if role == Qt.DisplayRole:
            if col == 0:
                return r.family_name
            if col == 1:
                return r.family_ref
            if col == 2:
                return r.number or "—"
            if col == 3:
                return str(r.line_count)
            if col == 4:
                return formats.euros(r.total_cents)
            if col == 5:
                return " / ".join(a for a in r.anomalies.splitlines() if a)
            if col == 6:
                return r.status_label
        if role == Qt.TextAlignmentRole and col in (3, 4):
            return int(Qt.AlignRight | Qt.AlignVCenter)
        if role == Qt.BackgroundRole and r.anomalies:
            return QBrush(AMBER)
        if role == Qt.ToolTipRole and col == 5 and r.anomalies:
            return r.anomalies
        return None


class LinesModel(RowsTableModel):
    HEADERS = ("Enfant", "Prestation", "Dates", "Qté", "Prix unit.", "Montant")

    @property
    def lines(self) -> list[invoice_views.LineView]:
        return self.rows

    def set_lines(self, lines) -> None:
        self.set_rows(lines)

    def data(self, index, role=Qt.DisplayRole):
        if not index.isValid():
            return None
        line = self.lines[index.row()]
        col = index.column()
        if role == Qt.DisplayRole:
            return (line.child_name, line.label, ", ".join(formats.ddmm(d) for d in line.days),
                    str(line.quantity), formats.euros(line.unit_price_cents), formats.euros(line.amount_cents))[col]
        if role == Qt.ToolTipRole and col in (1, 2):
            return line.label if col == 1 else ", ".join(formats.ddmm(d) for d in line.days)
        if role == Qt.TextAlignmentRole and col >= 3:
            return int(Qt.AlignRight | Qt.AlignVCenter)
        return None


def _table(model) -> QTableView:
    view = QTableView()
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectRows)
    view.setAlternatingRowColors(True)
    view.setTabKeyNavigation(False)  # Tab goes on to the next field; arrows move inside
    view.verticalHeader().setSectionResizeMode(QHeaderView.Fixed)
    view.verticalHeader().setDefaultSectionSize(ROW_HEIGHT)
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    return view


class BillingTab(QWidget):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        # Replaceable in tests: the system viewer and the message boxes.
        self.open_url = QDesktopServices.openUrl
        self.last_message = ""

        self.month_edit = QDateEdit()
        self.month_edit.setLocale(QLocale(QLocale.French, QLocale.France))
        self.month_edit.setDisplayFormat("MMMM yyyy")
        self.month_edit.setCurrentSection(QDateEdit.MonthSection)
        self.month_edit.setCalendarPopup(True)
        today = desk.today()
        previous = date(today.year - (today.month == 1), (today.month - 2) % 12 + 1, 1)
        self.month_edit.setDate(QDate(previous.year, previous.month, 1))
        month_label = QLabel("Moi&s :")
        month_label.setBuddy(self.month_edit)
        self.prev_button = QPushButton("◀")
        self.next_button = QPushButton("▶")
        for b in (self.prev_button, self.next_button):
            b.setFixedWidth(32)
        self.prev_button.setToolTip("Mois précédent (Ctrl+Page précédente)")
        self.next_button.setToolTip("Mois suivant (Ctrl+Page suivante)")
        self.prepare_button = QPushButton("&Préparer")
        self.issue_button = QPushButton("É&mettre")
        self.open_button = QPushButton("&Ouvrir")
        self.print_button = QPushButton("&Imprimer…")
        self.save_button = QPushButton("Enre&gistrer le PDF du mois…")
        self.send_button = QPushButton("En&voyer")
        self.tariffs_button = QPushButton("&Tarifs…")
        self.credit_button = QPushButton("Avoir…")  # part B: credit note on the selected issued invoice
        self.credit_button.setToolTip("Avoir sur la facture émise sélectionnée (responsable)")
        self.prepare_button.setToolTip("Prépare (ou refait) les brouillons du mois à partir des cases R et AF")
        self.issue_button.setToolTip("Numérote les brouillons et crée leurs PDF (responsable)")
        self.send_button.setToolTip("Met en file l'e-mail « Votre facture est disponible » avec le PDF : "
                                    "factures sélectionnées, ou toutes celles du mois pas encore envoyées")
        self.print_button.setToolTip("Imprime les factures sélectionnées, ou tout le mois (Ctrl+P)")
        if not desk.actor.at_least(Role.RESPONSABLE):
            self.issue_button.setEnabled(False)
            self.issue_button.setToolTip("Réservé au responsable")
        self.summary = QLabel()

        bar = QHBoxLayout()
        for w in (month_label, self.prev_button, self.month_edit, self.next_button, self.prepare_button,
                  self.issue_button, self.open_button, self.print_button, self.save_button, self.send_button,
                  self.credit_button):
            bar.addWidget(w)
        bar.addStretch(1)
        self.export_button = export_button(self, desk, "invoices", lambda: {"month": self.month()})
        bar.addWidget(self.export_button)
        bar.addWidget(self.tariffs_button)

        self.model = InvoiceTableModel(self)
        self.table = _table(self.model)
        header = self.table.horizontalHeader()
        header.setStretchLastSection(False)
        for col, width in enumerate((240, 80, 110, 60, 100, 320, 130)):
            header.resizeSection(col, width)
        header.setSectionResizeMode(5, QHeaderView.Stretch)
        self.lines_model = LinesModel(self)
        self.lines_table = _table(self.lines_model)
        lines_header = self.lines_table.horizontalHeader()
        lines_header.setStretchLastSection(False)
        for col, width in enumerate((170, 330, 300, 50, 90, 100)):
            lines_header.resizeSection(col, width)
        lines_header.setSectionResizeMode(2, QHeaderView.Stretch)
        self.detail_title = QLabel()
        self.detail_title.setTextFormat(Qt.PlainText)
        self.detail_title.setStyleSheet("font-weight: bold;")
        self.detail_info = QLabel()
        self.detail_info.setWordWrap(True)
        self.detail_info.setTextFormat(Qt.PlainText)

        detail = QWidget()
        dl = QVBoxLayout(detail)
        dl.setContentsMargins(0, 0, 0, 0)
        dl.addWidget(self.detail_title)
        dl.addWidget(self.detail_info)
        dl.addWidget(self.lines_table, 1)
        splitter = QSplitter(Qt.Vertical)
        splitter.addWidget(self.table)
        splitter.addWidget(detail)
        splitter.setSizes([500, 300])
        keep(splitter, "billing")
        keep(self.table, "invoices")
        keep(self.lines_table, "invoice_lines")
        self.search = QLineEdit()
        self.search.setPlaceholderText("Rechercher une famille, une référence ou un numéro (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.only_anomalies = QCheckBox("A&nomalies seulement")
        filters = QHBoxLayout()
        filters.addWidget(self.search, 1)
        filters.addWidget(self.only_anomalies)
        review = QWidget()
        rl = QVBoxLayout(review)
        rl.setContentsMargins(0, 4, 0, 0)
        rl.addLayout(filters)
        rl.addWidget(splitter, 1)
        rl.addWidget(self.summary)

        self.pages = QTabWidget()
        self.pages.addTab(review, "&Factures du mois")
        self.payments_view = PaymentsView(self.desk)
        self.pages.addTab(self.payments_view, "P&aiements et avoirs")

        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addWidget(self.pages, 1)

        self.all_rows: list[invoice_views.InvoiceRow] = []
        self.search.textChanged.connect(lambda *_: self.apply_filter())
        self.only_anomalies.toggled.connect(lambda *_: self.apply_filter())
        QShortcut(QKeySequence(QKeySequence.Find), self, activated=self.search.setFocus)
        self.month_edit.dateChanged.connect(lambda *_: self.refresh())
        self.prev_button.clicked.connect(lambda: self.shift_month(-1))
        self.next_button.clicked.connect(lambda: self.shift_month(1))
        self.prepare_button.clicked.connect(self.prepare)
        self.issue_button.clicked.connect(self.issue)
        self.open_button.clicked.connect(self.open_selected)
        self.print_button.clicked.connect(self.print_invoices)
        self.save_button.clicked.connect(self.save_month_pdf)
        self.send_button.clicked.connect(self.send)
        self.tariffs_button.clicked.connect(self.edit_tariffs)
        self.credit_button.clicked.connect(self.credit_note)
        self.table.selectionModel().currentRowChanged.connect(lambda *_: self.show_detail())
        self.table.doubleClicked.connect(lambda *_: self.open_selected())
        QShortcut(QKeySequence(Qt.Key_Return), self.table, activated=self.open_selected,
                  context=Qt.WidgetShortcut)
        QShortcut(QKeySequence("Ctrl+PgUp"), self, activated=lambda: self.shift_month(-1))
        QShortcut(QKeySequence("Ctrl+PgDown"), self, activated=lambda: self.shift_month(1))
        QShortcut(QKeySequence(QKeySequence.Refresh), self, activated=self.refresh)
        QShortcut(QKeySequence(QKeySequence.Print), self, activated=self.print_invoices)
        self.setTabOrder(self.month_edit, self.prepare_button)
        self.setTabOrder(self.prepare_button, self.issue_button)
        self.setTabOrder(self.issue_button, self.table)
        # The month's invoices and their payments, family names, tariffs.
        self.follow = Follow(self, ("invoices", "payments", "families", "settings"), lambda _c: self.refresh())
        self.refresh()

    def apply_changes(self, changes: Changes, origin=None) -> None:
        self.follow(changes)

    # -- state -------------------------------------------------------------------------
    def month(self) -> date:
        qd = self.month_edit.date()
        return date(qd.year(), qd.month(), 1)

    def shift_month(self, delta: int) -> None:
        self.month_edit.setDate(self.month_edit.date().addMonths(delta))

    def refresh(self) -> None:
        rows = ops.run(self, "Factures du mois", lambda: invoice_views.list_month(self.desk, self.month()),
                       on_error=self.summary.setText)
        if rows is None:
            return
        self.all_rows = rows
        issued = [r for r in rows if r.status == InvoiceStatus.ISSUED]
        drafts = [r for r in rows if r.status == InvoiceStatus.DRAFT]
        flagged = sum(1 for r in rows if r.anomalies)
        total = sum(r.total_cents for r in rows)
        month = formats.month_year(self.month())
        if not rows:
            text = f"Aucune facture pour {month} : « Préparer » crée les brouillons."
        elif issued:
            text = (f"{formats.count(len(issued), 'facture émise', 'factures émises')} pour {month}, "
                    f"total {formats.euros(total)}")
            sent = sum(1 for r in issued if r.sent_at)
            text += f", {formats.count(sent, 'envoyée', 'envoyées')} par e-mail."
        else:
            text = (f"{formats.count(len(drafts), 'brouillon', 'brouillons')} pour {month}, "
                    f"total {formats.euros(total)}")
            text += f", {formats.count(flagged, 'avec anomalie', 'avec anomalies')}." if flagged else "."
        self.summary.setText(text)
        self.prepare_button.setEnabled(not issued)
        self.issue_button.setEnabled(bool(drafts) and self.desk.actor.at_least(Role.RESPONSABLE))
        self.print_button.setEnabled(bool(issued))
        self.save_button.setEnabled(bool(issued))
        self.send_button.setEnabled(bool(issued))
        self.open_button.setEnabled(bool(rows))
        self.apply_filter()
        self.payments_view.refresh()

    def apply_filter(self) -> None:
        """Show the month's invoices matching the search and the "anomalies" box."""
        current = self.selected_ids()
        words = normalize(self.search.text()).split()
        rows = []
        for r in self.all_rows:
            if self.only_anomalies.isChecked() and not r.anomalies:
                continue
            if words:
                haystack = normalize(f"{r.family_name} {r.family_ref} {r.number or ''} {r.billed_name}")
                if not all(w in haystack for w in words):
                    continue
            rows.append(r)
        self.model.set_rows(rows)
        if rows:
            keep = next((i for i, r in enumerate(rows) if r.id in current), 0)
            self.table.selectRow(keep)
        self.show_detail()

    def selected_rows(self) -> list[invoice_views.InvoiceRow]:
        picked = sorted({i.row() for i in self.table.selectionModel().selectedRows()})
        return [self.model.rows[i] for i in picked if i < len(self.model.rows)]

    def selected_ids(self) -> list[int]:
        return [r.id for r in self.selected_rows()] if self.model.rows else []

    def show_detail(self) -> None:
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= len(self.model.rows):
            self.detail_title.setText("")
            self.detail_info.setText("")
            self.lines_model.set_lines([])
            self.credit_button.setEnabled(False)
            return
        invoice_id = self.model.rows[index.row()].id
        d = ops.run(self, "Facture", lambda: invoice_views.detail(self.desk, invoice_id),
                    on_error=self.detail_info.setText)
        if d is None:
            return
        r = d.row
        who = f"{r.family_name} ({r.family_ref}) — {r.billed_name}"
        self.detail_title.setText(f"{r.number or 'Brouillon'} — {who}")
        info = [f"Total {formats.euros(r.total_cents)} ; déjà réglé {formats.euros(r.paid_cents)}."]
        if d.issue_date:
            info.append(f"Émise le {formats.ddmmyyyy(d.issue_date)}, échéance {formats.ddmmyyyy(d.due_date)}.")
        if r.anomalies:
            info.append("Anomalies : " + " ; ".join(a for a in r.anomalies.splitlines() if a))
        self.detail_info.setText("\n".join(info))
        self.lines_model.set_lines(d.lines)
        self.credit_button.setEnabled(bool(r.number) and self.desk.actor.at_least(Role.RESPONSABLE))

    def credit_note(self) -> None:
        from gandrange_desk.ui.billing.credit_note_dialog import CreditNoteDialog

        rows = [r for r in self.selected_rows() if r.number]
        if rows:
            dialog = ops.run(self, "Avoir", lambda: CreditNoteDialog(self.desk, rows[0].id, self),
                             on_error=lambda text: self.warn("Avoir", text))
            if dialog is not None:
                dialog.exec()  # its credit note reaches this list as Changes

    # -- messages (replaceable in tests) ---------------------------------------------------
    def inform(self, title: str, text: str) -> None:
        self.last_message = text
        QMessageBox.information(self, title, text)

    def warn(self, title: str, text: str) -> None:
        self.last_message = text
        QMessageBox.warning(self, title, text)

    def confirm(self, title: str, text: str, yes: str = "Émettre") -> bool:
        box = QMessageBox(QMessageBox.Question, title, text, QMessageBox.NoButton, self)
        accept = box.addButton(yes, QMessageBox.AcceptRole)
        box.addButton("Annuler", QMessageBox.RejectRole)
        box.setDefaultButton(accept)
        box.exec()
        return box.clickedButton() is accept

    # -- actions -------------------------------------------------------------------------
    def prepare(self) -> None:
        month, title = self.month(), "Préparation des factures"
        early = month_checks.month_not_over(self.desk, month)
        if early and not self.confirm("Préparer les factures", early + "\n\nPréparer quand même ?", "Préparer"):
            return
        ops.run(self, title, lambda progress: invoicing.prepare(self.desk, month, progress), long=True,
                on_done=lambda result: self.inform("Préparation", result.text()),
                on_error=lambda text: self.warn(title, text))

    def issue(self) -> None:
        month = self.month()
        drafts = [r for r in self.all_rows if r.status == InvoiceStatus.DRAFT]
        if not drafts:
            return
        flagged = sum(1 for r in drafts if r.anomalies)
        question = (f"Émettre {formats.count(len(drafts), 'facture', 'factures')} de "
                    f"{formats.month_year(month)} ? Elles seront numérotées et ne pourront plus être "
                    "modifiées (une correction se fait par avoir).")
        if flagged:
            question += (f"\n\nAttention : {formats.count(flagged, 'brouillon a', 'brouillons ont')} "
                         f"encore {formats.plural(flagged, 'une anomalie', 'des anomalies')}.")
        recap = ops.run(self, "Récapitulatif", lambda: month_checks.month_recap(self.desk, month),
                        on_error=lambda text: self.warn("Émettre les factures", text))
        if recap is None or not self.confirm_issue(recap, question):
            return

        title = "Émission des factures"
        ops.run(self, title, lambda progress: invoicing.issue(self.desk, month, progress), long=True,
                on_done=lambda result: self.inform("Émission", result.text()),
                on_error=lambda text: self.warn(title, text))

    def open_selected(self) -> Path | None:
        rows = self.selected_rows()
        if not rows:
            return None
        found = ops.run(self, "Ouvrir la facture", lambda: invoice_views.invoice_pdf(self.desk, rows[0].id),
                        on_error=lambda text: self.warn("Ouvrir la facture", text))
        if found is None:
            return None
        name, data = found
        folder = Path(tempfile.gettempdir()) / "gandrange-desk"
        folder.mkdir(exist_ok=True)
        path = folder / name
        path.write_bytes(data)
        self.open_url(QUrl.fromLocalFile(str(path)))
        return path

    def choose_printer(self) -> str | None:
        """The printer to print on, the default one proposed (None: cancelled or none installed)."""
        from PySide6.QtWidgets import QInputDialog

        from gandrange_desk.services.pdf import spool

        found = spool.printers()
        if not found:
            self.warn("Imprimer", "Aucune imprimante n'est installée sur ce poste : enregistrez le PDF du "
                                  "mois (« Enregistrer le PDF du mois… ») ou ouvrez-le pour l'imprimer.")
            return None
        names = [p.name + (" (par défaut)" if p.default else "") for p in found]
        chosen, ok = QInputDialog.getItem(self, "Imprimer", "Imprimante :", names, 0, False)
        return found[names.index(chosen)].name if ok else None

    def print_invoices(self) -> bool:
        """Print the selected invoices (several) or the whole month: the PDF goes to the system's
        spooler as a PDF, in a worker thread, with progress and cancel."""
        rows = [r for r in self.selected_rows() if r.status == InvoiceStatus.ISSUED]
        # A chosen set; one selected row is just the cursor: the whole month.
        ids = [r.id for r in rows] if len(rows) > 1 else None
        if not ids and not any(r.status == InvoiceStatus.ISSUED for r in self.all_rows):
            self.warn("Imprimer", f"Aucune facture émise pour {formats.month_year(self.month())} : rien à imprimer.")
            return False
        printer = self.choose_printer()
        if printer is None:
            return False
        month = self.month()
        self.spool(printer, f"Factures {formats.month_year(month)}",
                   lambda: invoice_views.pdf_for_printing(self.desk, month, ids))
        return True

    def spool(self, printer: str, title: str, make_pdf) -> None:
        """Build the PDF and hand it to the system's spooler in a worker thread (progress, cancel)."""
        from gandrange_desk.services.pdf import spool

        def work(progress):
            progress.step(0, 0, "Préparation du document…")
            data = make_pdf()
            progress.check()
            return spool.spool_pdf(data, printer=printer, title=title, progress=progress)

        ops.run(self, "Impression des factures", work, long=True,
                on_done=lambda job: self.inform("Imprimer", job.summary()),
                on_error=lambda text: self.warn("Imprimer", text))

    def print_paper(self, dialog, make_pdf) -> None:
        printer = self.choose_printer()
        if printer is not None:
            self.spool(printer, "Factures à poster", make_pdf)

    def save_month_pdf(self) -> None:
        month = self.month()
        suggested = f"Factures-{month:%Y-%m}.pdf"
        path, _ = QFileDialog.getSaveFileName(self, "Enregistrer le PDF du mois", suggested, "PDF (*.pdf)")
        if not path:
            return
        ops.run(self, "Enregistrer", lambda: invoice_views.print_month(self.desk, month, path),
                on_done=lambda count: self.inform("Enregistrer", f"{formats.count(count, 'facture', 'factures')} "
                                                                 f"dans {path}."),
                on_error=lambda text: self.warn("Enregistrer", text))

    def send(self) -> None:
        rows = [r for r in self.selected_rows() if r.status == InvoiceStatus.ISSUED]
        if len(rows) <= 1:
            # One selected row is the cursor, not a choice: send every issued invoice not yet sent.
            rows = [r for r in self.all_rows if r.status == InvoiceStatus.ISSUED and not r.sent_at] or rows
        if not rows:
            return
        ids = [r.id for r in rows]
        plan = ops.run(self, "Envoyer", lambda: month_checks.send_plan(self.desk, ids),
                       on_error=lambda text: self.warn("Envoyer", text))
        if plan is None or not self.confirm("Envoyer les factures", plan.question(), "Envoyer"):
            return

        def done(result) -> None:
            self.inform("Envoyer", result.text())
            if plan.without_email:
                self.show_paper_invoices(plan.without_email)

        ops.run(self, "Envoyer", lambda: invoice_views.send_invoices(self.desk, ids), on_done=done,
                on_error=lambda text: self.warn("Envoyer", text))

    # -- checks before the month goes out (replaceable in tests) ----------------------------
    def confirm_issue(self, recap, question: str) -> bool:
        return RecapDialog(recap, question, self).exec() == RecapDialog.Accepted

    def show_paper_invoices(self, families) -> None:
        PaperInvoicesDialog(self.desk, families, self, print_pdf=self.print_paper).exec()

    def edit_tariffs(self) -> None:
        from gandrange_desk.ui.billing.tariff_editor import TariffEditorDialog

        dialog = TariffEditorDialog(self.desk, self)
        dialog.exec()
