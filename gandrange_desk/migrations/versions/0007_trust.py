"""trust: login lockout, the scheduled-tasks role, temporary passwords kept apart until sent

Revision ID: 0007
Revises: 0006

- `desk_user.failed_logins` / `locked_until`: repeated wrong passwords slow down, then lock.
- `outbox_secret`: a temporary portal password waiting for its e-mail to be delivered; the
  message body only holds a placeholder. The row is erased once the message is sent, and
  backups leave this table's data out.
- The `taches` role (scheduled tasks) needs no schema change: roles are plain codes.
"""
from alembic import op
import sqlalchemy as sa

import gandrange_desk.models.base


revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("desk_user") as batch:
        batch.add_column(sa.Column("failed_logins", sa.Integer(), nullable=False, server_default="0"))
        batch.add_column(sa.Column("locked_until", gandrange_desk.models.base.AwareDateTime(timezone=True),
                                   nullable=True))
    op.create_table(
        "outbox_secret",
        sa.Column("message_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("value", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["message_id"], ["outbox_message.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("message_id", "name"),
    )


def downgrade() -> None:
    op.drop_table("outbox_secret")
    with op.batch_alter_table("desk_user") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
