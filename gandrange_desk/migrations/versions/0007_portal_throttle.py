"""families' portal: failed sign-in attempts per typed login and per address

Revision ID: 0007
Revises: 0006
"""
from alembic import op
import sqlalchemy as sa

from gandrange_desk.models.base import AwareDateTime

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "portal_throttle",
        sa.Column("key", sa.String(length=220), nullable=False),
        sa.Column("failures", sa.Integer(), nullable=False),
        sa.Column("first_at", AwareDateTime(), nullable=False),
        sa.Column("locked_until", AwareDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_portal_throttle")),
    )


def downgrade() -> None:
    op.drop_table("portal_throttle")
