"""The first screen's Core tables (`services.first_screen`) are the models' own columns: the
Familles list and the status bar read them before the ORM loads (issue 14, start-up)."""

from __future__ import annotations

from gandrange_desk.models import Base
from gandrange_desk.services.first_screen import TABLES


def test_every_first_screen_column_is_the_models_column_of_the_same_type():
    for light in TABLES:
        model = Base.metadata.tables[light.name]
        for col in light.c:
            assert col.name in model.c, f"{light.name}.{col.name} is not a column of the model"
            mine, theirs = col.type, model.c[col.name].type
            assert type(mine)._type_affinity is type(theirs)._type_affinity, (light.name, col.name, mine, theirs)
            assert getattr(mine, "length", None) == getattr(theirs, "length", None), (light.name, col.name)


# ---- the first screen through the bare sqlite3 driver (issue 14, start-up third pass)

import sqlite3  # noqa: E402

import pytest  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from gandrange_desk.services import first_screen_sqlite, first_screen_text  # noqa: E402
from gandrange_desk.services.context import Desk  # noqa: E402
from gandrange_desk.services.families import search  # noqa: E402
from gandrange_desk.services.first_reader import open_reader, sqlite_file  # noqa: E402
from gandrange_desk.services.system import overview, schema  # noqa: E402


def test_the_generated_sqlite_text_is_the_compilation_of_the_core_statements():
    """`services/first_screen_sqlite.py` is generated from the Core statements: change one of
    them and this fails until `python -m gandrange_desk.services.first_screen_text` is run again."""
    assert first_screen_sqlite.STATEMENTS == first_screen_text.sqlite_statements()
    assert first_screen_text.generated_module() == open(first_screen_sqlite.__file__, encoding="utf-8").read()


@pytest.fixture
def demo_file(backend, desk):
    if backend != "sqlite":
        pytest.skip("the bare driver reads SQLite files only; PostgreSQL keeps the Core path")
    from gandrange_desk.demo import run_demo

    run_demo(desk, families=40, seed=7)  # with its invoices, payments and credit notes
    return desk.engine.url.database


def _bare_desk(desk, database):
    reader = open_reader(database)
    assert reader is not None
    return Desk.opening(lambda: desk.engine, reader, desk.actor)


def test_the_bare_driver_reads_what_sqlalchemy_core_reads_on_the_demo(desk, demo_file):
    bare = _bare_desk(desk, demo_file)
    for limit in (300, 10):  # one page holding every family; a full page, counted apart
        mine, theirs = search.search(bare, "", limit), search.search(desk, "", limit)
        assert bare.first_reader() is not None  # still read without the engine
        assert mine == theirs and mine.rows
        assert all(type(r.balance_cents) is int and type(r.archived) is bool for r in mine.rows)
    assert theirs.truncated and theirs.total == 40
    assert any(r.balance_cents for r in search.search(desk, "", 300).rows)  # balances, not only zeros
    assert overview.overview(bare) == overview.overview(desk)
    assert overview.overview(desk).pending_requests > 0
    assert overview.pending_requests(bare) == overview.pending_requests(desk)
    assert overview.outbox_counts(bare) == overview.outbox_counts(desk)
    # A typed search, or the archived families, go through SQLAlchemy (the engine is made then).
    typed = search.search(bare, theirs.rows[0].name.split()[0])
    assert typed == search.search(desk, theirs.rows[0].name.split()[0]) and bare.first_reader() is None


def test_a_base_that_is_not_at_the_programs_schema_is_not_read_bare(desk, demo_file):
    with sqlite3.connect(demo_file) as conn:
        conn.execute("UPDATE alembic_version SET version_num = '0001'")
    assert open_reader(demo_file) is None
    with sqlite3.connect(demo_file) as conn:
        conn.execute(f"UPDATE alembic_version SET version_num = '{schema.HEAD}'")
    assert open_reader(demo_file) is not None


def test_only_a_plain_local_sqlite_file_is_read_bare(tmp_path):
    base = tmp_path / "desk.sqlite3"
    assert sqlite_file(f"sqlite:///{base}", tmp_path / "x") is None  # missing file
    base.write_bytes(b"")
    assert sqlite_file(f"sqlite:///{base}", tmp_path / "x") == str(base)
    assert sqlite_file(str(base), tmp_path / "x") == str(base)
    assert sqlite_file(None, base) == str(base)
    assert sqlite_file("postgresql://u@h/db", base) is None
    assert sqlite_file(f"sqlite:///{base}?mode=ro", base) is None
    assert make_url(f"sqlite:///{base}").database == str(base)  # the path the engine opens
    assert open_reader(str(base)) is None  # an empty file: no alembic_version, SQLAlchemy opens it


def test_a_read_after_the_reader_closed_leaves_nothing_open(desk, demo_file):
    """A thread that took the reader just before the engine was made still gets its answer."""
    reader = open_reader(demo_file)
    reader.close()
    assert reader.pending() == overview.pending_requests(desk)
    assert reader._conn is None
