"""Regenerate migration 0001 from the models.

Only while nothing has been released (the founding work): once a database exists in the field,
every schema change is a new Alembic revision instead.
"""

import tempfile
from pathlib import Path

from alembic import command

from gandrange_desk.db import make_engine
from gandrange_desk.services.system.schema import MIGRATIONS, alembic_config

for old in (MIGRATIONS / "versions").glob("0001_*.py"):
    old.unlink()
with tempfile.TemporaryDirectory() as tmp:
    engine = make_engine(f"sqlite:///{Path(tmp) / 'empty.sqlite3'}")
    with engine.begin() as conn:
        command.revision(alembic_config(conn), message="initial schema", autogenerate=True, rev_id="0001")
    engine.dispose()
print("migration 0001 regenerated")
