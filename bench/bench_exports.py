"""Spreadsheet export figures (issue 16) on the 2,000-family base:

- export_grid_month: the reservation grid of the biggest site (the élémentaire, the three
  périscolaire units) for its busiest past month, as XLSX and as CSV — time and file size;
- export_invoices_year: a year of invoices of the 2,000 families (the base's issued months,
  replicated over the twelve months of a year on a throw-away copy) as XLSX and CSV;
- caf_report_school_year: the CAF report of the school year so far (every activity), built and
  written as XLSX;
- day_lists_pdf: the day's lists and kitchen count of a busy school day, as the printed PDF.

Medians of a few runs; the file sizes are those of the last run. Nothing here passes or fails.
"""

from __future__ import annotations

import statistics
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import func, insert, select

RUNS = 3
YEAR = 2025  # the replicated invoices' year: before the demo's school year, so no clash


CPU: dict[str, float] = {}  # the last measure's CPU time: on a shared machine, wall time measures the neighbours


def _median_ms(fn, runs: int = RUNS) -> tuple[float, object]:
    times, cpu, result = [], [], None
    for _ in range(runs):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
        cpu.append((time.process_time() - started_cpu) * 1000)
    CPU["last"] = round(statistics.median(cpu), 1)
    return round(statistics.median(times), 1), result


def _site(desk):
    from gandrange_desk.models import Activity, School

    with desk.read() as s:
        school_id = s.execute(select(School.id).where(School.name == "École élémentaire")).scalar_one()
        activity_id = s.execute(select(Activity.id).where(Activity.code == "PERISCOLAIRE")).scalar_one()
    return school_id, activity_id


def _busiest_month(base) -> date:
    try:
        from bench_foundation import site_month

        return site_month(base)["first"]
    except Exception:  # the foundation bench missing: the month before the base's today
        today = base.now().date()
        return (today.replace(day=1) - timedelta(days=1)).replace(day=1)


def export_grid_month(base) -> dict:
    from gandrange_desk.services.exports import lists

    desk = base.desk()
    school_id, activity_id = _site(desk)
    month = _busiest_month(base)
    out = Path(tempfile.mkdtemp(prefix="bench-export-"))
    figures = {}
    for fmt in ("xlsx", "csv"):
        path = out / f"grille.{fmt}"
        ms, result = _median_ms(lambda: lists.export(desk, "grid", path, month=month, activity_id=activity_id,
                                                     school_id=school_id))
        figures[fmt] = (ms, result.size, result.rows, CPU["last"])
    build_ms, tables = _median_ms(lambda: lists.build(desk, "grid", month=month, activity_id=activity_id,
                                                      school_id=school_id))
    desk.engine.dispose()
    columns = len(tables[0].columns)
    return {"value": figures["xlsx"][0], "unit": "ms", "target": "none set (XLSX of the biggest site's month)",
            "xlsx_kb": round(figures["xlsx"][1] / 1024, 1), "xlsx_cpu_ms": figures["xlsx"][3],
            "csv_ms": figures["csv"][0], "csv_cpu_ms": figures["csv"][3],
            "csv_kb": round(figures["csv"][1] / 1024, 1), "read_and_build_ms": build_ms,
            "children": figures["xlsx"][2], "columns": columns, "cells": figures["xlsx"][2] * columns,
            "month": month.strftime("%Y-%m"), "runs": RUNS}


