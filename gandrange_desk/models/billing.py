"""Invoices, credit notes, payments and SEPA mandates. Money is integer cents."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    BigInteger, Boolean, Date, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint, event, inspect,
    select, text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship
from sqlalchemy.orm.util import identity_key

from gandrange_desk.errors import AlreadyDecided, IssuedInvoiceChange

from .base import AwareDateTime, Base, Versioned, Labelled
from gandrange_desk.roles import InvoiceStatus  # noqa: F401 - re-exported


class Invoice(Versioned, Base):
    """A family's bill for one month. Once issued, its lines, number and PDF never change."""

    __tablename__ = "invoice"
    __table_args__ = (UniqueConstraint("family_id", "month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    month: Mapped[date] = mapped_column(Date, index=True)  # first day of the billed month
    number: Mapped[str | None] = mapped_column(String(20), unique=True, nullable=True)
    status: Mapped[str] = mapped_column(String(10), default=InvoiceStatus.DRAFT)
    prepared_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    issued_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    issued_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    issue_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    due_date: Mapped[date | None] = mapped_column(Date, nullable=True)
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    payment_mode: Mapped[str] = mapped_column(String(20), default="")
    # Review anomalies found when preparing (no quotient, no mandate, no address), one per line.
    anomalies: Mapped[str] = mapped_column(Text, default="")
    # Family name and address as issued: the PDF and the record keep what was true that day.
    billed_name: Mapped[str] = mapped_column(String(300), default="")
    billed_address: Mapped[str] = mapped_column(Text, default="")
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)
    sent_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    # A draft's inputs and rows as prepared (`billing.draft_keys`): preparing again skips it while
    # both are unchanged. None on issued invoices' history and on drafts from before 0013.
    draft_key: Mapped[str | None] = mapped_column(String(200), nullable=True)

    lines: Mapped[list["InvoiceLine"]] = relationship(
        back_populates="invoice", cascade="all, delete-orphan", order_by="InvoiceLine.position"
    )


class LineKind(Labelled):
    NORMAL = "normal", "Prestation"
    SURCHARGE = "surcharge", "Majoration hors délai"
    REGULARISATION = "regularisation", "Régularisation"


class InvoiceLine(Base):
    __tablename__ = "invoice_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("child.id"), nullable=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), nullable=True)
    kind: Mapped[str] = mapped_column(String(20), default=LineKind.NORMAL)
    label: Mapped[str] = mapped_column(String(300))
    child_name: Mapped[str] = mapped_column(String(200), default="")
    # ISO dates, comma-separated, ascending.
    dates: Mapped[str] = mapped_column(Text, default="")
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)

    invoice: Mapped[Invoice] = relationship(back_populates="lines")


class BilledDay(Base):
    """What an invoice billed for one cell (child, unit, day), written with the draft.

    The `current` row of a cell is what the family has been billed for that day so far: rows
    become current when their invoice is issued; a regularisation adds a newer row with today's
    truth (`state` "" when the day is no longer billed), and issuing it makes the older row no
    longer current. Preparing a month compares the current rows with the grid.
    """

    __tablename__ = "billed_day"
    # Every reader by cell or by day wants the current rows (the comparison, `make_current`): a
    # draft's rows (not current until issued, 170,000 a month at 8,000 families) are written
    # and rewritten without entering these two indexes; issuing a month adds its rows to them.
    # The predicate is written as the queries' `current.is_(True)` renders, so the planners use it.
    __table_args__ = (Index("ix_billed_day_cell", "child_id", "unit_id", "day",
                            sqlite_where=text("current IS 1"), postgresql_where=text("current IS true")),
                      Index("ix_billed_day_day", "day",
                            sqlite_where=text("current IS 1"), postgresql_where=text("current IS true")))

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[int] = mapped_column(Integer)
    child_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(Integer)
    day: Mapped[date] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(4), default="")  # R, AF, or "" (no longer billed)
    price_cents: Mapped[int] = mapped_column(Integer, default=0)
    surcharge_cents: Mapped[int] = mapped_column(Integer, default=0)
    # The PAI price applied: a child's PAI has no history, so a billed day keeps the one it had.
    pai: Mapped[bool] = mapped_column(Boolean, default=False)
    current: Mapped[bool] = mapped_column(Boolean, default=False)


