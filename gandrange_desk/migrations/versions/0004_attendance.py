"""attendance (pointage): one row per child, unit and day marked at the door

Revision ID: 0004
Revises: 0003
"""
from alembic import op
import sqlalchemy as sa

from gandrange_desk.models.base import AwareDateTime

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "attendance",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("presence", sa.String(length=10), nullable=False),
        sa.Column("late_time", sa.String(length=5), nullable=False, server_default=""),
        sa.Column("recorded_at", AwareDateTime(), nullable=False),
        sa.Column("recorded_by", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["child.id"], name=op.f("fk_attendance_child_id_child"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["unit_id"], ["unit.id"], name=op.f("fk_attendance_unit_id_unit"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_attendance")),
        sa.UniqueConstraint("child_id", "unit_id", "day", name=op.f("uq_attendance_child_id_unit_id_day")),
    )
    op.create_index("ix_attendance_unit_day", "attendance", ["unit_id", "day"])


def downgrade() -> None:
    op.drop_index("ix_attendance_unit_day", table_name="attendance")
    op.drop_table("attendance")
