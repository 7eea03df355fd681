"""Prepare and issue at several sizes: `python bench/prepare_scale.py [--sizes 2000 8000] [--db FILE] [--profile]`.

Issue 14's targets: prepare a month for 8,000 families ≤ 3 s; issue with PDFs ≤ 1.2× the same
drawing code (`pdf.invoice.render_invoices` of the same documents) run without the database.
Each size uses the cached demo base of bench/base.py (built on first use, a few minutes at 8,000
families) unless `--db` names a copy to use. Prints figures, never passes or fails on a timing.
`--profile` prints the top of a cProfile of one prepare instead.
"""

from __future__ import annotations

import argparse
import cProfile
import pstats
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from base import FIXED_NOW, BenchBase  # noqa: E402
from bench_invoicing import MONTH, _docs_of, _supervisor, change_one_cell, first_prepare  # noqa: E402

RUNS = 3
ISSUE_N = 300


def _desk(path: str, tmp: Path, name: str):
    from gandrange_desk.db import make_engine
    from gandrange_desk.services.context import Desk

    from gandrange_desk.services.system import schema

    target = tmp / name
    shutil.copyfile(path, target)
    engine = make_engine(f"sqlite:///{target}")
    schema.upgrade(engine)  # a base built before the newest migration
    return Desk(engine, _supervisor(), lambda: FIXED_NOW)


def prepare_figure(path: str, tmp: Path, profile: bool = False) -> dict:
    from gandrange_desk.services.billing import invoicing

    desk = _desk(path, tmp, "prepare.sqlite3")
    # Warm: imports, the file in the page cache, and the drafts' keys (`billing.draft_keys`): the
    # runs below prepare again a month that did not change since.
    invoicing.prepare(desk, MONTH)
    if profile:
        prof = cProfile.Profile()
        prof.enable()
        invoicing.prepare(desk, MONTH)
        prof.disable()
        pstats.Stats(prof).sort_stats("cumulative").print_stats(35)
        pstats.Stats(prof).sort_stats("tottime").print_stats(25)
    wall, cpu, result = [], [], None
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = invoicing.prepare(desk, MONTH)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    change_one_cell(desk)  # then one family's draft to build again (`billing.draft_keys`)
    started, started_cpu = time.perf_counter(), time.process_time()
    invoicing.prepare(desk, MONTH)
    one = {"one_cell_changed_ms": round((time.perf_counter() - started) * 1000, 1),
           "one_cell_changed_cpu_ms": round((time.process_time() - started_cpu) * 1000, 1)}
    # A month's first prepare: its drafts deleted, every draft built and written.
    one["first_prepare_ms"], one["first_prepare_cpu_ms"] = first_prepare(desk)
    desk.engine.dispose()
    (tmp / "prepare.sqlite3").unlink(missing_ok=True)
    ms = statistics.median(wall) * 1000
    return {"prepare_ms": round(ms, 1), "prepare_cpu_ms": round(statistics.median(cpu) * 1000, 1), **one,
            "invoices": result.invoices, "regularisations": result.regularisations,
            "per_invoice_ms": round(ms / max(result.invoices, 1), 3)}


def issue_figure(path: str, tmp: Path) -> dict:
    """issue() of ISSUE_N drafts against render_invoices() of the same documents, no database.

    One warm-up run first (not counted): the first issue of a process pays imports (holidays,
    pypdf) and the font measures the drawing alone would then find cached; every counted run
    starts from the same warm process for both. CPU time is given beside wall time: on the
    shared machine the wall time mostly measures the neighbours."""
    from sqlalchemy import delete, select

    from gandrange_desk.models import DraftDay, Invoice, InvoiceLine
    from gandrange_desk.services.billing import invoicing
    from gandrange_desk.services.pdf.invoice import render_invoices

    issue_s, draw_s, issue_cpu, draw_cpu = [], [], [], []
    for run in range(RUNS + 1):
        desk = _desk(path, tmp, f"issue-{run}.sqlite3")
        invoicing.prepare(desk, MONTH)
        with desk.unit_of_work() as s:
            keep = s.execute(select(Invoice.id).where(Invoice.month == MONTH, Invoice.status == "draft")
                             .order_by(Invoice.id).limit(ISSUE_N)).scalars().all()
            drop = select(Invoice.id).where(Invoice.month == MONTH, Invoice.status == "draft",
                                            Invoice.id.not_in(keep))
            s.execute(delete(DraftDay).where(DraftDay.invoice_id.in_(drop)))
            s.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(drop)))
            s.execute(delete(Invoice).where(Invoice.id.in_(drop)))
        started, started_cpu = time.perf_counter(), time.process_time()
        invoicing.issue(desk, MONTH)
        wall, cpu = time.perf_counter() - started, time.process_time() - started_cpu
        docs = _docs_of(desk, keep)
        started, started_cpu = time.perf_counter(), time.process_time()
        render_invoices(docs)
        if run:
            issue_s.append(wall)
            issue_cpu.append(cpu)
            draw_s.append(time.perf_counter() - started)
            draw_cpu.append(time.process_time() - started_cpu)
        desk.engine.dispose()
        (tmp / f"issue-{run}.sqlite3").unlink(missing_ok=True)
    issue, draw = statistics.median(issue_s), statistics.median(draw_s)
    i_cpu, d_cpu = statistics.median(issue_cpu), statistics.median(draw_cpu)
    return {"issue_ms": round(issue * 1000, 1), "drawing_alone_ms": round(draw * 1000, 1),
            "issue_ratio": round(issue / draw, 3), "issue_cpu_ms": round(i_cpu * 1000, 1),
            "drawing_alone_cpu_ms": round(d_cpu * 1000, 1), "issue_ratio_cpu": round(i_cpu / d_cpu, 3)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="*", default=[2000, 8000])
    parser.add_argument("--db", help="use this base instead of the cached demo one (one size)")
    parser.add_argument("--profile", action="store_true")
    parser.add_argument("--no-issue", action="store_true")
    args = parser.parse_args(argv)
    bases = [("db", args.db)] if args.db else [(n, str(BenchBase(families=n).path)) for n in args.sizes]
    for size, path in bases:
        with tempfile.TemporaryDirectory(prefix="prepare-scale-") as tmp:
            out = prepare_figure(path, Path(tmp), args.profile)
            if not args.no_issue and not args.profile:
                out.update(issue_figure(path, Path(tmp)))
        print(f"{size}: " + ", ".join(f"{k} {v}" for k, v in out.items()), flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
