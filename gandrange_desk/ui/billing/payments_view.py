"""Payments inside the Facturation tab: payments received, unpaid invoices, record, allocate, remind.

The tables are QTableView over `ColumnsTableModel`s; the dialogs (record a payment, allocate it,
credit note, SEPA, attestations) each call one service operation through `ui.common.ops.run`,
whose Changes refresh the lists (here, the Familles balances, the family files).
"""

from __future__ import annotations


from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QRadioButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gandrange_desk import formats
from gandrange_desk.errors import DeskError
from gandrange_desk.models import PaymentMode, Role
from gandrange_desk.services.billing import payments
from gandrange_desk.services.billing import reminders
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.search import normalize
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.export import export_button
from gandrange_desk.ui.common.refresh import Follow
from gandrange_desk.ui.common.table_model import RIGHT, ColumnsTableModel, RowsTableModel
from gandrange_desk.ui.common.widgets import make_table, pydate, qdate
from gandrange_desk.ui.billing.reminder_dialog import RemindDialog
from gandrange_desk.ui.common.windows import keep, remember


# ---------------------------------------------------------------------------------------------
# Allocation by hand


class AllocationModel(RowsTableModel):
    """The family's open invoices; the last column (amount to allocate) is editable."""

    HEADERS = ("Facture", "Mois", "Échéance", "Reste à payer", "À affecter")
    EDITABLE = frozenset({4})

    def __init__(self, parent=None):
        super().__init__(parent)
        self.amounts: list[int] = []

    def rows_reset(self) -> None:
        self.amounts = [0] * len(self.rows)

    def fill_oldest_first(self, available: int) -> None:
        left = available
        for i, row in enumerate(self.rows):
            self.amounts[i] = min(max(left, 0), row.remaining_cents)
            left -= self.amounts[i]
        if self.rows:
            self.dataChanged.emit(self.index(0, 4), self.index(len(self.rows) - 1, 4))

    def allocations(self) -> list[tuple[int, int]]:
        return [(r.invoice_id, a) for r, a in zip(self.rows, self.amounts) if a > 0]

    def data(self, index, role=Qt.DisplayRole):
        r = self.row(index)
        if r is None:
            return None
        c = index.column()
        if role in (Qt.DisplayRole, Qt.EditRole):
            if c == 0:
                return r.number
            if c == 1:
                return formats.month_year(r.month)
            if c == 2:
                return formats.ddmmyyyy(r.due_date) if r.due_date else ""
            if c == 3:
                return formats.euros(r.remaining_cents)
            if c == 4:
                a = self.amounts[index.row()]
                return formats.amount(a) if role == Qt.EditRole else (formats.euros(a) if a else "—")
        if role == Qt.TextAlignmentRole and c >= 3:
            return RIGHT
        return None

    def set_value(self, row: int, column: int, value) -> bool:
        try:
            cents = payments.parse_amount(str(value)) if str(value).strip() else 0
        except DeskError:  # not an amount: the cell keeps its value
            return False
        self.amounts[row] = cents
        return True


