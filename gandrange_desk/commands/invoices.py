"""`invoices prepare|issue|print|list|send --month YYYY-MM`."""

from __future__ import annotations

import argparse

from gandrange_desk import formats
from gandrange_desk.cli import emit, open_desk


def register(sub) -> None:
    inv = sub.add_parser("invoices", help="factures du mois : préparer, émettre, imprimer")
    inv_sub = inv.add_subparsers(dest="invoices_command", metavar="ACTION", required=True)

    def month_arg(p):
        p.add_argument("--month", required=True, metavar="AAAA-MM", help="mois facturé, par exemple 2026-11")
        # Also accepted after the action; SUPPRESS keeps a --json given before it.
        p.add_argument("--json", action="store_true", default=argparse.SUPPRESS,
                       help="sortie JSON pour les programmes")

    p = inv_sub.add_parser("prepare", help="prépare (ou refait) les brouillons du mois")
    month_arg(p)
    p.set_defaults(handler=prepare)
    p = inv_sub.add_parser("recap", help="récapitulatif du mois par activité et unité (avant d'émettre)")
    month_arg(p)
    p.set_defaults(handler=recap)
    p = inv_sub.add_parser("issue", help="émet les brouillons du mois : numéros et PDF (responsable)")
    month_arg(p)
    p.set_defaults(handler=issue)
    p = inv_sub.add_parser("print", help="un seul PDF avec toutes les factures émises du mois")
    month_arg(p)
    p.add_argument("--out", required=True, metavar="FICHIER.pdf")
    p.set_defaults(handler=print_month)
    p = inv_sub.add_parser("list", help="les factures du mois")
    month_arg(p)
    p.set_defaults(handler=list_month)
    p = inv_sub.add_parser("send", help="met en file d'envoi l'e-mail « Votre facture est disponible »")
    month_arg(p)
    p.set_defaults(handler=send)


def warn_unknown_holidays(desk, month: str) -> None:
    """Say on stderr when the month's school holidays are unknown (never silently school days)."""
    import calendar
    import sys
    from datetime import date

    from gandrange_desk.services.system import school_holidays

    try:
        year, number = (int(part) for part in month.split("-"))
        first = date(year, number, 1)
    except ValueError:
        return  # the service refuses the month in its own words
    last = first.replace(day=calendar.monthrange(year, number)[1])
    text = school_holidays.check_period(desk, first, last)
    if text:
        print(text, file=sys.stderr)


def prepare(args) -> int:
    from gandrange_desk.services.billing import invoicing

    import sys

    from gandrange_desk.services.billing.month_checks import month_not_over

    desk = open_desk(args)
    early = month_not_over(desk, args.month)
    if early:
        print("Attention : " + early, file=sys.stderr)
    warn_unknown_holidays(desk, args.month)
    result = invoicing.prepare(desk, args.month)
    emit(args, {"month": result.month.isoformat(), "invoices": result.invoices,
                "total_cents": result.total_cents, "with_anomalies": result.with_anomalies,
                "regularisations": result.regularisations, "unpriced": result.unpriced,
                "structure_problems": result.structure_problems}, result.text())
    return 0


def recap(args) -> int:
    from gandrange_desk.services.billing import month_checks

    desk = open_desk(args)
    result = month_checks.month_recap(desk, args.month)
    emit(args, result.as_json(), result.text())
    return 0


def issue(args) -> int:
    from gandrange_desk.services.billing import invoicing

    desk = open_desk(args)
    warn_unknown_holidays(desk, args.month)
    result = invoicing.issue(desk, args.month)
    emit(args, {"month": result.month.isoformat(), "invoices": result.invoices,
                "first_number": result.first_number, "last_number": result.last_number,
                "total_cents": result.total_cents}, result.text())
    return 0


def print_month(args) -> int:
    from gandrange_desk.services.billing import invoice_views

    desk = open_desk(args)
    count = invoice_views.print_month(desk, args.month, args.out)
    emit(args, {"invoices": count, "out": args.out},
         f"{formats.count(count, 'facture', 'factures')} dans {args.out}.")
    return 0


def list_month(args) -> int:
    from gandrange_desk.services.billing import invoice_views

    desk = open_desk(args)
    rows = invoice_views.list_month(desk, args.month)

    def text() -> str:
        if not rows:
            return "Aucune facture pour ce mois."
        out = []
        for r in rows:
            flag = "  [anomalies : " + " / ".join(r.anomalies.splitlines()) + "]" if r.anomalies else ""
            out.append(f"{r.number or 'brouillon':<12} {r.family_ref:<10} {r.family_name[:30]:<30} "
                       f"{r.line_count:>3} l. {formats.euros(r.total_cents):>12}  {r.status_label}{flag}")
        total = sum(r.total_cents for r in rows)
        out.append(f"{formats.count(len(rows), 'facture', 'factures')}, total {formats.euros(total)}.")
        return "\n".join(out)

    emit(args, [r.as_json() for r in rows], text)
    return 0


def send(args) -> int:
    from gandrange_desk.services.billing import invoice_views

    desk = open_desk(args)
    rows = invoice_views.list_month(desk, args.month)
    result = invoice_views.send_invoices(desk, [r.id for r in rows if r.status == "issued" and not r.sent_at])
    emit(args, {"queued": result.queued, "without_email": result.without_email}, result.text())
    return 0
