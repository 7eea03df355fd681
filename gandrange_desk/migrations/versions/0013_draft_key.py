"""invoice.draft_key: what a draft was built from, so that preparing again skips it while unchanged

Revision ID: 0013
Revises: 0012

Preparing a month again rebuilt every family's draft (about 1 s of CPU at 8,000 families, and as
much again to compare the rows with the previous ones). A draft now keeps a key of its inputs
(the family's cells, marks, children, address, regularisation, and the run's tariffs, quotients,
units and settings) and of its rows as written; a family whose key is unchanged is not rebuilt.
"""
import sqlalchemy as sa
from alembic import op


revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.add_column(sa.Column("draft_key", sa.String(length=200), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("invoice", schema=None) as batch_op:
        batch_op.drop_column("draft_key")
