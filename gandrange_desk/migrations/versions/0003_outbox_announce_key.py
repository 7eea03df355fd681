"""decision e-mails held for a short while, to be merged with the next decisions of the round

Revision ID: 0003
Revises: 0002
"""
from alembic import op
import sqlalchemy as sa


revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.add_column(sa.Column("announce_key", sa.String(length=60), nullable=True))
        batch.create_index("ix_outbox_message_announce_key", ["announce_key"])


def downgrade() -> None:
    with op.batch_alter_table("outbox_message") as batch:
        batch.drop_index("ix_outbox_message_announce_key")
        batch.drop_column("announce_key")
