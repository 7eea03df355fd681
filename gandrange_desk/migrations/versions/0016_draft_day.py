"""draft_day: a draft's billed days written compactly, one row per cell only once issued

Revision ID: 0016
Revises: 0015

A month's first prepare at 8,000 families wrote 171,812 `billed_day` rows for its drafts (one per
child, unit and day), a fifth of its time. A draft's days now go to `draft_day`: one row per
child, unit, month, state, price, surcharge and PAI, the days as a bit mask (~25,000 rows);
issuing writes them one per row into `billed_day`, what the comparison of invoiced months reads.
The drafts' rows already in `billed_day` (never current: only an issue makes rows current) move
to `draft_day` here, every field kept; the issued invoices' rows stay where they are.
"""
from datetime import date

import sqlalchemy as sa
from alembic import op


revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

_DAY_COLUMNS = ("invoice_id", "family_id", "child_id", "unit_id", "state", "price_cents", "surcharge_cents", "pai")


def _tables():
    invoice = sa.table("invoice", sa.column("id", sa.Integer), sa.column("status", sa.String))
    billed = sa.table("billed_day", sa.column("id", sa.Integer), *(sa.column(c) for c in _DAY_COLUMNS),
                      sa.column("day", sa.Date), sa.column("current", sa.Boolean))
    drafted = sa.table("draft_day", sa.column("id", sa.Integer), *(sa.column(c) for c in _DAY_COLUMNS),
                       sa.column("month", sa.Date),
                       sa.column("days", sa.BigInteger))
    return invoice, billed, drafted


def _day(value) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def upgrade() -> None:
    op.create_table(
        "draft_day",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("days", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=4), nullable=False),
        sa.Column("price_cents", sa.Integer(), nullable=False),
        sa.Column("surcharge_cents", sa.Integer(), nullable=False),
        sa.Column("pai", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], name="fk_draft_day_invoice_id_invoice",
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name="pk_draft_day"),
    )
    op.create_index("ix_draft_day_invoice_id", "draft_day", ["invoice_id"])
    conn = op.get_bind()
    invoice, billed, drafted = _tables()
    drafts = sa.select(invoice.c.id).where(invoice.c.status == "draft")
    moved = sa.and_(billed.c.invoice_id.in_(drafts), billed.c.current.is_not(True))
    masks: dict[tuple, list[int]] = {}  # a group -> its masks: a cell met twice starts another one
    for row in conn.execute(sa.select(billed.c.day, *(billed.c[c] for c in _DAY_COLUMNS)).where(moved)
                            .order_by(billed.c.id)):
        day = _day(row[0])
        key = (*row[1:8], bool(row[8]), day.replace(day=1))
        bit = 1 << day.day
        found = masks.setdefault(key, [0])
        for i, mask in enumerate(found):
            if not mask & bit:
                found[i] = mask | bit
                break
        else:
            found.append(bit)
    out = [dict(zip(_DAY_COLUMNS, key[:8]), month=key[8], days=mask) for key, found in masks.items() for mask in found]
    for start in range(0, len(out), 5000):
        conn.execute(drafted.insert(), out[start:start + 5000])
    conn.execute(billed.delete().where(moved))


def downgrade() -> None:
    conn = op.get_bind()
    invoice, billed, drafted = _tables()
    out = []
    for row in conn.execute(sa.select(drafted.c.month, drafted.c.days, *(drafted.c[c] for c in _DAY_COLUMNS))
                            .order_by(drafted.c.id)):
        first, rest = _day(row[0]), row[1]
        for n in range(1, 32):
            if rest >> n & 1:
                out.append(dict(zip(_DAY_COLUMNS, row[2:]), day=first.replace(day=n), current=False))
    for start in range(0, len(out), 5000):
        conn.execute(billed.insert(), out[start:start + 5000])
    op.drop_index("ix_draft_day_invoice_id", table_name="draft_day")
    op.drop_table("draft_day")
