"""The families' portal under load, on a copy of the 2,000-family base (SQLite, one uvicorn worker
in its own process, as `portal serve` runs it; the clients are threads of this process).

- `portal_pages_200`: 200 families at once, each signed in, open Accueil, Mes réservations,
  Réservations sur période, Factures et documents, Ma famille; p95 of those page times (the
  sign-in is argon2 on purpose: its own p95 is reported beside), and the error count.
- `portal_september_rush`: N families (GANDRANGE_BENCH_RUSH, default 500; the issue's 2,000 take
  several minutes here), 50 at a time, each sign in and book a period (Mondays and Thursdays of
  January 2027, Repas); p95 of RÉSERVER, errors, and every request created once and decided
  once by the desk's « accept all » afterwards.
Run alone: `python bench/run.py --only portal`.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

PASSWORD = "Banc-d-essai-2026"
PAGES = ("/accueil", "/reservations", "/reservations/periode", "/factures", "/famille")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


def _p95(values: list[float]) -> float:
    values = sorted(values)
    return values[max(0, int(round(0.95 * len(values))) - 1)] if values else 0.0


def _accounts(desk, n: int) -> list[tuple[str, int, int, int]]:
    """n families with an active portal account (one argon2 hash shared: building the bench
    must not take 2,000 hashes); (login, family id, first child id, repas unit id)."""
    from argon2 import PasswordHasher
    from sqlalchemy import select

    from gandrange_desk.models import Activity, Child, Family, PortalState, Unit

    password_hash = PasswordHasher().hash(PASSWORD)
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


class _Server:
    """`gandrange-desk portal serve` on a copy of the base, in its own process."""

    def __init__(self, url: str):
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        self.port = sock.getsockname()[1]
        sock.close()
        env = {**os.environ, "GANDRANGE_DESK_PORTAL_SECRET": "banc-d-essai", "PYTHONUNBUFFERED": "1"}
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "gandrange_desk", "--db", url, "portal", "serve", "--http-local",
             "--port", str(self.port)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            cwd=Path(__file__).resolve().parents[1])
        self.url = f"http://127.0.0.1:{self.port}"

    def __enter__(self):
        import httpx

        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(self.proc.stderr.read().decode(errors="replace")[-2000:])
            try:
                httpx.get(self.url + "/connexion", timeout=2)
                return self
            except httpx.HTTPError:
                time.sleep(0.2)
        raise RuntimeError("portal did not start")

    def __exit__(self, *exc):
        self.proc.terminate()
        self.proc.wait(20)


class _Family:
    def __init__(self, url: str, login: str):
        import httpx

        self.http = httpx.Client(base_url=url, timeout=60, follow_redirects=False)
        self.login = login
        self.times: dict[str, list[float]] = {}
        self.errors: list[str] = []

    def timed(self, what: str, method: str, path: str, **kw):
        started = time.perf_counter()
        try:
            r = self.http.request(method, path, **kw)
        except Exception as exc:  # noqa: BLE001 - a bench counts every failure
            self.errors.append(f"{what}: {type(exc).__name__}")
            return None
        self.times.setdefault(what, []).append((time.perf_counter() - started) * 1000)
        if r.status_code >= 500 or r.status_code in (403, 404):
            self.errors.append(f"{what}: HTTP {r.status_code}")
        return r

    def token(self, path: str) -> str:
        r = self.timed("page", "GET", path)
        match = _CSRF.search(r.text) if r is not None else None
        return match.group(1) if match else ""

    def sign_in(self) -> bool:
        csrf = self.token("/connexion")
        r = self.timed("connexion", "POST", "/connexion",
                       data={"csrf": csrf, "identifiant": self.login, "mot_de_passe": PASSWORD})
        ok = r is not None and r.headers.get("location") == "/accueil"
        if not ok:
            self.errors.append(f"connexion refusée ({r.status_code if r is not None else '-'})")
        return ok

    def close(self):
        self.http.close()


def _run(families: list[_Family], work, concurrency: int) -> None:
    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="bench-family") as pool:
        list(pool.map(work, families))
    for f in families:
        f.close()


def _merge(families: list[_Family], what: str) -> list[float]:
    return [t for f in families for t in f.times.get(what, [])]


def portal_pages_200(base) -> dict:
    desk = base.fresh_desk()
    accounts = _accounts(desk, 200)
    with _Server(desk.engine.url.render_as_string(hide_password=False)) as server:
        families = [_Family(server.url, login) for login, *_ in accounts]
        barrier = threading.Barrier(len(families), timeout=120)

        def visit(f: _Family):
            signed = f.sign_in()
            try:
                barrier.wait()  # every family through its sign-in: now all at once
            except threading.BrokenBarrierError:
                f.errors.append("barrière")
            if signed:
                for path in PAGES:
                    f.timed("page", "GET", path)

        started = time.perf_counter()
        _run(families, visit, len(families))
        wall = time.perf_counter() - started
    pages = _merge(families, "page")
    errors = sum(len(f.errors) for f in families)
    return {"value": round(_p95(pages), 1), "unit": "ms", "target": "p95 ≤ 150 ms, no error",
            "errors": errors, "first_errors": sorted({e for f in families for e in f.errors})[:5], "pages": len(pages), "families": len(families),
            "sign_in_p95_ms": round(_p95(_merge(families, "connexion")), 1), "wall_s": round(wall, 1)}


def portal_september_rush(base) -> dict:
    from sqlalchemy import func, select

    from gandrange_desk.models import Request, RequestStatus
    from gandrange_desk.services import queue

    n = int(os.environ.get("GANDRANGE_BENCH_RUSH", "500"))
    desk = base.fresh_desk()
    accounts = _accounts(desk, n)
    with desk.read() as s:
        before = s.scalar(select(func.max(Request.id))) or 0
    with _Server(desk.engine.url.render_as_string(hide_password=False)) as server:
        families = [_Family(server.url, login) for login, *_ in accounts]
        plan = {login: (child, repas) for login, _fid, child, repas in accounts}
        asked: list[int] = []

        def rush(f: _Family):
            if not f.sign_in():
                return
            child, repas = plan[f.login]
            csrf = f.token("/reservations/periode")
            r = f.timed("reserver", "POST", "/reservations/periode", data={
                "csrf": csrf, "enfant": str(child), "structure": str(repas), "debut": "2027-01-04",
                "fin": "2027-01-29", "semaines": "all", "jour": ["0", "3"], "action": "reserver"})
            if r is not None:
                m = re.search(r"(\d+) demandes? de réservation envoyées?", r.text)
                if m:
                    asked.append(int(m.group(1)))
                elif "Aucune case" not in r.text:
                    f.errors.append(f"réserver: HTTP {r.status_code}")

        started = time.perf_counter()
        _run(families, rush, 50)
        wall = time.perf_counter() - started
    ours = Request.id > before
    with desk.read() as s:
        created = s.scalar(select(func.count()).select_from(Request).where(ours))
        ids = s.execute(select(Request.id).where(ours, Request.status == RequestStatus.PENDING)).scalars().all()
    queue.accept(desk, ids)
    with desk.read() as s:
        accepted = s.scalar(select(func.count()).select_from(Request).where(ours, Request.status == RequestStatus.ACCEPTED))
        still = s.scalar(select(func.count()).select_from(Request).where(ours, Request.status == RequestStatus.PENDING))
    reserver = _merge(families, "reserver")
    return {"value": round(_p95(reserver), 1), "unit": "ms", "target": "p95 ≤ 150 ms, no error, decided once",
            "errors": sum(len(f.errors) for f in families), "families": len(families),
            "first_errors": sorted({e for f in families for e in f.errors})[:5],
            "requests_asked": sum(asked), "requests_created": created, "accepted": accepted,
            "left_pending": still,
            "sign_in_p95_ms": round(_p95(_merge(families, "connexion")), 1), "wall_s": round(wall, 1)}


FIGURES = {"portal_pages_200": portal_pages_200, "portal_september_rush": portal_september_rush}