def _replicate_year(desk) -> int:
    """Copy the base's first issued month over the twelve months of YEAR: 2,000 families' year."""
    from gandrange_desk.models import Invoice, InvoiceLine, InvoiceStatus

    with desk.unit_of_work() as s:
        source = s.execute(select(func.min(Invoice.month)).where(Invoice.status == InvoiceStatus.ISSUED)).scalar_one()
        invoices = s.execute(select(Invoice.__table__).where(Invoice.month == source,
                                                             Invoice.status == InvoiceStatus.ISSUED)).mappings().all()
        lines = s.execute(select(InvoiceLine.__table__).where(InvoiceLine.invoice_id.in_(
            select(Invoice.id).where(Invoice.month == source)))).mappings().all()
        lines_of: dict[int, list] = {}
        for line in lines:
            lines_of.setdefault(line["invoice_id"], []).append(line)
        number = 0
        made = 0
        for m in range(1, 13):
            month = date(YEAR, m, 1)
            rows = []
            for inv in invoices:
                number += 1
                row = {k: v for k, v in inv.items() if k not in ("id", "pdf")}
                row.update(month=month, number=f"{YEAR}-{number:06d}", issue_date=month + timedelta(days=33),
                           due_date=month + timedelta(days=63))
                rows.append(row)
            s.execute(insert(Invoice.__table__), rows)
            ids = dict(s.execute(select(Invoice.family_id, Invoice.id).where(Invoice.month == month)).all())
            new_lines = []
            for inv in invoices:
                for line in lines_of.get(inv["id"], []):
                    copy = {k: v for k, v in line.items() if k != "id"}
                    copy["invoice_id"] = ids[inv["family_id"]]
                    new_lines.append(copy)
            s.execute(insert(InvoiceLine.__table__), new_lines)
            made += len(rows)
    return made


def export_invoices_year(base) -> dict:
    from gandrange_desk.services.exports import lists

    desk = base.fresh_desk()
    invoices = _replicate_year(desk)
    out = Path(tempfile.mkdtemp(prefix="bench-export-"))
    figures = {}
    for fmt in ("xlsx", "csv"):
        path = out / f"factures.{fmt}"
        ms, result = _median_ms(lambda: lists.export(desk, "invoices", path, year=YEAR))
        figures[fmt] = (ms, result.size, result.rows, CPU["last"])
    build_ms, _tables = _median_ms(lambda: lists.build(desk, "invoices", year=YEAR))
    desk.engine.dispose()
    return {"value": figures["xlsx"][0], "unit": "ms", "target": "none set (a year of 2,000 families)",
            "invoices": figures["xlsx"][2], "replicated": invoices, "xlsx_kb": round(figures["xlsx"][1] / 1024, 1),
            "xlsx_cpu_ms": figures["xlsx"][3], "csv_ms": figures["csv"][0], "csv_cpu_ms": figures["csv"][3],
            "csv_kb": round(figures["csv"][1] / 1024, 1),
            "read_and_build_ms": build_ms, "runs": RUNS}


def caf_report_school_year(base) -> dict:
    from gandrange_desk.services.context import Actor
    from gandrange_desk.services.exports.lists import export_tables
    from gandrange_desk.services.reports.caf import caf_report, caf_tables

    desk = base.desk(Actor("nbecker", "Nathalie Becker", "responsable"))
    today = desk.today()
    start = date(today.year if today.month >= 9 else today.year - 1, 9, 1)
    out = Path(tempfile.mkdtemp(prefix="bench-caf-")) / "caf.xlsx"
    ms, report = _median_ms(lambda: caf_report(desk, start, today))
    cpu = CPU["last"]
    write_ms, result = _median_ms(lambda: export_tables(desk, caf_tables(report), out))
    acts = sum(u.total.booked for a in report.activities for u in a.units)
    desk.engine.dispose()
    return {"value": ms, "unit": "ms", "target": "none set", "cpu_ms": cpu, "write_xlsx_ms": write_ms,
            "acts_booked": acts, "from": start.isoformat(), "to": today.isoformat(), "runs": RUNS}


def day_lists_pdf(base) -> dict:
    from gandrange_desk.services.lists.day import day_pdf

    desk = base.desk()
    day = base.now().date() - timedelta(days=1)
    while day.weekday() in (2, 5, 6):  # a périscolaire day
        day -= timedelta(days=1)
    ms, (pdf, lists) = _median_ms(lambda: day_pdf(desk, day))
    desk.engine.dispose()
    return {"value": ms, "unit": "ms", "target": "none set", "cpu_ms": CPU["last"], "day": day.isoformat(),
            "lists": len(lists.lists),
            "children": lists.children, "pdf_kb": round(len(pdf) / 1024, 1), "runs": RUNS}


FIGURES = {
    "export_grid_month": export_grid_month,
    "export_invoices_year": export_invoices_year,
    "caf_report_school_year": caf_report_school_year,
    "day_lists_pdf": day_lists_pdf,
}
