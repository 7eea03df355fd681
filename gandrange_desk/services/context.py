"""The service context: which database, who acts, and what time it is.

Every user action is one call taking a `Desk`; it opens one unit of work, checks the actor's
role, and commits or writes nothing.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import TYPE_CHECKING, Callable, Iterator

from gandrange_desk import clock
from gandrange_desk.errors import PermissionDenied, StaleEdit
from gandrange_desk.roles import Role

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.orm import Session, sessionmaker

# SQLAlchemy's ORM and the models are imported by the first unit of work, not by this module:
# the window's shell and the login dialog import `Actor`, `Desk` and `SYSTEM` and are painted
# before the ORM loads (issue 14, start-up).

# The scheduled-tasks role ranks as an agent for the services it runs; the command line limits
# it to those commands (services.system.users.check_command_allowed) and the window refuses it.
ROLE_RANK = {Role.TASKS: 1, Role.AGENT: 1, Role.RESPONSABLE: 2, Role.ADMIN: 3}


@dataclass(frozen=True)
class Actor:
    login: str
    full_name: str
    role: str

    def at_least(self, role: str) -> bool:
        return ROLE_RANK.get(self.role, 0) >= ROLE_RANK[role]


SYSTEM = Actor("systeme", "Système", Role.ADMIN)


# The read session `Desk.one_read` shares with the reads inside its block (engine, session).
_shared_read: ContextVar[tuple | None] = ContextVar("gd_shared_read", default=None)


@dataclass
class Desk:
    engine: Engine
    actor: Actor = SYSTEM
    now: Callable[[], datetime] = clock.now
    _sessions: sessionmaker[Session] | None = field(init=False, default=None, repr=False, compare=False)

    @property
    def sessions(self) -> sessionmaker[Session]:
        """The session factory, made (and the ORM imported) on first use."""
        if self._sessions is None:
            from sqlalchemy.orm import sessionmaker

            self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        return self._sessions

    # Opened before SQLAlchemy (issue 14, start-up third pass): `Desk.opening` makes a desk whose
    # `engine` is created on first use; until then the first screen is read through `first_reader`
    # (the stdlib sqlite3 driver, `services.first_screen_sqlite`).
    _opening: "_Opening | None" = field(init=False, default=None, repr=False, compare=False)

    @classmethod
    def opening(cls, open_engine: Callable[[], Engine], first_reader, actor: Actor = SYSTEM) -> "Desk":
        """A desk whose engine is made by `open_engine()` on first use (SQLAlchemy imported then);
        meanwhile `first_reader` (a `FirstScreenReader`) answers the first screen's reads."""
        desk = cls.__new__(cls)
        desk.actor, desk.now, desk._sessions = actor, clock.now, None
        desk._opening = _Opening(open_engine, first_reader)
        return desk

    def __getattr__(self, name: str):
        # Only reached when `engine` is not set yet: a desk made by `Desk.opening`.
        opening = self.__dict__.get("_opening")
        if name == "engine" and opening is not None:
            engine = opening.engine()
            self.__dict__["engine"] = engine
            return engine
        raise AttributeError(name)

    @property
    def engine_ready(self) -> bool:
        return "engine" in self.__dict__ or (self._opening is not None and self._opening.made is not None)

    def first_reader(self):
        """The bare-driver reader of the first screen while the engine is not made yet, else None
        (the services then read through SQLAlchemy Core as usual)."""
        if self._opening is None or self.engine_ready:
            return None
        return self._opening.reader

    def today(self) -> date:
        return self.now().date()

    def as_actor(self, actor: Actor) -> "Desk":
        if self._opening is not None and not self.engine_ready:
            other = Desk.__new__(Desk)
            other.actor, other.now, other._sessions = actor, self.now, None
            other._opening = self._opening  # one engine for both, made once
            return other
        other = Desk(self.engine, actor, self.now)
        other._sessions = self._sessions  # the same factory (made once, not once per request)
        return other

    @property
    def backend(self) -> str:
        if self.first_reader() is not None:
            return "sqlite"
        return self.engine.url.get_backend_name()

    @contextmanager
    def unit_of_work(self) -> Iterator[Session]:
        """One transaction: commit on success, roll back on any error (nothing half-written)."""
        from sqlalchemy.orm.exc import StaleDataError

        session = self.sessions()
        try:
            with session.begin():
                yield session
        except StaleDataError as exc:
            raise StaleEdit(
                "Enregistrement refusé : la fiche a été modifiée sur un autre poste entre-temps. "
                "Rechargez-la puis recommencez."
            ) from exc
        finally:
            session.close()

    @contextmanager
    def one_read(self) -> Iterator[None]:
        """Every `read()` on this engine inside the block, in this thread, is the same read-only
        session and transaction: a page of the portal that asks three services opens one session
        and one transaction, not three (units of work are untouched: they keep their own)."""
        if _shared_read.get() is not None:
            yield
            return
        with self.read() as session:
            token = _shared_read.set((self.engine, session))
            try:
                yield
            finally:
                _shared_read.reset(token)

    @contextmanager
    def read(self) -> Iterator[Session]:
        shared = _shared_read.get()
        if shared is not None and shared[0] is self.engine:
            yield shared[1]
            return
        session = self.sessions()
        session.connection(execution_options={"read_only": True})
        try:
            yield session
        finally:
            # close(), not rollback(): loaded objects stay readable after the block (rollback
            # would expire them), and the connection's transaction is still rolled back.
            session.close()

    @contextmanager
    def read_core(self) -> Iterator[Connection]:
        """A read on SQLAlchemy Core alone (no ORM, no session): what the first screen reads
        (the Familles list, the status bar's counts) before the ORM and the models load."""
        with self.engine.connect() as conn:
            conn.execution_options(read_only=True)  # never the write lock (see db.make_engine)
            yield conn

    def require(self, role: str, what: str) -> None:
        if not self.actor.at_least(role):
            raise PermissionDenied(f"{what} : réservé au rôle « {Role(role).phrase} » ou supérieur.")

    def audit(self, session: Session, action: str, entity: str, entity_id: int | None = None, *,
              family_id: int | None = None, before=None, after=None) -> None:
        from gandrange_desk.models import AuditEntry

        session.add(AuditEntry(
            at=self.now(), user_login=self.actor.login, action=action, entity=entity,
            entity_id=entity_id, family_id=family_id,
            before=audit_text(before), after=audit_text(after),
        ))


