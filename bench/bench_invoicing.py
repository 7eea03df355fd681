"""Invoicing figures (DESIGN §10).

- invoices_prepare_month: `invoicing.prepare` of November for the 2,000-family base (drafts of
  every family from R/AF cells, with the regularisation scan of the issued months), median of
  several runs on one throw-away copy (prepare is re-runnable). Target ≤ 3 s.
- invoices_issue_vs_bare_fpdf2: `invoicing.issue` (numbers, PDFs made and stored, one
  transaction) of ISSUE_N drafts, against bare fpdf2 drawing the same pages (the same texts,
  plain FPDF calls and the DejaVu files of resources/fonts, one document, no database) measured
  in the same run. The figure is the ratio; target ≤ 1.5×. Beside it, issue 14's ratio
  (`ratio_vs_same_drawing`, target ≤ 1.2×): the same issue against `render_invoices`, the very
  drawing code the issue runs, on the same documents without the database; wall and CPU time.
"""

from __future__ import annotations

import statistics
import time
from datetime import date

from sqlalchemy import delete, select
from sqlalchemy.orm import selectinload

RUNS = 3
ISSUE_N = 300
MONTH = date(2026, 11, 1)


def prepare_month(base) -> dict:
    from gandrange_desk.services.billing import invoicing

    from gandrange_desk.db import make_engine
    from gandrange_desk.services.context import Desk

    desk = Desk(make_engine(base.fresh_copy()), _supervisor(), base.now)
    times, cpu, result = [], [], None
    for _ in range(RUNS):
        started, started_cpu = time.perf_counter(), time.process_time()
        result = invoicing.prepare(desk, MONTH)
        times.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    value = statistics.median(times) * 1000
    # A run after one cell changed: preparing again rebuilds only the drafts whose inputs moved
    # (`billing.draft_keys`); the runs above after the first change nothing.
    change_one_cell(desk)
    started, started_cpu = time.perf_counter(), time.process_time()
    invoicing.prepare(desk, MONTH)
    one_ms, one_cpu = time.perf_counter() - started, time.process_time() - started_cpu
    first_ms, first_cpu = first_prepare(desk)
    # CPU time too: on a shared, loaded machine wall time mostly measures the neighbours.
    return {"value": round(value, 1), "unit": "ms", "target": "≤ 3000 ms", "ok": value <= 3000,
            "invoices": result.invoices, "regularisations": result.regularisations,
            "runs_ms": [round(t * 1000, 1) for t in times],
            "cpu_ms": round(statistics.median(cpu) * 1000, 1),
            "runs_cpu_ms": [round(t * 1000, 1) for t in cpu],
            "one_cell_changed_ms": round(one_ms * 1000, 1), "one_cell_changed_cpu_ms": round(one_cpu * 1000, 1),
            "first_prepare_ms": first_ms, "first_prepare_cpu_ms": first_cpu,
            "note": "1st run builds every draft (the base's drafts have no key); the next ones change nothing; "
                    "first_prepare_*: the month's drafts deleted, then prepared (median of 2)"}


def first_prepare(desk, runs: int = 2) -> tuple[float, float]:
    """A month's first prepare (every draft built and written): the month's drafts deleted, then
    prepared, `runs` times; the medians (wall, CPU) in ms."""
    from gandrange_desk.models import DraftDay, Invoice, InvoiceLine
    from gandrange_desk.services.billing import invoicing

    wall, cpu = [], []
    for _ in range(runs):
        with desk.unit_of_work() as s:
            drafts = select(Invoice.id).where(Invoice.month == MONTH, Invoice.status == "draft")
            s.execute(delete(DraftDay).where(DraftDay.invoice_id.in_(drafts)))
            s.execute(delete(InvoiceLine).where(InvoiceLine.invoice_id.in_(drafts)))
            s.execute(delete(Invoice).where(Invoice.id.in_(drafts)))
        started, started_cpu = time.perf_counter(), time.process_time()
        invoicing.prepare(desk, MONTH)
        wall.append(time.perf_counter() - started)
        cpu.append(time.process_time() - started_cpu)
    return round(statistics.median(wall) * 1000, 1), round(statistics.median(cpu) * 1000, 1)


def change_one_cell(desk) -> None:
    """One R cell of the month made AF (or back): one family's draft to build again."""
    from sqlalchemy import case, update

    from gandrange_desk.models import Booking

    with desk.unit_of_work() as s:
        cell = s.execute(select(Booking.id).where(Booking.day >= MONTH, Booking.day < date(2026, 12, 1),
                                                  Booking.state.in_(("R", "AF"))).order_by(Booking.id).limit(1)).scalar()
        s.execute(update(Booking).where(Booking.id == cell)
                  .values(state=case((Booking.state == "R", "AF"), else_="R")))


def _supervisor():
    from gandrange_desk.services.context import Actor

    return Actor("nbecker", "Nathalie Becker", "responsable")