class DraftDay(Base):
    """What a draft will bill, compactly: one row per child, unit, month, state, price, surcharge
    and PAI, its days as a bit mask (bit n: day n of `month`). A month's drafts bill 170,000 days
    at 8,000 families, ~25,000 rows here: writing one row per day was a fifth of a month's first
    prepare. Issuing a draft writes its days one per row into `billed_day`, what the comparison
    of invoiced months reads (`billing.draft_days`), and drops these rows."""

    __tablename__ = "draft_day"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[int] = mapped_column(Integer)
    child_id: Mapped[int] = mapped_column(Integer)
    unit_id: Mapped[int] = mapped_column(Integer)
    month: Mapped[date] = mapped_column(Date)  # first day of the days' month
    days: Mapped[int] = mapped_column(BigInteger)  # bits 1..31: 2^31 is past PostgreSQL's integer
    state: Mapped[str] = mapped_column(String(4), default="")
    price_cents: Mapped[int] = mapped_column(Integer, default=0)
    surcharge_cents: Mapped[int] = mapped_column(Integer, default=0)
    pai: Mapped[bool] = mapped_column(Boolean, default=False)


class RegularisationCheck(Base):
    """An invoiced month found with nothing to regularise, and the fingerprint of everything that
    finding depended on (its cells and marks, the billed days, tariffs, quotients, children,
    attendance settings). While the fingerprint is the same, preparing skips that month."""

    __tablename__ = "regularisation_check"

    month: Mapped[date] = mapped_column(Date, primary_key=True)
    fingerprint: Mapped[str] = mapped_column(String(64))
    checked_at: Mapped[datetime] = mapped_column(AwareDateTime())


class CreditNote(Base):
    """Corrects an issued invoice; numbered AV-YYYY-NNNNNN in its own gap-free sequence."""

    __tablename__ = "credit_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    number: Mapped[str] = mapped_column(String(24), unique=True)
    issued_at: Mapped[datetime] = mapped_column(AwareDateTime())
    issued_by: Mapped[str] = mapped_column(String(64))
    reason: Mapped[str] = mapped_column(Text, default="")
    total_cents: Mapped[int] = mapped_column(Integer, default=0)
    pdf: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True, deferred=True)

    lines: Mapped[list["CreditNoteLine"]] = relationship(
        back_populates="credit_note", cascade="all, delete-orphan", order_by="CreditNoteLine.id"
    )


class CreditNoteLine(Base):
    __tablename__ = "credit_note_line"

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_note_id: Mapped[int] = mapped_column(ForeignKey("credit_note.id", ondelete="CASCADE"))
    invoice_line_id: Mapped[int | None] = mapped_column(ForeignKey("invoice_line.id"), nullable=True)
    label: Mapped[str] = mapped_column(String(300))
    quantity: Mapped[int] = mapped_column(Integer)
    unit_price_cents: Mapped[int] = mapped_column(Integer)
    amount_cents: Mapped[int] = mapped_column(Integer)

    credit_note: Mapped[CreditNote] = relationship(back_populates="lines")


class ReversalKind(Labelled):
    REJECTED_DEBIT = "rejected_debit", "Prélèvement rejeté"
    BOUNCED_CHEQUE = "bounced_cheque", "Chèque impayé"
    MISTAKE = "mistake", "Erreur de saisie"


# Reason codes of SEPA R-transactions (ISO 20022 ExternalReturnReason1Code) a bank sends back.
SEPA_REASON_CODES = {
    "AC01": "IBAN erroné",
    "AC04": "compte clôturé",
    "AC06": "compte bloqué",
    "AG01": "opération interdite sur ce compte",
    "AM04": "provision insuffisante",
    "MD01": "pas de mandat (ou mandat révoqué)",
    "MD02": "données du mandat manquantes ou erronées",
    "MD06": "remboursement demandé par le débiteur",
    "MS02": "refus du débiteur",
    "MS03": "raison non précisée par la banque",
    "SL01": "service particulier de la banque du débiteur",
}


