"""money after issue: billed days, payment reversals, SEPA transactions, pre-notification delay

Revision ID: 0006
Revises: 0005

- `billed_day`: what each invoice billed per child, unit and day (regularisations compare it
  with the grid). Filled here from the lines of the invoices already issued.
- `payment`: reversal columns (a payment is reversed, never deleted).
- `sepa_debit`: the transactions of each export (end-to-end id, invoices, collected or
  rejected). Filled here from the files already exported.
- `structure.prenotification_days`: 14 calendar days unless the mandates agreed less.
"""
import re
import xml.etree.ElementTree as ET
from collections import defaultdict
from datetime import date

from alembic import op
import sqlalchemy as sa


revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_NS = {"p": "urn:iso:std:iso:20022:tech:xsd:pain.008.001.02"}
_NUMBER = re.compile(r"\d{4}-\d{6}")


def upgrade() -> None:
    op.create_table(
        "billed_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=4), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("surcharge_cents", sa.Integer(), nullable=False),
        sa.Column("pai", sa.Boolean(), nullable=False),
        sa.Column("current", sa.Boolean(), nullable=False, server_default=sa.false()),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], name="fk_billed_day_invoice_id_invoice",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_billed_day"),
    )
    op.create_index("ix_billed_day_invoice_id", "billed_day", ["invoice_id"])
    op.create_index("ix_billed_day_cell", "billed_day", ["child_id", "unit_id", "day"])
    op.create_index("ix_billed_day_day", "billed_day", ["day"])

    with op.batch_alter_table("payment") as batch:
        batch.add_column(sa.Column("reversed_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("reversed_by", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("reversal_kind", sa.String(length=20), nullable=False, server_default=""))
        batch.add_column(sa.Column("reversal_code", sa.String(length=8), nullable=False, server_default=""))
        batch.add_column(sa.Column("reversal_reason", sa.Text(), nullable=False, server_default=""))
        batch.add_column(sa.Column("reversed_allocations", sa.Text(), nullable=False, server_default=""))

    op.create_table(
        "sepa_debit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("export_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("end_to_end", sa.String(length=35), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("collection_date", sa.Date(), nullable=False),
        sa.Column("invoice_ids", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=12), nullable=False),
        sa.Column("reason_code", sa.String(length=8), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["export_id"], ["sepa_export.id"], name="fk_sepa_debit_export_id_sepa_export",
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["family_id"], ["family.id"], name="fk_sepa_debit_family_id_family"),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"], name="fk_sepa_debit_payment_id_payment"),
        sa.PrimaryKeyConstraint("id", name="pk_sepa_debit"),
    )
    op.create_index("ix_sepa_debit_export_id", "sepa_debit", ["export_id"])
    op.create_index("ix_sepa_debit_family_id", "sepa_debit", ["family_id"])

    with op.batch_alter_table("structure") as batch:
        batch.add_column(sa.Column("prenotification_days", sa.Integer(), nullable=False, server_default="14"))

    conn = op.get_bind()
    _fill_billed_days(conn)
    _fill_sepa_debits(conn)


def _fill_billed_days(conn) -> None:
    """Each issued invoice's lines, day by day, in the order the invoices were issued."""
    invoice = sa.table("invoice", sa.column("id", sa.Integer), sa.column("family_id", sa.Integer),
                       sa.column("status", sa.String), sa.column("issued_at", sa.DateTime))
    line = sa.table("invoice_line", sa.column("invoice_id", sa.Integer), sa.column("child_id", sa.Integer),
                    sa.column("unit_id", sa.Integer), sa.column("kind", sa.String), sa.column("label", sa.String),
                    sa.column("dates", sa.Text), sa.column("quantity", sa.Integer),
                    sa.column("unit_price_cents", sa.Integer), sa.column("position", sa.Integer))
    booking = sa.table("booking", sa.column("child_id", sa.Integer), sa.column("unit_id", sa.Integer),
                       sa.column("day", sa.Date), sa.column("state", sa.String))
    billed = sa.table("billed_day", sa.column("invoice_id", sa.Integer), sa.column("family_id", sa.Integer),
                      sa.column("child_id", sa.Integer), sa.column("unit_id", sa.Integer),
                      sa.column("day", sa.Date), sa.column("state", sa.String), sa.column("price_cents", sa.Integer),
                      sa.column("surcharge_cents", sa.Integer), sa.column("pai", sa.Boolean),
                      sa.column("current", sa.Boolean))
    invoices = conn.execute(sa.select(invoice.c.id, invoice.c.family_id).where(invoice.c.status == "issued")
                            .order_by(invoice.c.issued_at, invoice.c.id)).all()
    if not invoices:
        return
    af = {(c, u, d if isinstance(d, date) else date.fromisoformat(str(d)))
          for c, u, d in conn.execute(sa.select(booking.c.child_id, booking.c.unit_id, booking.c.day)
                                      .where(booking.c.state == "AF"))}
    lines = defaultdict(list)
    for row in conn.execute(sa.select(line).order_by(line.c.invoice_id, line.c.position)):
        if row.child_id is not None and row.unit_id is not None:
            lines[row.invoice_id].append(row)
    out = []
    newest: dict = {}  # cell -> its row in `out` billed last: the current one
    for invoice_id, family_id in invoices:
        days: dict = {}
        for row in lines.get(invoice_id, ()):
            for text in filter(None, (row.dates or "").split(",")):
                key = (row.child_id, row.unit_id, date.fromisoformat(text))
                entry = days.setdefault(key, {"state": "R", "price": 0, "surcharge": 0, "pai": False})
                if row.kind == "surcharge":
                    entry["surcharge"] = row.unit_price_cents
                elif row.kind == "regularisation" and row.quantity < 0:
                    entry.update(state="", price=0, surcharge=0)
                else:
                    entry.update(state="AF" if key in af else "R", price=row.unit_price_cents,
                                 pai="PAI" in (row.label or ""))
        for (child_id, unit_id, day), e in sorted(days.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2])):
            older = newest.get((child_id, unit_id, day))
            if older is not None:
                older["current"] = False
            newest[(child_id, unit_id, day)] = row = {
                "invoice_id": invoice_id, "family_id": family_id, "child_id": child_id, "unit_id": unit_id,
                "day": day, "state": e["state"], "price_cents": e["price"], "surcharge_cents": e["surcharge"],
                "pai": e["pai"], "current": True}
            out.append(row)
    for start in range(0, len(out), 5000):
        conn.execute(billed.insert(), out[start:start + 5000])