class AllocationEditor(QWidget):
    """'Plus anciennes d'abord' or 'à la main' over the family's open invoices."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.auto = QRadioButton("Affecter aux factures les plus anciennes d'abord")
        self.manual = QRadioButton("Choisir l'affectation à la main")
        self.auto.setChecked(True)
        self.model = AllocationModel(self)
        self.view = make_table(self.model, stretch=1, widths=(110, 120, 90, 110, 100))
        self.view.setEditTriggers(QAbstractItemView.AllEditTriggers)
        self.view.setEnabled(False)
        self.manual.toggled.connect(self.view.setEnabled)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.auto)
        layout.addWidget(self.manual)
        layout.addWidget(self.view)

    def set_invoices(self, rows: list[payments.OpenInvoice], available: int) -> None:
        self.model.set_rows(rows)
        self.model.fill_oldest_first(available)

    def allocations(self) -> list[tuple[int, int]] | None:
        return self.model.allocations() if self.manual.isChecked() else None


# ---------------------------------------------------------------------------------------------
# Record a payment


class RecordPaymentDialog(QDialog):
    def __init__(self, desk: Desk, parent=None, family_id: int | None = None):
        super().__init__(parent)
        self.desk = desk
        self.result_obj: payments.PaymentResult | None = None
        self.setWindowTitle("Enregistrer un paiement")
        remember(self, "record_payment", (640, 520))
        self.family = QComboBox()
        self.family.setEditable(True)
        self.family.setInsertPolicy(QComboBox.NoInsert)
        for fid, ref, name in payments.family_choices(desk):
            self.family.addItem(f"{name} — {ref}", fid)
        self.family.completer().setFilterMode(Qt.MatchContains)
        self.family.completer().setCaseSensitivity(Qt.CaseInsensitive)
        self.mode = QComboBox()
        for m in PaymentMode:
            self.mode.addItem(m.label, m.value)
        self.mode.setCurrentIndex(self.mode.findData(PaymentMode.CHEQUE.value))
        self.day = QDateEdit(qdate(desk.today()))
        self.day.setCalendarPopup(True)
        self.day.setDisplayFormat("dd/MM/yyyy")
        self.amount = QLineEdit()
        self.amount.setPlaceholderText("ex. 70,55")
        self.reference = QLineEdit()
        self.reference.setPlaceholderText("n° de chèque et banque, référence du virement…")
        self.balance = QLabel()
        self.allocation = AllocationEditor()
        form = QFormLayout()
        form.addRow("&Famille", self.family)
        form.addRow("", self.balance)
        form.addRow("&Mode", self.mode)
        form.addRow("&Reçu le", self.day)
        form.addRow("Mon&tant (€)", self.amount)
        form.addRow("Ré&férence", self.reference)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Save).setText("Enregistrer")
        buttons.button(QDialogButtonBox.Cancel).setText("Annuler")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.allocation)
        layout.addWidget(self.error)
        layout.addWidget(buttons)
        self.family.currentIndexChanged.connect(self._family_changed)
        self.amount.textChanged.connect(self._family_changed)
        if family_id is not None:
            self.family.setCurrentIndex(self.family.findData(family_id))
        self._family_changed()

    def _amount_cents(self) -> int:
        try:
            return payments.parse_amount(self.amount.text())
        except DeskError:
            return 0

    def _family_changed(self, *_):
        fid = self.family.currentData()
        if fid is None:
            self.balance.setText("")
            self.allocation.set_invoices([], 0)
            return
        bal = payments.balance_of(self.desk, fid)
        rows = payments.open_invoices(self.desk, fid)
        owed = sum(r.remaining_cents for r in rows)
        text = f"{formats.count(len(rows), 'facture à payer', 'factures à payer')} : {formats.euros(owed)}"
        if bal.unallocated_cents:
            text += f" — crédit disponible {formats.euros(bal.unallocated_cents)}"
        self.balance.setText(text)
        self.allocation.set_invoices(rows, self._amount_cents())

    def save(self) -> None:
        fid = self.family.currentData()
        if fid is None:
            self.error.setText("Choisissez la famille.")
            return

        def record() -> payments.PaymentResult:
            amount = payments.parse_amount(self.amount.text())
            return payments.record_payment(
                self.desk, fid, mode=self.mode.currentData(), received_on=pydate(self.day.date()),
                amount_cents=amount, reference=self.reference.text(), allocations=self.allocation.allocations())

        ops.run(self, "Enregistrer un paiement", record, on_done=self._recorded, on_error=self.error.setText)

    def _recorded(self, result: payments.PaymentResult) -> None:
        self.result_obj = result
        self.accept()


class AllocateDialog(QDialog):
    """Allocate what is still free on a payment (a family's credit) to its open invoices."""

    def __init__(self, desk: Desk, row: payments.PaymentRow, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.row = row
        self.result_obj = None
        self.setWindowTitle("Affecter un paiement")
        remember(self, "allocate_payment", (600, 380))
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{row.family_name} — paiement du {formats.ddmmyyyy(row.received_on)} de "
                                f"{formats.euros(row.amount_cents)}, dont {formats.euros(row.unallocated_cents)} "
                                f"non affectés."))
        self.allocation = AllocationEditor()
        self.allocation.set_invoices(payments.open_invoices(desk, row.family_id), row.unallocated_cents)
        layout.addWidget(self.allocation)
        self.error = QLabel()
        self.error.setStyleSheet("color: #b00020")
        self.error.setWordWrap(True)
        layout.addWidget(self.error)
        buttons = QDialogButtonBox(QDialogButtonBox.Ok | QDialogButtonBox.Cancel)
        buttons.button(QDialogButtonBox.Ok).setText("Affecter")
        buttons.button(QDialogButtonBox.Cancel).setText("Annuler")
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)

    def save(self) -> None:
        ops.run(self, "Affecter un paiement", lambda: payments.allocate_payment(
            self.desk, self.row.payment_id, self.allocation.allocations()),
            on_done=self._allocated, on_error=self.error.setText)

    def _allocated(self, result: payments.PaymentResult) -> None:
        self.result_obj = result
        self.accept()


# ---------------------------------------------------------------------------------------------
# The view


