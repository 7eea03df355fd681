"""Per-request CPU of the portal's pages, RÉSERVER and sign-in, in process (issue 15).

    python bench/profile_portal.py [--rounds 60] [--profile PAGE] [--top 25]

On a private copy of the 2,000-family bench base: the Starlette app is called directly as ASGI
(a hand-made scope, no HTTP client and no server: what is measured is the application, its
services and SQLAlchemy/SQLite, in the same process). Each page is asked `rounds` times by
signed-in families taken in turn; the figure is the median and p90 of CPU time per request
(time.process_time: every thread of this process, the thread pool included) and the number of
SQL statements it sent. RÉSERVER books Mondays and Thursdays of January 2027 (Repas) for a
different family each time, as the rush does; sign-in signs a different family in each time
(argon2id included). `--profile NAME` runs cProfile over that page's requests and prints the
top functions by cumulative and own time. Prints figures; nothing passes or fails.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import os
import pstats
import re
import statistics
import sys
import time
from http.cookies import SimpleCookie
from pathlib import Path
from urllib.parse import urlencode

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))
if os.environ.get("PROFILE_CODE"):  # another checkout's package (before/after back to back)
    sys.meta_path[:] = [f for f in sys.meta_path if "editable" not in repr(f).lower()]
    sys.path.insert(0, os.environ["PROFILE_CODE"])

from base import BenchBase  # noqa: E402
from bench_portal import PASSWORD, _accounts  # noqa: E402

PAGES = ("/accueil", "/reservations", "/reservations/periode", "/factures", "/famille", "/compte",
         "/telechargements")
_CSRF = re.compile(r'name="csrf" value="([^"]+)"')


class Client:
    """One family's browser, as bare ASGI calls (cookies kept)."""

    def __init__(self, app):
        self.app, self.cookies = app, {}

    async def call(self, method: str, path: str, data: list[tuple[str, str]] | None = None):
        body = urlencode(data or []).encode()
        headers = [(b"host", b"testserver")]
        if self.cookies:
            headers.append((b"cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items()).encode()))
        if method == "POST":
            headers += [(b"content-type", b"application/x-www-form-urlencoded"),
                        (b"content-length", str(len(body)).encode())]
        raw_path, _, query = path.partition("?")
        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": method,
                 "scheme": "http", "path": raw_path, "raw_path": raw_path.encode(), "query_string": query.encode(),
                 "root_path": "", "headers": headers, "client": ("127.0.0.1", 5000), "server": ("testserver", 80)}
        sent = False
        out = {"status": 0, "headers": [], "body": b""}

        async def receive():
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(3600)

        async def send(message):
            if message["type"] == "http.response.start":
                out["status"], out["headers"] = message["status"], message.get("headers", [])
            elif message["type"] == "http.response.body":
                out["body"] += message.get("body", b"")

        await self.app(scope, receive, send)
        for k, v in out["headers"]:
            if k.lower() == b"set-cookie":
                c = SimpleCookie()
                c.load(v.decode("latin-1"))
                for name, morsel in c.items():
                    if morsel.value and "1970" not in morsel.get("expires", ""):
                        self.cookies[name] = morsel.value
                    else:
                        self.cookies.pop(name, None)
        out["text"] = out["body"].decode("utf-8", "replace")
        return out

    async def csrf(self, path: str) -> str:
        r = await self.call("GET", path)
        m = _CSRF.search(r["text"])
        return m.group(1) if m else ""

    async def sign_in(self, login: str) -> dict:
        token = await self.csrf("/connexion")
        return await self.call("POST", "/connexion", [("csrf", token), ("identifiant", login),
                                                     ("mot_de_passe", PASSWORD)])


class Statements:
    def __init__(self, engine):
        from sqlalchemy import event

        self.n, self.last = 0, []
        event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, _conn, _cursor, statement, *_a, **_k):
        self.n += 1
        self.last.append(" ".join(statement.split())[:150])


