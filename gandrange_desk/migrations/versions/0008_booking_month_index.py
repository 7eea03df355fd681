"""booking: the (unit, day, state) index also carries the child and the late flag

Revision ID: 0008
Revises: 0007

The monthly run reads every R, AF and DA cell of the month being prepared and of each month
already invoiced (regularisation); with the child and the late flag in the index those reads
never touch the table (about 3× faster on SQLite). The grid's count of places used per unit and
day keeps its covering prefix (unit, day, state).
"""
from alembic import op


revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_unit_day_state")
        batch_op.create_index("ix_booking_unit_day_state", ["unit_id", "day", "state", "child_id", "late"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_unit_day_state")
        batch_op.create_index("ix_booking_unit_day_state", ["unit_id", "day", "state"], unique=False)