class PaymentsView(QWidget):
    def __init__(self, desk: Desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.record_button = QPushButton("&Enregistrer un paiement…")
        self.allocate_button = QPushButton("Affe&cter…")
        self.reverse_button = QPushButton("Annu&ler le paiement…")
        self.reverse_button.setToolTip("Prélèvement rejeté, chèque impayé ou erreur de saisie : le paiement "
                                       "reste dans la liste, ses factures redeviennent dues")
        self.remind_button = QPushButton("&Relancer les impayés")
        self.credit_button = QPushButton("Avoir s&ur une facture…")
        self.sepa_button = QPushButton("Prélèvements &SEPA…")
        self.attest_button = QPushButton("Attestatio&ns…")
        self.summary = QLabel()
        self.search = QLineEdit()
        self.search.setPlaceholderText("Filtrer : famille, référence, n° de facture… (Ctrl+F)")
        self.search.setClearButtonEnabled(True)
        self.search.setFixedWidth(380)
        bar = QHBoxLayout()
        for b in (self.record_button, self.allocate_button, self.reverse_button, self.remind_button, self.credit_button,
                  self.sepa_button, self.attest_button):
            bar.addWidget(b)
        bar.addStretch(1)
        bar.addWidget(self.summary)

        today = desk.today
        self.unpaid_model = ColumnsTableModel([
            ("Facture", lambda r: r.number, False),
            ("Famille", lambda r: r.family_name, False),
            ("Réf.", lambda r: r.family_ref, False),
            ("Mois", lambda r: formats.month_year(r.month), False),
            ("Échéance", lambda r: formats.ddmmyyyy(r.due_date), False),
            ("Retard", lambda r: formats.count(r.days_late(today()), "jour", "jours"), True),
            ("Total", lambda r: formats.euros(r.total_cents), True),
            ("Payé", lambda r: formats.euros(r.paid_cents) if r.paid_cents else "—", True),
            ("Avoirs", lambda r: formats.euros(r.credited_cents) if r.credited_cents else "—", True),
            ("Reste dû", lambda r: formats.euros(r.remaining_cents), True),
            ("Prochaine relance", lambda r: f"{r.level_title} ({'e-mail' if r.emails else 'courrier'})", False),
        ], self)
        self.unpaid_model.color = lambda r, c: QColor("#b00020") if c == 5 and r.days_late(today()) > 30 else None
        self.unpaid_view = make_table(self.unpaid_model, stretch=1,
                                      widths=(110, 200, 70, 110, 90, 75, 85, 75, 75, 85, 170))
        self.payments_model = ColumnsTableModel([
            ("Reçu le", lambda r: formats.ddmmyyyy(r.received_on), False),
            ("Famille", lambda r: r.family_name, False),
            ("Réf.", lambda r: r.family_ref, False),
            ("Mode", lambda r: PaymentMode.label_of(r.mode), False),
            ("Montant", lambda r: formats.euros(r.amount_cents), True),
            ("Référence", lambda r: r.reference, False),
            ("Affecté à", lambda r: r.invoices, False),
            ("Non affecté", lambda r: formats.euros(r.unallocated_cents) if r.unallocated_cents else "—", True),
            ("Annulation", lambda r: r.reversal, False),
        ], self)
        self.payments_model.color = lambda r, c: QColor("#b00020") if r.reversed else None
        self.payments_view = make_table(self.payments_model, stretch=8,
                                        widths=(90, 220, 70, 110, 90, 200, 200, 90, 260))
        keep(self.unpaid_view, "unpaid")
        keep(self.payments_view, "payments")
        self.tabs = QTabWidget()
        self.tabs.addTab(self.unpaid_view, "Impayés")
        self.tabs.addTab(self.payments_view, "Paiements reçus")
        filter_row = QHBoxLayout()
        filter_row.addWidget(self.search)
        filter_row.addStretch(1)
        self.export_button = export_button(
            self, desk, lambda: "unpaid" if self.tabs.currentWidget() is self.unpaid_view else "payments")
        filter_row.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(bar)
        layout.addLayout(filter_row)
        layout.addWidget(self.tabs)
        self.search.textChanged.connect(lambda *_: self.apply_filter())
        QShortcut(QKeySequence("Ctrl+F"), self, activated=self.search.setFocus)

        self.record_button.clicked.connect(self.record_payment)
        self.allocate_button.clicked.connect(self.allocate_selected)
        self.reverse_button.clicked.connect(self.reverse_selected)
        self.remind_button.clicked.connect(self.remind)
        self.credit_button.clicked.connect(self.credit_note_for_selected)
        self.sepa_button.clicked.connect(self.open_sepa)
        self.attest_button.clicked.connect(self.open_attestations)
        self.payments_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.unpaid_view.selectionModel().selectionChanged.connect(self._update_buttons)
        self.tabs.currentChanged.connect(self._update_buttons)
        QShortcut(QKeySequence("Ctrl+Shift+P"), self, activated=self.record_payment)
        # Inside the Facturation tab the tab refreshes it; used alone, it follows by itself.
        self.follow = Follow(self, ("payments", "invoices", "families"), lambda _c: self.refresh())
        self.refresh()

    def apply_changes(self, changes: Changes, origin=None) -> None:
        self.follow(changes)

    # -- data ------------------------------------------------------------------------------
    def refresh(self) -> None:
        self._unpaid = reminders.unpaid_invoices(self.desk)
        self._payments = payments.list_payments(self.desk)
        owed = sum(r.remaining_cents for r in self._unpaid)
        self.summary.setText(f"{formats.count(len(self._unpaid), 'facture impayée', 'factures impayées')}, "
                             f"{formats.euros(owed)} restant dus")
        self.apply_filter()

    def apply_filter(self) -> None:
        words = normalize(self.search.text()).split()

        def keep(*texts: str) -> bool:
            hay = normalize(" ".join(texts))
            return all(w in hay for w in words)

        unpaid = [r for r in self._unpaid if keep(r.family_name, r.family_ref, r.number)]
        paid = [r for r in self._payments if keep(r.family_name, r.family_ref, r.invoices, r.reference)]
        self.unpaid_model.set_rows(unpaid)
        self.payments_model.set_rows(paid)
        shown = f"{len(unpaid)}" if len(unpaid) == len(self._unpaid) else f"{len(unpaid)}/{len(self._unpaid)}"
        self.tabs.setTabText(0, f"Impayés ({shown})")
        self.tabs.setTabText(1, "Paiements reçus" + (f" ({len(paid)})" if words else ""))
        self._update_buttons()

    def selected_payment(self) -> payments.PaymentRow | None:
        rows = self.payments_view.selectionModel().selectedRows()
        return self.payments_model.rows[rows[0].row()] if rows else None

    def selected_unpaid(self) -> reminders.UnpaidRow | None:
        rows = self.unpaid_view.selectionModel().selectedRows()
        return self.unpaid_model.rows[rows[0].row()] if rows else None

    def _update_buttons(self, *_):
        p = self.selected_payment()
        self.allocate_button.setEnabled(self.tabs.currentIndex() == 1 and p is not None and p.unallocated_cents > 0)
        self.reverse_button.setEnabled(self.tabs.currentIndex() == 1 and p is not None and not p.reversed)
        self.credit_button.setEnabled(self.desk.actor.at_least(Role.RESPONSABLE))
        self.remind_button.setEnabled(bool(self.unpaid_model.rows))

    # -- actions ---------------------------------------------------------------------------
    def record_payment(self, family_id: int | None = None) -> None:
        dialog = RecordPaymentDialog(self.desk, self, family_id if isinstance(family_id, int) else None)
        if dialog.exec() == QDialog.Accepted and dialog.result_obj:
            QMessageBox.information(self, "Paiement enregistré", dialog.result_obj.summary())

    def allocate_selected(self) -> None:
        row = self.selected_payment()
        if row is None:
            return
        AllocateDialog(self.desk, row, self).exec()

    def reverse_selected(self) -> None:
        from gandrange_desk.ui.billing.reversal_dialog import ReversalDialog

        row = self.selected_payment()
        if row is None or row.reversed:
            return
        dialog = ReversalDialog(self.desk, row, self)
        if dialog.exec() == QDialog.Accepted and dialog.result_obj:
            self.refresh()
            QMessageBox.information(self, "Paiement annulé", dialog.result_obj.summary())

    def remind(self) -> None:
        selected = self.selected_unpaid()
        RemindDialog(self.desk, [selected] if selected else list(self.unpaid_model.rows), self).exec()

    def credit_note_for_selected(self) -> None:
        from gandrange_desk.ui.billing.credit_note_dialog import CreditNoteDialog

        from PySide6.QtWidgets import QInputDialog

        from gandrange_desk.services.billing import credit_notes

        row = self.selected_unpaid()
        number = ""
        if row is None:  # a paid invoice is not in the list: the clerk types its number
            number, ok = QInputDialog.getText(self, "Avoir", "Numéro de la facture (ex. 2026-000123) :")
            if not ok or not number.strip():
                return

        def dialog() -> CreditNoteDialog:
            invoice_id = row.invoice_id if row is not None else credit_notes.invoice_id_by_number(self.desk, number)
            return CreditNoteDialog(self.desk, invoice_id, self)

        found = ops.run(self, "Avoir", dialog)
        if found is not None:
            found.exec()  # its credit note reaches the lists as Changes

    def open_sepa(self) -> None:
        from gandrange_desk.ui.billing.sepa_dialog import SepaDialog

        SepaDialog(self.desk, self).exec()  # its exports and collections reach the lists as Changes

    def open_attestations(self) -> None:
        from gandrange_desk.ui.billing.attestations_dialog import AttestationsDialog

        AttestationsDialog(self.desk, self).exec()