def _figure(cpu: list[float], sql: list[int]) -> dict:
    cpu = sorted(cpu)
    return {"cpu_ms_median": round(statistics.median(cpu), 2),
            "cpu_ms_p90": round(cpu[int(0.9 * (len(cpu) - 1))], 2),
            "sql_per_request": round(statistics.mean(sql), 1), "n": len(cpu)}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=60)
    parser.add_argument("--profile", default="")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--sql", action="store_true", help="print the statements of each figure's last request")
    parser.add_argument("--only", default="", help="comma-separated page paths, 'reserver', 'connexion'")
    args = parser.parse_args()
    import gandrange_desk
    print("code :", Path(gandrange_desk.__file__).parent)

    from gandrange_desk.portal.app import PortalConfig, create_app

    base = BenchBase(quiet=True)
    desk = base.fresh_desk()
    families = _accounts(desk, max(60, args.rounds) * 2 + 20)
    app = create_app(desk, PortalConfig(secret="banc-d-essai", secure_cookies=False))
    stmts = Statements(desk.engine)
    wanted = set(filter(None, args.only.split(",")))
    results: dict[str, dict] = {}
    profiler = cProfile.Profile() if args.profile else None
    if profiler is not None:
        # cProfile sees only its own thread: while profiling, the service calls run inline
        # (the thread hop's own cost is then left out of the profile, not of the figures above).
        import importlib

        async def inline(fn, *a, **k):
            return fn(*a, **k)

        for name in ("app", "account_pages", "documents"):
            module = importlib.import_module(f"gandrange_desk.portal.{name}")
            if hasattr(module, "run_in_threadpool"):
                module.run_in_threadpool = inline

    async def measure(name: str, make):
        """make(i) -> coroutine doing the request i; warm-up first, then `rounds` timed."""
        if wanted and name not in wanted:
            return
        for i in range(3):
            await make(i, warm=True)
        cpu, sql = [], []
        for i in range(args.rounds):
            before_n, before = stmts.n, time.process_time()
            stmts.last = []
            if profiler is not None and args.profile == name:
                profiler.enable()
            await make(i, warm=False)
            if profiler is not None:
                profiler.disable()
            cpu.append((time.process_time() - before) * 1000)
            sql.append(stmts.n - before_n)
        results[name] = _figure(cpu, sql)
        if args.sql:
            print(f"--- {name}", *stmts.last, sep="\n  ")

    async def run():
        readers = []
        for login, *_ in families[:10]:
            c = Client(app)
            r = await c.sign_in(login)
            assert r["status"] == 303 and dict(r["headers"]).get(b"location") == b"/accueil", r["status"]
            readers.append(c)
        for page in PAGES:
            async def one(i, warm, page=page):
                r = await readers[i % len(readers)].call("GET", page)
                assert r["status"] == 200, (page, r["status"])
            await measure(page, one)

        # RÉSERVER: a different family each time (the rush's form), signed in beforehand.
        bookers = families[10:10 + args.rounds + 3]
        booking_clients = []
        for login, *_ in bookers:
            c = Client(app)
            await c.sign_in(login)
            booking_clients.append((c, await c.csrf("/reservations/periode")))

        async def reserve(i, warm):
            c, token = booking_clients[i if warm else i + 3]
            _login, _fid, child, repas = bookers[i if warm else i + 3]
            r = await c.call("POST", "/reservations/periode", [
                ("csrf", token), ("enfant", str(child)), ("structure", str(repas)), ("debut", "2027-01-04"),
                ("fin", "2027-01-29"), ("semaines", "all"), ("jour", "0"), ("jour", "3"), ("action", "reserver")])
            assert r["status"] == 200 and "demandes de réservation envoyées" in r["text"], r["text"][-800:]
        await measure("reserver", reserve)

        # Sign-in: the POST alone (its form's GET before it, not timed); a new family each time.
        signers = families[10 + args.rounds + 3:10 + 2 * args.rounds + 6]
        if not wanted or "connexion" in wanted:
            cpu, sql = [], []
            for i, (login, *_rest) in enumerate(signers):
                c = Client(app)
                token = await c.csrf("/connexion")
                before_n, before = stmts.n, time.process_time()
                stmts.last = []
                if profiler is not None and args.profile == "connexion" and i >= 3:
                    profiler.enable()
                r = await c.call("POST", "/connexion", [("csrf", token), ("identifiant", login),
                                                        ("mot_de_passe", PASSWORD)])
                if profiler is not None:
                    profiler.disable()
                assert r["status"] == 303, r["status"]
                if i >= 3:
                    cpu.append((time.process_time() - before) * 1000)
                    sql.append(stmts.n - before_n)
            results["connexion"] = _figure(cpu, sql)
            if args.sql:
                print("--- connexion", *stmts.last, sep="\n  ")

    load = os.getloadavg()[0]
    asyncio.run(run())
    print(f"charge avant / après : {load:.2f} / {os.getloadavg()[0]:.2f}")
    print(f"{'requête':<24}{'CPU médiane ms':>16}{'CPU p90 ms':>12}{'SQL':>6}")
    for name, fig in results.items():
        print(f"{name:<24}{fig['cpu_ms_median']:>16}{fig['cpu_ms_p90']:>12}{fig['sql_per_request']:>6}")
    if profiler is not None:
        stats = pstats.Stats(profiler)
        stats.sort_stats("cumulative").print_stats(args.top)
        stats.sort_stats("tottime").print_stats(args.top)


if __name__ == "__main__":
    main()
