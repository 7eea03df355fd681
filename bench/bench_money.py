"""Money after issue (issue 12): regularisations and printing.

- invoices_prepare_with_regularisations: `invoicing.prepare` of November on the 2,000-family base
  after half of the families had one change in an issued month (September or October): a day
  booked, a day cancelled (excusée), a booking turned late (surcharge), or a quotient entered
  late, back-dated to 1 September. Every earlier month's billed days are compared with the grid.
  Median of several runs (prepare is re-runnable). Target ≤ 3 s.
- print_month_250_pages: the first issued invoices of the last issued month, about 250 pages,
  printed as one PDF on a PDF printer of a private CUPS server (cups-pdf), from a separate
  process: time until CUPS has printed it, the printing process's peak memory, the size of what
  was sent and of what came out. Also the month's pages per invoice (the stub on page 1).
  Needs root and `cups`, `printer-driver-cups-pdf`, `poppler-utils`; says why when it cannot run.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

MONTH = date(2026, 11, 1)
RUNS = 3
TARGET_PAGES = 250


def _supervisor():
    from gandrange_desk.services.context import Actor

    return Actor("nbecker", "Nathalie Becker", "responsable")


def _one_change_each(desk) -> dict:
    """One change in an issued month for every other family (written as the services would)."""
    from datetime import datetime, timedelta

    from sqlalchemy import delete, func, insert, select, update

    from gandrange_desk.clock import PARIS
    from gandrange_desk.models import BilledDay, Booking, Child, Invoice, InvoiceStatus, QuotientRecord

    counts = {"booked": 0, "cancelled": 0, "late": 0, "quotient": 0}
    when = datetime(2026, 11, 20, 10, 0, tzinfo=PARIS)
    with desk.unit_of_work() as s:
        months = sorted(s.scalars(select(Invoice.month).distinct().where(Invoice.status == InvoiceStatus.ISSUED)))
        first, last = months[0], date(months[-1].year, months[-1].month, 28)
        family_ids = sorted(s.scalars(select(Invoice.family_id).distinct().where(
            Invoice.status == InvoiceStatus.ISSUED)))[::2]
        cells = {}
        for child_id, family_id, booking_id, unit_id, day in s.execute(
                select(Booking.child_id, Child.family_id, Booking.id, Booking.unit_id, Booking.day)
                .join(Child, Child.id == Booking.child_id)
                .where(Booking.day >= first, Booking.day <= last, Booking.state == "R", Booking.late.is_(False))
                .order_by(Booking.id)):
            cells.setdefault(family_id, (child_id, booking_id, unit_id, day))
        taken = {(c, u, d) for c, u, d in s.execute(select(Booking.child_id, Booking.unit_id, Booking.day).where(
            Booking.day >= first, Booking.day <= last + timedelta(days=7)))}
        removed, late, added, quotients = [], [], [], []
        for n, family_id in enumerate(family_ids):
            found = cells.get(family_id)
            if found is None:
                continue
            child_id, booking_id, unit_id, day = found
            kind = n % 4
            if kind == 0:
                removed.append(booking_id)
            elif kind == 1:
                late.append(booking_id)
            elif kind == 2:
                # The same weekday another week of the month: open when that one was.
                free = [day + timedelta(days=k) for k in (7, -7, 14, -14, 21, -21)
                        if (day + timedelta(days=k)).month == day.month
                        and (child_id, unit_id, day + timedelta(days=k)) not in taken]
                if free:
                    taken.add((child_id, unit_id, free[0]))
                    added.append({"child_id": child_id, "unit_id": unit_id, "day": free[0], "state": "R",
                                  "late": False, "updated_at": when, "updated_by": "bench"})
                else:
                    removed.append(booking_id)
            else:
                quotients.append({"family_id": family_id, "value": 480, "valid_from": date(2026, 9, 1)})
        s.execute(delete(Booking).where(Booking.id.in_(removed)))
        s.execute(update(Booking).where(Booking.id.in_(late)).values(late=True, updated_at=when))
        if added:
            s.execute(insert(Booking), added)
        if quotients:
            s.execute(insert(QuotientRecord), quotients)
        counts.update(cancelled=len(removed), late=len(late), booked=len(added), quotient=len(quotients))
        counts["families"] = sum(counts.values())
        counts["billed_days"] = s.scalar(select(func.count()).select_from(BilledDay))
    return counts


def prepare_with_regularisations(base) -> dict:
    from gandrange_desk.db import make_engine
    from gandrange_desk.services.billing import invoicing
    from gandrange_desk.services.context import Desk

    desk = Desk(make_engine(base.fresh_copy()), _supervisor(), base.now)
    changes = _one_change_each(desk)
    times, cpu, result = [], [], None
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = invoicing.prepare(desk, MONTH)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    value = statistics.median(times) * 1000
    desk.engine.dispose()
    return {"value": round(value, 1), "unit": "ms", "target": "≤ 3000 ms", "ok": value <= 3000,
            "invoices": result.invoices, "regularisation_lines": result.regularisations,
            "changed_families": changes["families"], "changes": changes,
            "runs_ms": [round(t * 1000, 1) for t in times], "cpu_ms": round(statistics.median(cpu) * 1000, 1)}


_PRINTER_SCRIPT = r"""
import json, sys, time
sys.path.insert(0, sys.argv[1])
from gandrange_desk.services.pdf import spool
data = open(sys.argv[2], "rb").read()
started = time.perf_counter()
job = spool.spool_pdf(data, printer=sys.argv[3], title="Factures banc d'essai", wait_seconds=1800)
# VmHWM, not ru_maxrss: Linux carries the parent's high-water mark over fork and exec.
peak = next(int(line.split()[1]) for line in open("/proc/self/status") if line.startswith("VmHWM:"))
print(json.dumps({"seconds": time.perf_counter() - started, "done": job.done, "job": job.job_id,
                  "pages": job.pages, "max_rss_kb": peak}))