class _Opening:
    """The engine of a desk opened before SQLAlchemy: made once, by whichever desk asks first."""

    def __init__(self, open_engine: Callable[[], "Engine"], reader) -> None:
        import threading

        self.open_engine = open_engine
        self.reader = reader
        self.made: "Engine | None" = None
        self._lock = threading.Lock()  # a warm-up thread and the window may both ask

    def engine(self) -> "Engine":
        with self._lock:
            if self.made is None:
                self.made = self.open_engine()
                if self.reader is not None:
                    self.reader.close()  # from now on every read goes through the engine
        return self.made


def audit_text(value) -> str:
    """A before/after value as the audit trail stores it: JSON, keys sorted, accents kept."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, default=str, sort_keys=True)


def check_version(obj, expected_version: int | None, what: str) -> None:
    """Refuse an edit made from a stale copy, naming who saved last and when."""
    if expected_version is None or obj.version == expected_version:
        return
    who = obj.updated_by or "un autre poste"
    when = obj.updated_at.strftime("%d/%m/%Y à %H:%M") if obj.updated_at else "entre-temps"
    raise StaleEdit(
        f"Enregistrement refusé : {what} a été modifiée par {who} le {when}. "
        "Rechargez la fiche pour voir ses changements, puis recommencez."
    )


def stamp(obj, desk: Desk) -> None:
    obj.updated_by = desk.actor.login
    obj.updated_at = desk.now()


__all__ = ["Actor", "Desk", "SYSTEM", "audit_text", "check_version", "stamp"]