class Payment(Base):
    """Money received. Never deleted: a rejected debit, a bounced cheque or an entry mistake
    reverses it (its allocations are undone, the audit trail keeps them)."""

    __tablename__ = "payment"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    mode: Mapped[str] = mapped_column(String(20))
    received_on: Mapped[date] = mapped_column(Date)
    amount_cents: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(200), default="")
    recorded_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    recorded_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reversed_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    reversed_by: Mapped[str | None] = mapped_column(String(64), nullable=True)
    reversal_kind: Mapped[str] = mapped_column(String(20), default="")
    reversal_code: Mapped[str] = mapped_column(String(8), default="")  # SEPA reason code (AM04…)
    reversal_reason: Mapped[str] = mapped_column(Text, default="")
    # What the payment paid when it was reversed ("invoice_id:cents,…"): the invoices a
    # rejected debit leaves to re-present.
    reversed_allocations: Mapped[str] = mapped_column(Text, default="")

    allocations: Mapped[list["PaymentAllocation"]] = relationship(
        back_populates="payment", cascade="all, delete-orphan"
    )


class PaymentAllocation(Base):
    __tablename__ = "payment_allocation"

    id: Mapped[int] = mapped_column(primary_key=True)
    payment_id: Mapped[int] = mapped_column(ForeignKey("payment.id", ondelete="CASCADE"), index=True)
    invoice_id: Mapped[int] = mapped_column(ForeignKey("invoice.id"), index=True)
    amount_cents: Mapped[int] = mapped_column(Integer)

    payment: Mapped[Payment] = relationship(back_populates="allocations")


class MandateState(Labelled):
    ACTIVE = "active", "Actif"
    REVOKED = "revoked", "Révoqué"


class Mandate(Versioned, Base):
    """SEPA direct-debit mandate. FRST until a first collection, RCUR after."""

    __tablename__ = "mandate"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    rum: Mapped[str] = mapped_column(String(35), unique=True)
    iban: Mapped[str] = mapped_column(String(40))
    bic: Mapped[str] = mapped_column(String(16), default="")
    holder: Mapped[str] = mapped_column(String(200), default="")
    signed_on: Mapped[date] = mapped_column(Date)
    sequence_type: Mapped[str] = mapped_column(String(4), default="FRST")
    state: Mapped[str] = mapped_column(String(10), default=MandateState.ACTIVE)
    first_collected_on: Mapped[date | None] = mapped_column(Date, nullable=True)


class SepaExport(Base):
    """A pain.008 file produced for a month: what was debited, kept as sent to the bank."""

    __tablename__ = "sepa_export"

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[date] = mapped_column(Date)
    collection_date: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(AwareDateTime())
    created_by: Mapped[str] = mapped_column(String(64))
    total_cents: Mapped[int] = mapped_column(Integer)
    count: Mapped[int] = mapped_column(Integer)
    xml: Mapped[bytes] = mapped_column(LargeBinary, deferred=True)
    final: Mapped[bool] = mapped_column(Boolean, default=True)


class SepaDebitStatus(Labelled):
    SENT = "sent", "Envoyé"
    COLLECTED = "collected", "Encaissé"
    REJECTED = "rejected", "Rejeté"


