"""Payments side on the 2,000-family base: unpaid list, balances, SEPA export, fiscal attestations.

No target in DESIGN §10 for these; the targets below are what keeps the window responsive
(the unpaid list and balances are computed on every refresh of the payments view).
"""

from __future__ import annotations

import statistics
import time
from datetime import date

RUNS = 5


def _median_ms(fn, runs: int = RUNS) -> tuple[float, object]:
    times, result = [], None
    for _ in range(runs):
        started = time.perf_counter()
        result = fn()
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times), result


def unpaid_list(base) -> dict:
    from gandrange_desk.services.billing import reminders

    desk = base.desk()
    ms, rows = _median_ms(lambda: reminders.unpaid_invoices(desk))
    return {"value": round(ms, 1), "unit": "ms", "target": "≤ 300 ms", "rows": len(rows)}


def balances_all(base) -> dict:
    from gandrange_desk.services.billing import payments

    desk = base.desk()
    ms, rows = _median_ms(lambda: payments.balances(desk))
    return {"value": round(ms, 1), "unit": "ms", "target": "≤ 300 ms", "families": len(rows)}


def _last_issued_month(desk) -> date | None:
    from sqlalchemy import func, select

    from gandrange_desk.models import Invoice, InvoiceStatus

    with desk.read() as s:
        return s.scalar(select(func.max(Invoice.month)).where(Invoice.status == InvoiceStatus.ISSUED))


def sepa_export(base) -> dict:
    """Build + validate the pain.008 of the last issued month (draft: nothing else changes)."""
    from gandrange_desk.services.billing import sepa

    from sqlalchemy import delete, select

    from gandrange_desk.models import Invoice, Payment, PaymentAllocation, PaymentMode

    desk = base.fresh_desk()
    month = _last_issued_month(desk)
    if month is None:
        return {"value": 0.0, "unit": "ms", "note": "no issued invoices in the demo base"}
    # The demo has already collected that month; go back to the day before the export.
    with desk.unit_of_work() as s:
        ids = list(s.scalars(select(PaymentAllocation.payment_id).join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
                             .join(Payment, Payment.id == PaymentAllocation.payment_id)
                             .where(Invoice.month == month, Payment.mode == PaymentMode.PRELEVEMENT)))
        s.execute(delete(PaymentAllocation).where(PaymentAllocation.payment_id.in_(ids)))
        s.execute(delete(Payment).where(Payment.id.in_(ids)))
    sepa._schema()  # the XSD is parsed once per process; the figure is the export itself
    ms, result = _median_ms(lambda: sepa.export_month(desk, month, final=False), runs=3)
    return {"value": round(ms, 1), "unit": "ms", "target": "≤ 3 s", "debits": result.count}


def fiscal_attestations(base) -> dict:
    from gandrange_desk.services.billing import attestations

    desk = base.fresh_desk()
    year = base.now().year
    try:
        ms, result = _median_ms(lambda: attestations.fiscal_pdf(desk, year), runs=1)
    except Exception as exc:  # noqa: BLE001 - a base without payments in the year
        return {"value": 0.0, "unit": "ms", "note": str(exc)}
    return {"value": round(ms, 1), "unit": "ms", "target": "≤ 30 s", "families": result.count,
            "per_page_ms": round(ms / max(1, result.count), 2)}


FIGURES = {
    "payments_unpaid_list": unpaid_list,
    "payments_balances": balances_all,
    "sepa_export_month": sepa_export,
    "fiscal_attestations_all": fiscal_attestations,
}