def _fill_sepa_debits(conn) -> None:
    """The transactions of the files already exported, read back from their XML."""
    export = sa.table("sepa_export", sa.column("id", sa.Integer), sa.column("collection_date", sa.Date),
                      sa.column("xml", sa.LargeBinary))
    mandate = sa.table("mandate", sa.column("rum", sa.String), sa.column("family_id", sa.Integer))
    invoice = sa.table("invoice", sa.column("id", sa.Integer), sa.column("number", sa.String))
    payment = sa.table("payment", sa.column("id", sa.Integer), sa.column("reference", sa.String))
    debit = sa.table("sepa_debit", sa.column("export_id", sa.Integer), sa.column("family_id", sa.Integer),
                     sa.column("end_to_end", sa.String), sa.column("amount_cents", sa.Integer),
                     sa.column("collection_date", sa.Date), sa.column("invoice_ids", sa.Text),
                     sa.column("status", sa.String), sa.column("reason_code", sa.String),
                     sa.column("payment_id", sa.Integer))
    rows = conn.execute(sa.select(export.c.id, export.c.collection_date, export.c.xml)).all()
    if not rows:
        return
    families = dict(conn.execute(sa.select(mandate.c.rum, mandate.c.family_id)).all())
    numbers = dict(conn.execute(sa.select(invoice.c.number, invoice.c.id).where(invoice.c.number.is_not(None))).all())
    payments = dict(conn.execute(sa.select(payment.c.reference, payment.c.id).where(
        payment.c.reference.like("SEPA %"))).all())
    out = []
    for export_id, collection_date, xml in rows:
        try:
            root = ET.fromstring(bytes(xml))
        except ET.ParseError:
            continue
        msg_id = root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", namespaces=_NS) or str(export_id)
        for tx in root.iterfind(".//p:DrctDbtTxInf", _NS):
            rum = tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=_NS) or ""
            if rum not in families:
                continue
            amount = tx.findtext("p:InstdAmt", namespaces=_NS) or "0"
            euros, _, cents = amount.partition(".")
            text = tx.findtext("p:RmtInf/p:Ustrd", namespaces=_NS) or ""
            ids = [numbers[n] for n in _NUMBER.findall(text) if n in numbers]
            paid = payments.get(f"SEPA {msg_id} {rum}"[:200])
            out.append({"export_id": export_id, "family_id": families[rum],
                        "end_to_end": tx.findtext("p:PmtId/p:EndToEndId", namespaces=_NS) or "",
                        "amount_cents": int(euros) * 100 + int((cents or "0").ljust(2, "0")[:2]),
                        "collection_date": collection_date, "invoice_ids": ",".join(map(str, ids)),
                        "status": "collected" if paid else "sent", "reason_code": "", "payment_id": paid})
    if out:
        conn.execute(debit.insert(), out)


def downgrade() -> None:
    with op.batch_alter_table("structure") as batch:
        batch.drop_column("prenotification_days")
    op.drop_index("ix_sepa_debit_family_id", table_name="sepa_debit")
    op.drop_index("ix_sepa_debit_export_id", table_name="sepa_debit")
    op.drop_table("sepa_debit")
    with op.batch_alter_table("payment") as batch:
        for name in ("reversed_allocations", "reversal_reason", "reversal_code", "reversal_kind", "reversed_by",
                     "reversed_at"):
            batch.drop_column(name)
    op.drop_index("ix_billed_day_day", table_name="billed_day")
    op.drop_index("ix_billed_day_cell", table_name="billed_day")
    op.drop_index("ix_billed_day_invoice_id", table_name="billed_day")
    op.drop_table("billed_day")
