"""trust: login lockout, the scheduled-tasks role, temporary passwords kept apart until sent

Revision ID: 0009
Revises: 0008

- `desk_user.failed_logins` / `locked_until`: repeated wrong passwords slow down, then lock.
- `outbox_secret`: a temporary portal password waiting for its e-mail to be delivered; the
  message body only holds a placeholder. The row is erased once the message is sent, and
  backups leave this table's data out.
- Credentials e-mails written before: a delivered one loses its clear password (masked); a
  waiting one gets the placeholder, its password moved to `outbox_secret`.
- The `taches` role (scheduled tasks) needs no schema change: roles are plain codes.
"""
import re

from alembic import op
import sqlalchemy as sa

import gandrange_desk.models.base


revision = "0009"
down_revision = "0008"
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
    _secrets_out_of_bodies()


_CLEAR = re.compile(r"(Mot de passe provisoire\s*:\s*(?:<[^>]*>)*)([^\s<]+)")
MASK = "(envoyé à la famille, non conservé)"


def _secrets_out_of_bodies() -> None:
    bind = op.get_bind()
    message = sa.table("outbox_message", sa.column("id", sa.Integer), sa.column("status", sa.String),
                       sa.column("body_text", sa.Text), sa.column("body_html", sa.Text))
    secret = sa.table("outbox_secret", sa.column("message_id", sa.Integer), sa.column("name", sa.String),
                      sa.column("value", sa.String))
    rows = bind.execute(sa.select(message.c.id, message.c.status, message.c.body_text, message.c.body_html)
                        .where(message.c.body_text.like("%Mot de passe provisoire%"))).all()
    for mid, status, text, html in rows:
        found = _CLEAR.search(text or "")
        if found is None or found.group(2).startswith("{{secret"):
            continue
        waiting = status not in ("sent", "failed", "cancelled")
        stand_in = "{{secret:password}}" if waiting else MASK
        bind.execute(message.update().where(message.c.id == mid).values(
            body_text=_CLEAR.sub(lambda m: m.group(1) + stand_in, text or ""),
            body_html=_CLEAR.sub(lambda m: m.group(1) + stand_in, html or "")))
        if waiting:
            bind.execute(secret.insert().values(message_id=mid, name="password", value=found.group(2)))


def downgrade() -> None:
    op.drop_table("outbox_secret")
    with op.batch_alter_table("desk_user") as batch:
        batch.drop_column("locked_until")
        batch.drop_column("failed_logins")
