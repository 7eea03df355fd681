"""Drop two indexes that only cost writes: booking (unit_id, day) and request (ref)

Revision ID: 0014
Revises: 0013

`ix_booking_unit_day` is the prefix of `ix_booking_unit_day_state` (unit, day, state, child,
late), which serves every read by unit and day and covers more of them; `ix_request_ref` is read
by no query (the portal feed's refs are deduplicated on `feed_entry.ref`, unique). Every cell
booked wrote an entry into each: a 1,000-cell rectangle spent ~1.7 ms of SQLite's ~14.5 ms of
INSERTs on them (bench/README, issue 14 rectangle third pass).
"""
from alembic import op


revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.drop_index("ix_booking_unit_day")
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.drop_index("ix_request_ref")


def downgrade() -> None:
    with op.batch_alter_table("request", schema=None) as batch_op:
        batch_op.create_index("ix_request_ref", ["ref"], unique=False)
    with op.batch_alter_table("booking", schema=None) as batch_op:
        batch_op.create_index("ix_booking_unit_day", ["unit_id", "day"], unique=False)