def _bare_draw(pdf, doc) -> None:
    """The invoice's page with plain fpdf2 calls: what any script drawing it would do."""
    from gandrange_desk import formats
    from gandrange_desk.services.pdf.base import money
    from gandrange_desk.services.pdf.invoice import DEFAULT_APPEAL_TEXT

    s = doc.structure
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(95, 5, s.name, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    for line in [*s.address.splitlines(), f"SIRET : {s.siret}", f"Tél. {s.phone} — {s.email}", s.portal_url]:
        pdf.cell(95, 4, line, new_x="LMARGIN", new_y="NEXT")
    pdf.set_xy(115, 14)
    pdf.set_font("DejaVu", "B", 15)
    pdf.cell(80, 8, "Facture", align="R", new_x="LEFT", new_y="NEXT")
    for label, value in (("Facture n°", doc.number), ("Date", formats.ddmmyyyy(doc.issue_date)),
                         ("Période", formats.month_year(doc.month)), ("Échéance", formats.ddmmyyyy(doc.due_date)),
                         ("Réf. famille", doc.family_ref)):
        pdf.set_x(115)
        pdf.set_font("DejaVu", "", 8.5)
        pdf.cell(40, 4.6, label, align="R")
        pdf.set_font("DejaVu", "B", 8.5)
        pdf.cell(40, 4.6, value or "", align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_y(60)
    pdf.set_font("DejaVu", "", 8)
    pdf.multi_cell(90, 4, f"Émise par {s.issuer_name}, {s.issuer_role}")
    pdf.set_xy(112, 60)
    pdf.set_font("DejaVu", "B", 10)
    pdf.multi_cell(83, 5, doc.billed_name, new_x="LEFT", new_y="NEXT")
    pdf.set_font("DejaVu", "", 9.5)
    for line in doc.billed_address:
        pdf.multi_cell(83, 4.8, line, new_x="LEFT", new_y="NEXT")
    pdf.set_xy(15, 85)
    pdf.set_font("DejaVu", "B", 10.5)
    pdf.cell(0, 6, f"Prestations de {formats.month_year(doc.month)}", new_x="LMARGIN", new_y="NEXT")
    widths = (62, 70, 12, 18, 18)
    for child in doc.children:
        pdf.set_font("DejaVu", "B", 9.5)
        pdf.cell(0, 6, child.name, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "B", 8)
        for w, h in zip(widths, ("Prestation", "Dates", "Qté", "Prix unit.", "Montant")):
            pdf.cell(w, 6, h, fill=True)
        pdf.ln(6)
        pdf.set_font("DejaVu", "", 8.5)
        for line in child.lines:
            y = pdf.get_y()
            x = 15
            for w, value in zip(widths, (line.label, ", ".join(formats.ddmm(d) for d in line.days),
                                         str(line.quantity), money(line.unit_price_cents),
                                         money(line.amount_cents))):
                pdf.set_xy(x, y)
                pdf.multi_cell(w, 4.6, value)
                x += w
            pdf.ln(1)
        pdf.cell(0, 5, f"Sous-total {child.name} : {money(child.total_cents)}", align="R",
                 new_x="LMARGIN", new_y="NEXT")
    for label, value in (("Total de la facture", money(doc.total_cents)), ("Déjà réglé", money(doc.paid_cents)),
                         ("Reste à payer", money(doc.due_cents))):
        pdf.set_x(110)
        pdf.cell(55, 6, label)
        pdf.cell(30, 6, value, align="R", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "B", 9)
    pdf.multi_cell(0, 4.2, f"Mode de paiement : {doc.payment_mode} — Référence à rappeler : {doc.reference}",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8.5)
    pdf.multi_cell(0, 4.2, f"Montant prélevé le … sur le compte {doc.masked_iban} — RUM {doc.rum} — ICS {doc.ics}"
                   if doc.rum else "À régler avant l'échéance par chèque, espèces, CESU, virement ou carte.",
                   new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 7)
    pdf.multi_cell(0, 3.4, s.appeal_text or DEFAULT_APPEAL_TEXT, new_x="LMARGIN", new_y="NEXT")
    if not doc.rum:
        pdf.set_y(-60)
        pdf.set_font("DejaVu", "B", 9)
        pdf.cell(0, 5, f"{s.name} — talon de paiement", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8.5)
        for label, value in (("Facture n°", doc.number), ("Famille", doc.family_name),
                             ("Montant à payer", money(doc.due_cents))):
            pdf.cell(30, 5, label)
            pdf.cell(58, 5, value or "", new_x="LMARGIN", new_y="NEXT")


def bare_fpdf2(docs, fonts: dict | None = None) -> bytes:
    from fpdf import FPDF

    from gandrange_desk.services.pdf.base import full_font_paths

    fonts = fonts or full_font_paths()
    pdf = FPDF(format="A4")
    pdf.add_font("DejaVu", "", str(fonts[""]))
    pdf.add_font("DejaVu", "B", str(fonts["B"]))
    pdf.set_margins(15, 14, 15)
    for doc in docs:
        _bare_draw(pdf, doc)
    return bytes(pdf.output())


def _docs_of(desk, ids):
    from gandrange_desk.models import Family, Invoice, Mandate, MandateState
    from gandrange_desk.services.pdf.base import load_structure
    from gandrange_desk.services.pdf.invoice import document_for

    with desk.read() as s:
        structure = load_structure(s)
        invoices = s.execute(select(Invoice).where(Invoice.id.in_(ids)).order_by(Invoice.number)
                             .options(selectinload(Invoice.lines))).scalars().all()
        families = {f.id: f for f in s.execute(select(Family).where(Family.id.in_([i.family_id for i in invoices]))).scalars()}
        mandates = {m.family_id: m for m in s.execute(select(Mandate).where(Mandate.state == MandateState.ACTIVE)).scalars()}
        return [document_for(i, families[i.family_id], structure, mandates.get(i.family_id), debit_date=i.due_date)
                for i in invoices]


def issue_vs_bare(base) -> dict:
    from gandrange_desk.db import make_engine
    from gandrange_desk.models import DraftDay, Invoice, InvoiceLine
    from gandrange_desk.services.billing import invoicing
    from gandrange_desk.services.context import Desk
    from gandrange_desk.services.pdf.invoice import render_invoices

    issue_times, bare_times, same_times, issue_cpu, same_cpu, pages = [], [], [], [], [], 0
    # One warm-up run, not counted: the first issue of a process pays imports (holidays, pypdf)
    # and font measures that the drawing measured after it would find cached.
    for run in range(RUNS + 1):
        desk = Desk(make_engine(base.fresh_copy()), _supervisor(), base.now)
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
        result = invoicing.issue(desk, MONTH)
        issue_wall, issue_proc = time.perf_counter() - started, time.process_time() - started_cpu
        docs = _docs_of(desk, keep)
        # The same drawing code the issue runs (`render_invoices`), without the database.
        started, started_cpu = time.perf_counter(), time.process_time()
        render_invoices(docs)
        same_wall, same_proc = time.perf_counter() - started, time.process_time() - started_cpu
        started = time.perf_counter()
        data = bare_fpdf2(docs)
        bare_wall = time.perf_counter() - started
        pages = data.count(b"/Type /Page\n") or len(docs)
        desk.engine.dispose()
        if run:
            issue_times.append(issue_wall)
            issue_cpu.append(issue_proc)
            same_times.append(same_wall)
            same_cpu.append(same_proc)
            bare_times.append(bare_wall)
    # Also once with the Latin subset the desk embeds, to tell the font's share from the rest.
    from gandrange_desk.services.pdf.base import fast_font_paths

    started = time.perf_counter()
    bare_fpdf2(docs, fast_font_paths())
    same_fonts_s = time.perf_counter() - started
    issue_s, bare_s, same_s = (statistics.median(issue_times), statistics.median(bare_times),
                               statistics.median(same_times))
    ratio = issue_s / bare_s
    same_ratio = issue_s / same_s
    cpu_ratio = statistics.median(issue_cpu) / statistics.median(same_cpu)
    print(f"  émission de {result.invoices} factures avec PDF : {issue_s:.2f} s ; même dessin sans la base : "
          f"{same_s:.2f} s, rapport {same_ratio:.2f}× (temps processeur {cpu_ratio:.2f}×) ; fpdf2 nu, mêmes pages : "
          f"{bare_s:.2f} s, rapport {ratio:.2f}× (sous-ensemble latin : {same_fonts_s:.2f} s)")
    return {"value": round(ratio, 2), "unit": "×", "target": "≤ 1.5×", "ok": ratio <= 1.5,
            "invoices": result.invoices, "issue_ms": round(issue_s * 1000, 1), "bare_fpdf2_ms": round(bare_s * 1000, 1),
            "per_invoice_ms": round(issue_s * 1000 / max(result.invoices, 1), 1), "bare_pages": pages,
            "same_drawing_ms": round(same_s * 1000, 1), "ratio_vs_same_drawing": round(same_ratio, 2),
            "ratio_vs_same_drawing_cpu": round(cpu_ratio, 2),
            "issue_cpu_ms": round(statistics.median(issue_cpu) * 1000, 1),
            "same_drawing_cpu_ms": round(statistics.median(same_cpu) * 1000, 1),
            "bare_fpdf2_latin_subset_ms": round(same_fonts_s * 1000, 1),
            "ratio_vs_latin_subset": round(issue_s / same_fonts_s, 2)}


FIGURES = {"invoices_prepare_month": prepare_month, "invoices_issue_vs_bare_fpdf2": issue_vs_bare}
