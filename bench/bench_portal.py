"""The families' portal under load, on a copy of the 2,000-family base: `portal serve` in its own
process (SQLite: one uvicorn worker; PostgreSQL: GANDRANGE_BENCH_PORTAL_WORKERS, default 2, on a
throwaway server started like the tests' one); the families are asyncio clients of this process.

How "at once" is simulated (the figures are only as honest as this):
- `portal_pages_200[_pg]`: 200 families signed in at the same time, each browsing like a person:
  open a page (Accueil, Mes réservations, Réservations sur période, Factures et documents, Ma
  famille, in turn), read it for a random time (exponential, mean GANDRANGE_BENCH_THINK_S, default
  5 s), open the next one, for GANDRANGE_BENCH_PORTAL_S seconds (default 60). The sign-ins come
  first, spread over 20 s, and are reported apart (argon2 is slow on purpose). Beside it,
  `closed_loop`: the same 200 families with no reading time at all (each opens its next page as
  soon as the last one arrived) for 15 s: the worker's throughput, and the queueing it causes
  (in a closed loop p95 ≈ 200 families ÷ throughput, whatever the code does).
- `portal_september_rush[_pg]`: GANDRANGE_BENCH_RUSH families (default 2,000) arriving at random
  (Poisson) over a simulated hour played GANDRANGE_BENCH_RUSH_SPEEDUP times faster (default 20:
  three minutes, so twenty times the real arrival rate; the real rate, 2,000 an hour, in a
  shorter run: RUSH × SPEEDUP = 2,000, e.g. 400 families with SPEEDUP 5 arrive over 12 minutes); each signs in, opens Accueil and
  Réservations sur période, books a period (Mondays and Thursdays of January 2027, Repas) after
  reading the form 3 s (not sped up) and opens Mes réservations. p95 of every page and RÉSERVER,
  errors, and every request created once and decided once by the desk's « accept all » afterwards.
Each figure prints p50/p95/p99, errors, throughput, the server's CPU time and the machine's load
average (the machine is shared: read the figures with it). Run alone:
`python bench/run.py --only portal`.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

PASSWORD = "Banc-d-essai-2026"
PAGES = ("/accueil", "/reservations", "/reservations/periode", "/factures", "/famille")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')
ROOT = Path(__file__).resolve().parents[1]
FAMILIES_AT_ONCE = 200


def _env(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


def _pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return round(values[max(0, int(round(q * len(values))) - 1)], 1) if values else 0.0


def _spread(values: list[float]) -> dict:
    return {"p50_ms": _pct(values, 0.50), "p95_ms": _pct(values, 0.95), "p99_ms": _pct(values, 0.99),
            "max_ms": round(max(values), 1) if values else 0.0, "count": len(values)}


def _accounts(desk, n: int) -> list[tuple[str, int, int, int]]:
    """n families with an active portal account (one argon2 hash shared, made with the portal's
    parameters: building the bench must not take 2,000 hashes); (login, family id, first child
    id, repas unit id)."""
    from sqlalchemy import select

    from gandrange_desk.models import Activity, Child, Family, PortalState, Unit
    from gandrange_desk.services.portal.accounts import hash_password

    password_hash = hash_password(PASSWORD)
    out = []
    with desk.unit_of_work() as s:
        repas = s.execute(select(Unit.id).join(Activity).where(Activity.code == "PERISCOLAIRE", Unit.name == "Repas")
                          ).scalar_one_or_none() or s.execute(select(Unit.id).order_by(Unit.id)).scalars().first()
        families = s.execute(select(Family).where(Family.archived.is_(False)).order_by(Family.id).limit(n * 2)).scalars()
        for f in families:
            child = s.execute(select(Child.id).where(Child.family_id == f.id, Child.archived.is_(False))
                              .order_by(Child.id)).scalars().first()
            if child is None:
                continue
            f.portal_login = (f.portal_login or f.ref).lower()  # sign-in matches lower case
            f.portal_password_hash, f.portal_state = password_hash, PortalState.ACTIVE
            out.append((f.portal_login, f.id, child, repas))
            if len(out) == n:
                break
    return out


# --- the server and the database ----------------------------------------------------------------


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its descendants still alive (uvicorn's workers)."""
    tick = os.sysconf("SC_CLK_TCK")
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        try:
            fields = Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / tick
            for task in Path(f"/proc/{p}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except (OSError, IndexError, ValueError):
            continue
    return total


class _Server:
    """`gandrange-desk portal serve` on a copy of the base, in its own process."""

    def __init__(self, url: str, workers: int = 1):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        env = {**os.environ, "GANDRANGE_DESK_PORTAL_SECRET": "banc-d-essai", "PYTHONUNBUFFERED": "1"}
        import tempfile

        self.log = tempfile.TemporaryFile()  # read when it fails; a pipe nobody reads would fill
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gandrange_desk", "--db", url, "portal", "serve", "--http-local",
             "--port", str(self.port), "--workers", str(workers)],
            env=env, stdout=subprocess.DEVNULL, stderr=self.log, cwd=ROOT)
        self.url = f"http://127.0.0.1:{self.port}"
        self.workers = workers

    def __enter__(self):
        import httpx

        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.errors()[-2000:])
            try:
                httpx.get(self.url + "/connexion", timeout=2)
                time.sleep(1.0 if self.workers > 1 else 0)  # every worker up, not only the first
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("portal did not start")

    def errors(self) -> str:
        """The server's log, without the lines of every request."""
        self.log.seek(0)
        return "\n".join(line for line in self.log.read().decode(errors="replace").splitlines()
                         if '" 200' not in line and '" 303' not in line)

    def cpu(self) -> float:
        return _cpu_seconds(self.proc.pid)

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(30)


