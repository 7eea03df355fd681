"""feed entries held for a waiting registration: columns instead of a marker in the payload

Revision ID: 0002
Revises: 0001
"""
import json

from alembic import op
import sqlalchemy as sa


revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_MARKER = "waiting_registration"


def upgrade() -> None:
    with op.batch_alter_table("feed_entry") as batch:
        batch.add_column(sa.Column("held_for", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("hold", sa.String(length=12), nullable=False, server_default=""))
        batch.create_index("ix_feed_entry_held_for", ["held_for"])
    # Entries held by the old marker: {"waiting_registration": ref, "entry": {...}} (and its
    # "_done" / "_dropped" variants once decided) become the entry itself plus the two columns.
    conn = op.get_bind()
    feed = sa.table("feed_entry", sa.column("id", sa.Integer), sa.column("payload", sa.Text),
                    sa.column("held_for", sa.String), sa.column("hold", sa.String))
    rows = conn.execute(sa.select(feed.c.id, feed.c.payload).where(feed.c.payload.like('{"' + _MARKER + '%'))).all()
    for row_id, payload in rows:
        try:
            data = json.loads(payload)
        except ValueError:
            continue
        for key, hold in ((_MARKER, "waiting"), (_MARKER + "_done", "replayed"), (_MARKER + "_dropped", "dropped")):
            if key in data and "entry" in data:
                conn.execute(feed.update().where(feed.c.id == row_id).values(
                    payload=json.dumps(data["entry"], ensure_ascii=False), held_for=data[key], hold=hold))
                break


def downgrade() -> None:
    with op.batch_alter_table("feed_entry") as batch:
        batch.drop_index("ix_feed_entry_held_for")
        batch.drop_column("hold")
        batch.drop_column("held_for")