class SepaDebit(Base):
    """One transaction of an export: which invoices it debits, and what the bank did with it."""

    __tablename__ = "sepa_debit"

    id: Mapped[int] = mapped_column(primary_key=True)
    export_id: Mapped[int] = mapped_column(ForeignKey("sepa_export.id", ondelete="CASCADE"), index=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id"), index=True)
    end_to_end: Mapped[str] = mapped_column(String(35))
    amount_cents: Mapped[int] = mapped_column(Integer)
    collection_date: Mapped[date] = mapped_column(Date)
    invoice_ids: Mapped[str] = mapped_column(Text, default="")  # "12,15": invoices it pays
    status: Mapped[str] = mapped_column(String(12), default=SepaDebitStatus.SENT)
    reason_code: Mapped[str] = mapped_column(String(8), default="")
    payment_id: Mapped[int | None] = mapped_column(ForeignKey("payment.id"), nullable=True)


# --------------------------------------------------------------------------- immutability
# Issued invoices and credit notes are numbered accounting documents: a credit note or a
# regularisation corrects them, nothing edits them. The mappers refuse the flush itself, so no
# service, script or future screen can forget the rule. (Core UPDATE/DELETE statements bypass
# mappers: the services use them only on drafts.)

ISSUED_INVOICE_MAY_CHANGE = {"sent_at"}  # marking an issued invoice sent does not change the document


def _was_issued(invoice: Invoice) -> bool:
    """Issued before this flush: issuing a draft is the one change an invoice's status may take."""
    history = inspect(invoice).attrs.status.history
    was = history.deleted[0] if history.deleted else invoice.status
    return was == InvoiceStatus.ISSUED


@event.listens_for(Invoice, "before_update")
def _refuse_issued_invoice_change(mapper, connection, invoice: Invoice) -> None:
    if not _was_issued(invoice):
        return
    changed = {a.key for a in inspect(invoice).attrs if a.history.has_changes()} - ISSUED_INVOICE_MAY_CHANGE
    if changed:
        raise IssuedInvoiceChange(f"La facture {invoice.number} est émise : elle ne peut plus être "
                                  "modifiée (établissez un avoir).")


@event.listens_for(Invoice, "before_delete")
def _refuse_issued_invoice_delete(mapper, connection, invoice: Invoice) -> None:
    if _was_issued(invoice):
        raise _deletion_refused(invoice.number)


def _deletion_refused(number: str | None) -> IssuedInvoiceChange:
    return IssuedInvoiceChange(f"La facture {number} est émise : elle ne peut pas être supprimée "
                               "(établissez un avoir).")


def _issued_parent(connection, line: InvoiceLine) -> tuple[str | None, bool] | None:
    """(number, being deleted) of the line's invoice when it is issued, else None.

    The invoice as this session holds it when it is there (its status may just have been set),
    else as stored."""
    state = inspect(line)
    parent = line.__dict__.get("invoice")
    session = state.session
    if parent is None and session is not None and line.invoice_id is not None:
        parent = session.identity_map.get(identity_key(Invoice, line.invoice_id))
    if parent is not None:
        # An invoice written whole in this flush (lines included) is being made, not changed.
        if parent.status != InvoiceStatus.ISSUED or (session is not None and parent in session.new):
            return None
        return parent.number, session is not None and parent in session.deleted
    if line.invoice_id is None:
        return None
    row = connection.execute(select(Invoice.status, Invoice.number).where(Invoice.id == line.invoice_id)).first()
    return (row.number, False) if row is not None and row.status == InvoiceStatus.ISSUED else None


@event.listens_for(InvoiceLine, "before_insert")
def _refuse_line_added_to_issued(mapper, connection, line: InvoiceLine) -> None:
    parent = _issued_parent(connection, line)
    if parent is not None:
        raise IssuedInvoiceChange(f"La facture {parent[0]} est émise : on ne peut pas lui ajouter de ligne.")


@event.listens_for(InvoiceLine, "before_update")
def _refuse_issued_line_change(mapper, connection, line: InvoiceLine) -> None:
    if not any(a.history.has_changes() for a in inspect(line).attrs):
        return
    parent = _issued_parent(connection, line)
    if parent is not None:
        raise IssuedInvoiceChange(f"La facture {parent[0]} est émise : ses lignes ne peuvent plus être "
                                  "modifiées (établissez un avoir).")


@event.listens_for(InvoiceLine, "before_delete")
def _refuse_issued_line_delete(mapper, connection, line: InvoiceLine) -> None:
    parent = _issued_parent(connection, line)
    if parent is None:
        return
    number, invoice_deleted = parent
    # Lines go before their invoice: deleting the whole invoice is refused in the invoice's words.
    if invoice_deleted:
        raise _deletion_refused(number)
    raise IssuedInvoiceChange(f"La facture {number} est émise : ses lignes ne peuvent plus être "
                              "modifiées (établissez un avoir).")


@event.listens_for(CreditNote, "before_update")
@event.listens_for(CreditNoteLine, "before_update")
def _refuse_credit_note_change(mapper, connection, target) -> None:
    # A credit note is numbered when it is made: another one corrects it, nothing edits it.
    raise AlreadyDecided(f"Un avoir émis ne se modifie pas ({getattr(target, 'number', 'ligne d’avoir')}) : "
                         f"émettez un nouvel avoir ou une facture de régularisation.")