"""


def print_month(base) -> dict:
    from io import BytesIO

    from pypdf import PdfReader
    from sqlalchemy import func, select

    from gandrange_desk.models import Invoice, InvoiceStatus
    from gandrange_desk.services.pdf.base import merge_pdfs

    root = Path(__file__).resolve().parent.parent
    sys.path.insert(0, str(root))
    from tests.cups_server import CupsServer, unavailable

    desk = base.desk()
    with desk.read() as s:
        month = s.scalar(select(func.max(Invoice.month)).where(Invoice.status == InvoiceStatus.ISSUED))
        pdfs = s.scalars(select(Invoice.pdf).where(Invoice.month == month, Invoice.status == InvoiceStatus.ISSUED)
                         .order_by(Invoice.number)).all()
    month_pages = sum(len(PdfReader(BytesIO(p)).pages) for p in pdfs)
    chosen, pages = [], 0
    for pdf in pdfs:
        if pages >= TARGET_PAGES:
            break
        chosen.append(pdf)
        pages += len(PdfReader(BytesIO(pdf)).pages)
    merged = merge_pdfs(chosen)
    desk.engine.dispose()
    facts = {"month_invoices": len(pdfs), "month_pages": month_pages,
             "pages_per_invoice": round(month_pages / max(1, len(pdfs)), 3)}
    why = unavailable()
    if why:
        print(f"  impression non mesurée : {why}", file=sys.stderr, flush=True)
        return {"value": None, "unit": "s", "note": why, **facts}
    server = CupsServer().start()
    try:
        queue = server.add_pdf_printer("GandrangeBench", "pdftops-renderer-default=pdftocairo")
        path = server.root / "month.pdf"
        path.write_bytes(merged)
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-c", _PRINTER_SCRIPT, str(root), str(path), queue],
                              env={**os.environ, "CUPS_SERVER": str(server.socket)}, capture_output=True,
                              text=True, timeout=3600)
        if done.returncode != 0:
            raise RuntimeError(done.stderr.strip()[-500:])
        measured = json.loads(done.stdout.strip().splitlines()[-1])
        printed = server.printed(measured["job"], timeout=600)
        total = time.perf_counter() - started
        out_pages = len(PdfReader(str(printed)).pages)
        result = {"value": round(total, 1), "unit": "s", "target": "off the UI thread, vector PDF",
                  "pages": measured["pages"], "printed_pages": out_pages, "invoices": len(chosen),
                  "printing_process_peak_rss_mb": round(measured["max_rss_kb"] / 1024, 1),
                  "sent_kb": round(len(merged) / 1024, 1), "printed_kb": round(printed.stat().st_size / 1024, 1),
                  "spool_call_s": round(measured["seconds"], 1), **facts}
        print(f"  {measured['pages']} pages ({len(chosen)} factures) imprimées en {total:.1f} s ; mémoire maximale "
              f"du processus d'impression {result['printing_process_peak_rss_mb']} Mo ; envoyé "
              f"{result['sent_kb']} ko, sorti {result['printed_kb']} ko ; mois : {month_pages} pages pour "
              f"{len(pdfs)} factures", file=sys.stderr, flush=True)
        return result
    finally:
        server.stop()


FIGURES = {"invoices_prepare_with_regularisations": prepare_with_regularisations,
           "print_month_250_pages": print_month}
