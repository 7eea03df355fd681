"""The benchmark base: a 2,000-family demo database built once and cached in bench/.cache/.

The cache key holds the schema revision and a hash of the demo generator's sources, so a change
of either rebuilds it. Benchmarks read `base.url` (never write it: it is shared by every figure
and every run) and mutate throw-away copies from `base.fresh_copy()`.
"""

from __future__ import annotations

import atexit
import os
import hashlib
import itertools
import shutil
import sqlite3
import sys
import time
from datetime import datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from gandrange_desk.clock import PARIS  # noqa: E402

CACHE = Path(__file__).resolve().parent / ".cache"
FAMILIES = 2000
SEED = 2026
# The demo's "today": fixed, so the base and the figures do not drift with the calendar.
FIXED_NOW = datetime(2026, 11, 26, 9, 0, tzinfo=PARIS)
# The generator's own files: the demo package and the settings it loads.
SOURCES = ("demo/*.py", "services/settings/*.py")


def _fingerprint() -> str:
    from gandrange_desk.services.system import schema

    digest = hashlib.sha256(schema.head_revision().encode())
    # While migration 0001 is regenerated in place, its text (not its id) says the schema changed.
    for path in sorted((ROOT / "gandrange_desk" / "migrations" / "versions").glob("*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    package = ROOT / "gandrange_desk"
    for pattern in SOURCES:
        for path in sorted(package.glob(pattern)):
            digest.update(path.name.encode() + path.read_bytes())
    digest.update(f"{FAMILIES}-{SEED}-{FIXED_NOW.isoformat()}".encode())
    return digest.hexdigest()[:12]


class BenchBase:
    def __init__(self, families: int = FAMILIES, seed: int = SEED, quiet: bool = False):
        self.families = families
        self.seed = seed
        self.quiet = quiet
        CACHE.mkdir(exist_ok=True)
        self.path = CACHE / f"demo-{families}-{seed}-{_fingerprint()}.sqlite3"
        if self.path.exists() and self.path.stat().st_size < 1_000_000:
            self.path.unlink()  # a broken build (empty file) is never a base
        if not self.path.exists():
            # Several people may run benchmarks at once: one builds, the others wait for it.
            import fcntl

            with open(CACHE / "build.lock", "w") as lock:
                fcntl.flock(lock, fcntl.LOCK_EX)
                try:
                    if not self.path.exists():
                        self._build()
                finally:
                    fcntl.flock(lock, fcntl.LOCK_UN)
        self.url = f"sqlite:///{self.path}"
        self._copies = itertools.count(1)
        self._tmp = CACHE / f"copies-{os.getpid()}"  # per run: concurrent runs keep their own
        atexit.register(shutil.rmtree, self._tmp, True)

    def now(self) -> datetime:
        return FIXED_NOW

    def _build(self) -> None:
        from gandrange_desk.db import make_engine
        from gandrange_desk.services.system import schema
        from gandrange_desk.services.context import SYSTEM, Desk
        from gandrange_desk.demo import run_demo

        for old in CACHE.glob(f"demo-{self.families}-{self.seed}-*.sqlite3*"):
            old.unlink()
        partial = self.path.with_suffix(".building")
        for leftover in CACHE.glob(partial.name + "*"):
            leftover.unlink()
        if not self.quiet:
            print(f"Construction de la base de banc d'essai ({self.families} familles)…", file=sys.stderr)
        started = time.perf_counter()
        engine = make_engine(f"sqlite:///{partial}")
        schema.upgrade(engine)
        run_demo(Desk(engine, SYSTEM, self.now), families=self.families, seed=self.seed)
        engine.dispose()
        # One self-contained file (no WAL beside it), statistics ready for the planner.
        if not partial.exists():
            raise RuntimeError(f"{partial} disappeared while it was being built; run again")
        conn = sqlite3.connect(partial)
        built = conn.execute("SELECT count(*) FROM family").fetchone()[0]
        if built != self.families:
            conn.close()
            raise RuntimeError(f"the benchmark base holds {built} families instead of {self.families}")
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        conn.execute("ANALYZE")
        conn.execute("PRAGMA journal_mode=DELETE")
        conn.close()
        partial.rename(self.path)
        if not self.quiet:
            print(f"Base construite en {time.perf_counter() - started:.1f} s : {self.path}", file=sys.stderr)

    def desk(self, actor=None):
        """A Desk on the shared base (read it, do not write it), on the base's fixed clock."""
        from gandrange_desk.db import make_engine
        from gandrange_desk.services.context import SYSTEM, Desk

        return Desk(make_engine(self.url), actor or SYSTEM, self.now)

    def fresh_copy(self) -> str:
        """The URL of a private copy of the base, deleted when the run ends."""
        self._tmp.mkdir(exist_ok=True)
        target = self._tmp / f"copy-{next(self._copies)}.sqlite3"
        shutil.copyfile(self.path, target)
        return f"sqlite:///{target}"

    def fresh_desk(self, actor=None):
        from gandrange_desk.db import make_engine
        from gandrange_desk.services.context import SYSTEM, Desk

        return Desk(make_engine(self.fresh_copy()), actor or SYSTEM, self.now)
