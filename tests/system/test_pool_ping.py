"""PostgreSQL: a pooled connection the server dropped while it sat idle is replaced before use
(the page that gets it works), while a connection used moments ago is handed out without a ping."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from gandrange_desk import db


def test_idle_connection_killed_by_the_server_is_replaced(engine, backend, monkeypatch):
    if backend != "postgresql":
        pytest.skip("the pool's ping is PostgreSQL's")
    conn, other = engine.connect(), engine.connect()
    victim = conn.execute(text("SELECT pg_backend_pid()")).scalar()
    conn.close()  # back in the pool, first in line for the next checkout
    # The server drops the pooled connection (a restart, an idle timeout of a firewall).
    other.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": victim})
    other.commit()
    other.close()
    monkeypatch.setattr(db, "PING_IDLE_AFTER", 0.0)  # as if both had been idle for a while
    with engine.connect() as conn:  # no error: the dead one was pinged and replaced
        assert conn.execute(text("SELECT 1")).scalar() == 1
        assert conn.execute(text("SELECT pg_backend_pid()")).scalar() != victim


def test_recently_used_connection_is_not_pinged(engine, backend):
    if backend != "postgresql":
        pytest.skip("the pool's ping is PostgreSQL's")
    pings = []
    original = engine.dialect.do_ping
    engine.dialect.do_ping = lambda conn: pings.append(1) or original(conn)
    try:
        for _ in range(4):  # a page's four sessions, one after the other
            with engine.connect() as conn:
                conn.execute(text("SELECT 2"))
    finally:
        engine.dialect.do_ping = original
    assert pings == []