class _Postgres:
    """A throwaway PostgreSQL server (tests/pgserver.py) holding a copy of the bench base."""

    def __init__(self, base):
        sys.path.insert(0, str(ROOT))
        from tests.pgserver import PgServer

        self.server = PgServer().start()
        self.base = base

    def desk(self):
        from sqlalchemy import create_engine, text

        from gandrange_desk.db import make_engine
        from gandrange_desk.services.context import SYSTEM, Desk

        admin = create_engine(self.server.url(), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            conn.execute(text("CREATE DATABASE banc"))
        admin.dispose()
        engine = make_engine(self.server.url("banc"))
        _copy_base(make_engine(self.base.url), engine)
        return Desk(engine, SYSTEM, self.base.now)

    def stop(self):
        self.server.stop()


def _copy_base(source, target) -> None:
    """Every row of the SQLite bench base into a fresh PostgreSQL schema (same ids), sequences
    moved past them: the same 2,000 families on both backends."""
    from sqlalchemy import func, insert, select, text

    from gandrange_desk.models import Base
    from gandrange_desk.services.system import schema

    schema.upgrade(target)
    with source.connect() as src, target.begin() as dst:
        dst.execute(text("SET session_replication_role = replica"))  # row order free of FK checks
        for table in reversed(Base.metadata.sorted_tables):
            dst.execute(table.delete())  # what the migrations seeded: the copy brings it back
        for table in Base.metadata.sorted_tables:
            rows = [dict(r._mapping) for r in src.execute(select(table))]
            for start in range(0, len(rows), 2000):
                dst.execute(insert(table), rows[start:start + 2000])
            if "id" in table.c and rows:
                top = dst.execute(select(func.max(table.c.id))).scalar()
                seq = dst.execute(text("SELECT pg_get_serial_sequence(:t, 'id')"), {"t": table.name}).scalar()
                if seq:
                    dst.execute(text("SELECT setval(:s, :v)"), {"s": seq, "v": top})
        dst.execute(text("ANALYZE"))


def _load() -> str:
    one, five, _ = os.getloadavg()
    return f"{one:.2f} / {five:.2f}"


# --- the families ------------------------------------------------------------------------------


class _Family:
    def __init__(self, url: str, login: str):
        import httpx

        # uvicorn closes a connection idle for 5 s; a client reusing it at that instant reads
        # "disconnected" (a browser silently retries, a proxy keeps its own): let go at 4 s.
        self.http = httpx.AsyncClient(base_url=url, timeout=60, follow_redirects=False,
                                      limits=httpx.Limits(keepalive_expiry=4))
        self.login = login
        self.times: dict[str, list[float]] = {}
        self.errors: list[str] = []
        self.retried: list[str] = []

    async def timed(self, what: str, method: str, path: str, **kw):
        import httpx

        started = time.perf_counter()
        try:
            try:
                r = await self.http.request(method, path, **kw)
            except (httpx.ReadError, httpx.RemoteProtocolError, httpx.WriteError) as exc:
                # A GET on a kept-alive connection the server closed meanwhile: a browser sends it
                # again on a new connection, and so does this family (once; counted apart, and its
                # time counts from the first try). A POST is never sent twice: it is an error.
                if method != "GET":
                    raise
                self.retried.append(f"{what}: {type(exc).__name__}")
                r = await self.http.request(method, path, **kw)
        except Exception as exc:  # noqa: BLE001 - a bench counts every failure
            self.errors.append(f"{what}: {type(exc).__name__}")
            return None
        self.times.setdefault(what, []).append((time.perf_counter() - started) * 1000)
        if r.status_code >= 500 or r.status_code in (403, 404):
            self.errors.append(f"{what}: HTTP {r.status_code}")
        return r

    async def token(self, path: str) -> str:
        r = await self.timed("page", "GET", path)
        match = _CSRF.search(r.text) if r is not None else None
        return match.group(1) if match else ""

    async def sign_in(self) -> bool:
        csrf = await self.token("/connexion")
        r = await self.timed("connexion", "POST", "/connexion",
                             data={"csrf": csrf, "identifiant": self.login, "mot_de_passe": PASSWORD})
        ok = r is not None and r.headers.get("location") == "/accueil"
        if not ok:
            self.errors.append(f"connexion refusée ({r.status_code if r is not None else '-'})")
        return ok


def _merge(families: list[_Family], what: str) -> list[float]:
    return [t for f in families for t in f.times.get(what, [])]


def _errors(families: list[_Family]) -> dict:
    return {"errors": sum(len(f.errors) for f in families),
            "first_errors": sorted({e for f in families for e in f.errors})[:5],
            "gets_sent_again": sum(len(f.retried) for f in families),
            "why_sent_again": sorted({e for f in families for e in f.retried})[:3]}


async def _browse(families: list[_Family], seconds: float, think: float, rng: random.Random) -> None:
    stop = time.perf_counter() + seconds

    async def one(n: int, f: _Family):
        await asyncio.sleep(rng.uniform(0, think or 0))  # not all on the same tick
        step = n
        while time.perf_counter() < stop:
            await f.timed("page", "GET", PAGES[step % len(PAGES)])
            step += 1
            if think:  # reading; the last read is cut at the end (the rate is over `seconds`)
                await asyncio.sleep(min(rng.expovariate(1 / think), max(0.0, stop - time.perf_counter())))

    await asyncio.gather(*(one(n, f) for n, f in enumerate(families)))


def _pages(base, backend: str) -> dict:
    seconds, think = _env("GANDRANGE_BENCH_PORTAL_S", 60), _env("GANDRANGE_BENCH_THINK_S", 5)
    pg = _Postgres(base) if backend == "postgresql" else None
    try:
        desk = pg.desk() if pg else base.fresh_desk()
        workers = int(_env("GANDRANGE_BENCH_PORTAL_WORKERS", 2)) if pg else 1
        accounts = _accounts(desk, FAMILIES_AT_ONCE)
        with _Server(desk.engine.url.render_as_string(hide_password=False), workers) as server:
            rng = random.Random(15)

            async def run():
                families = [_Family(server.url, login) for login, *_ in accounts]

                async def sign_in(f):
                    await asyncio.sleep(rng.uniform(0, 20))
                    await f.sign_in()

                await asyncio.gather(*(sign_in(f) for f in families))
                out = {"connexion": _spread(_merge(families, "connexion")), "load_before": _load()}
                for f in families:
                    f.times.pop("page", None)
                cpu, started = server.cpu(), time.perf_counter()
                await _browse(families, seconds, think, rng)
                wall, cpu = time.perf_counter() - started, server.cpu() - cpu
                pages = _merge(families, "page")
                out.update(pages=_spread(pages), pages_per_s=round(len(pages) / wall, 1),
                           server_cpu_s_per_s=round(cpu / wall, 2), load_after=_load(),
                           server_cpu_ms_per_page=round(cpu * 1000 / max(1, len(pages)), 1), **_errors(families))
                for f in families:
                    f.times.pop("page", None)
                    f.errors.clear()
                    f.retried.clear()
                cpu, started = server.cpu(), time.perf_counter()
                await _browse(families, 15, 0, rng)
                wall, cpu = time.perf_counter() - started, server.cpu() - cpu
                closed = _merge(families, "page")
                out["closed_loop"] = {**_spread(closed), "pages_per_s": round(len(closed) / wall, 1),
                                      "server_cpu_s_per_s": round(cpu / wall, 2), "load_after": _load(),
                                      "server_cpu_ms_per_page": round(cpu * 1000 / max(1, len(closed)), 1),
                                      **_errors(families)}
                for f in families:
                    await f.http.aclose()
                return out

            out = asyncio.run(run())
            out["server_log"] = _log_tail(server)
    finally:
        if pg:
            pg.stop()
    return {"value": out["pages"]["p95_ms"], "unit": "ms", "target": "p95 ≤ 150 ms, no error",
            "backend": backend, "workers": workers, "families": len(accounts), "think_s": think,
            "seconds": seconds, **out}


def _rush(base, backend: str) -> dict:
    from sqlalchemy import func, select

    from gandrange_desk.models import Request, RequestStatus
    from gandrange_desk.services import queue

    n = int(_env("GANDRANGE_BENCH_RUSH", 2000))
    speedup = _env("GANDRANGE_BENCH_RUSH_SPEEDUP", 20)
    pg = _Postgres(base) if backend == "postgresql" else None
    try:
        desk = pg.desk() if pg else base.fresh_desk()
        workers = int(_env("GANDRANGE_BENCH_PORTAL_WORKERS", 2)) if pg else 1
        accounts = _accounts(desk, n)
        with desk.read() as s:
            before = s.scalar(select(func.max(Request.id))) or 0
        with _Server(desk.engine.url.render_as_string(hide_password=False), workers) as server:
            plan = {login: (child, repas) for login, _fid, child, repas in accounts}
            asked: list[int] = []
            rng = random.Random(2027)
            window = 3600 / speedup
            arrivals, t = [], 0.0
            for _ in accounts:  # a Poisson process of n arrivals in the window, on average
                t += rng.expovariate(len(accounts) / window)
                arrivals.append(t)

            async def run():
                families = [_Family(server.url, login) for login, *_ in accounts]

                async def rush(f: _Family, at: float):
                    await asyncio.sleep(at)
                    if not await f.sign_in():
                        return
                    await f.timed("page", "GET", "/accueil")
                    child, repas = plan[f.login]
                    csrf = await f.token("/reservations/periode")
                    await asyncio.sleep(3)
                    r = await f.timed("reserver", "POST", "/reservations/periode", data={
                        "csrf": csrf, "enfant": str(child), "structure": str(repas), "debut": "2027-01-04",
                        "fin": "2027-01-29", "semaines": "all", "jour": ["0", "3"], "action": "reserver"})
                    if r is not None:
                        m = re.search(r"(\d+) demandes? de réservation envoyées?", r.text)
                        if m:
                            asked.append(int(m.group(1)))
                        elif "Aucune case" not in r.text:
                            f.errors.append(f"réserver: HTTP {r.status_code}")
                    await f.timed("page", "GET", "/reservations")
                    await f.http.aclose()

                await asyncio.gather(*(rush(f, at) for f, at in zip(families, arrivals)))
                return families

            load_before, cpu, started = _load(), server.cpu(), time.perf_counter()
            families = asyncio.run(run())
            wall, cpu, load_after = time.perf_counter() - started, server.cpu() - cpu, _load()
            log = _log_tail(server)
        ours = Request.id > before
        with desk.read() as s:
            created = s.scalar(select(func.count()).select_from(Request).where(ours))
            ids = s.execute(select(Request.id).where(ours, Request.status == RequestStatus.PENDING)).scalars().all()
        try:  # « accept all », confirming past the Repas capacity as the clerk would (2,000 children)
            queue.accept(desk, ids, capacity_override=True)
            refused = ""
        except Exception as exc:  # noqa: BLE001 - the load figures stand without the decision
            refused = f"{type(exc).__name__}: {str(exc)[:300]}"
        with desk.read() as s:
            accepted = s.scalar(select(func.count()).select_from(Request).where(ours, Request.status == RequestStatus.ACCEPTED))
            still = s.scalar(select(func.count()).select_from(Request).where(ours, Request.status == RequestStatus.PENDING))
    finally:
        if pg:
            pg.stop()
    reserver, pages = _merge(families, "reserver"), _merge(families, "page")
    every = reserver + pages
    requests = len(every) + len(_merge(families, "connexion"))
    return {"value": _pct(every, 0.95), "unit": "ms",
            "target": "p95 ≤ 150 ms, no error, decided once", "backend": backend, "workers": workers,
            "families": len(families), "speedup": speedup, "window_s": round(3600 / speedup),
            "arrivals_per_hour": round(len(families) * speedup),  # 2,000 is the real September hour
            "pages_and_reserver": _spread(every),
            "reserver": _spread(reserver), "connexion": _spread(_merge(families, "connexion")),
            **_errors(families), "requests_asked": sum(asked), "requests_created": created,
            "accepted": accepted, "left_pending": still, "accept_error": refused, "http_requests_per_s": round(requests / wall, 1),
            "server_cpu_s_per_s": round(cpu / wall, 2), "server_cpu_ms_per_request": round(cpu * 1000 / max(1, requests), 1),
            "load_before": load_before, "load_after": load_after,
            "wall_s": round(wall, 1), "server_log": log}


def _log_tail(server: _Server) -> list[str]:
    """What the server said besides starting (a worker restarted, a traceback): last lines."""
    quiet = ("Started server", "Waiting for application", "Application startup", "Uvicorn running",
             "Started parent", "Started reloader", "Portail Famille")
    return [line for line in server.errors().splitlines() if not any(q in line for q in quiet)][-6:]


def portal_pages_200(base) -> dict:
    return _pages(base, "sqlite")


def portal_pages_200_pg(base) -> dict:
    return _pages(base, "postgresql")


def portal_september_rush(base) -> dict:
    return _rush(base, "sqlite")


def portal_september_rush_pg(base) -> dict:
    return _rush(base, "postgresql")


FIGURES = {"portal_pages_200": portal_pages_200, "portal_september_rush": portal_september_rush,
           "portal_pages_200_pg": portal_pages_200_pg, "portal_september_rush_pg": portal_september_rush_pg}
