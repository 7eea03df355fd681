"""regularisation_check: invoiced months found with nothing to regularise, and their fingerprint

Revision ID: 0011
Revises: 0010

Preparing a month compared every month already invoiced with today's grid (60 % of the run at
8,000 families); a month whose cells, marks, billed days, tariffs, quotients, children and
attendance settings have the fingerprint it had when found right is skipped.
"""
import sqlalchemy as sa
from alembic import op

from gandrange_desk.models.base import AwareDateTime

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "regularisation_check",
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=False),
        sa.Column("checked_at", AwareDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("month", name="pk_regularisation_check"),
    )


def downgrade() -> None:
    op.drop_table("regularisation_check")
