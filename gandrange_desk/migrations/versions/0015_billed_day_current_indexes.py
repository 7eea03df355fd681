"""billed_day's cell and day indexes hold the current rows only: a draft's billed days skip them

Revision ID: 0015
Revises: 0014

A month's first prepare at 8,000 families inserts 170,000 billed days, not current until their
invoice is issued; every query by cell or by day asks for current rows (the comparison with the
grid, `make_current`), so the two indexes became partial (WHERE current): the drafts' rows are
written into the invoice index only, and issuing a month adds its rows to the two others.
"""
import sqlalchemy as sa
from alembic import op


revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

_CURRENT = dict(sqlite_where=sa.text("current IS 1"), postgresql_where=sa.text("current IS true"))


def upgrade() -> None:
    with op.batch_alter_table("billed_day", schema=None) as batch_op:
        batch_op.drop_index("ix_billed_day_day")
        batch_op.drop_index("ix_billed_day_cell")
        batch_op.create_index("ix_billed_day_cell", ["child_id", "unit_id", "day"], unique=False, **_CURRENT)
        batch_op.create_index("ix_billed_day_day", ["day"], unique=False, **_CURRENT)


def downgrade() -> None:
    with op.batch_alter_table("billed_day", schema=None) as batch_op:
        batch_op.drop_index("ix_billed_day_day")
        batch_op.drop_index("ix_billed_day_cell")
        batch_op.create_index("ix_billed_day_cell", ["child_id", "unit_id", "day"], unique=False)
        batch_op.create_index("ix_billed_day_day", ["day"], unique=False)
