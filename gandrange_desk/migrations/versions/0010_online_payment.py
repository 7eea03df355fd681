"""families' portal: card payments of invoices through the online provider (PayFiP)

Revision ID: 0010
Revises: 0009
"""
from alembic import op
import sqlalchemy as sa

from gandrange_desk.models.base import AwareDateTime

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "online_payment",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("refdet", sa.String(length=30), nullable=False),
        sa.Column("idop", sa.String(length=64), nullable=True),
        sa.Column("family_id", sa.Integer(), nullable=False),
        sa.Column("invoice_id", sa.Integer(), nullable=False),
        sa.Column("amount_cents", sa.Integer(), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", AwareDateTime(), nullable=False),
        sa.Column("decided_at", AwareDateTime(), nullable=True),
        sa.Column("numauto", sa.String(length=64), nullable=False),
        sa.Column("payment_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["family_id"], ["family.id"], name=op.f("fk_online_payment_family_id_family")),
        sa.ForeignKeyConstraint(["invoice_id"], ["invoice.id"], name=op.f("fk_online_payment_invoice_id_invoice")),
        sa.ForeignKeyConstraint(["payment_id"], ["payment.id"], name=op.f("fk_online_payment_payment_id_payment")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_online_payment")),
        sa.UniqueConstraint("refdet", name=op.f("uq_online_payment_refdet")),
        sa.UniqueConstraint("idop", name=op.f("uq_online_payment_idop")),
    )
    op.create_index(op.f("ix_online_payment_family_id"), "online_payment", ["family_id"])
    op.create_index(op.f("ix_online_payment_invoice_id"), "online_payment", ["invoice_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_online_payment_invoice_id"), table_name="online_payment")
    op.drop_index(op.f("ix_online_payment_family_id"), table_name="online_payment")
    op.drop_table("online_payment")
