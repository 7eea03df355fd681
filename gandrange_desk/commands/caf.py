"""`caf report --from D --to D --out FILE.xlsx|.pdf|.csv [--activity CODE]`."""

from __future__ import annotations

import argparse
from pathlib import Path

from gandrange_desk.cli import emit, open_desk
from gandrange_desk.commands.payments import parse_day


def register(sub) -> None:
    p = sub.add_parser("caf", help="rapport CAF : heures réservées, réalisées et facturées")
    p_sub = p.add_subparsers(dest="caf_command", metavar="ACTION", required=True)
    report = p_sub.add_parser("report", help="le rapport d'une période (classeur, PDF ou CSV)")
    report.add_argument("--from", dest="start", required=True, metavar="AAAA-MM-JJ")
    report.add_argument("--to", dest="end", required=True, metavar="AAAA-MM-JJ")
    report.add_argument("--out", required=True, metavar="FICHIER.xlsx|.pdf|.csv")
    report.add_argument("--activity", metavar="CODE", help="une activité (par défaut toutes)")
    report.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    report.set_defaults(handler=report_cmd)


def report_cmd(args) -> int:
    from gandrange_desk.services.exports import lists as exports
    from gandrange_desk.services.exports.writer import format_of
    from gandrange_desk.services.reports.caf import caf_report, caf_tables, write_caf_pdf

    start = parse_day(args.start, "le premier jour")
    end = parse_day(args.end, "le dernier jour")
    out = Path(args.out)
    desk = open_desk(args)
    activity_id = exports.activity_id_of(desk, args.activity)
    if out.suffix.lower() == ".pdf":
        report = write_caf_pdf(desk, start, end, activity_id, out)
    else:
        format_of(out)
        report = caf_report(desk, start, end, activity_id)
        exports.export_tables(desk, caf_tables(report), out)
    emit(args, {"file": str(out), "activities": [
        {"code": a.code, "open_days": len(a.open_days), "children_under_6": a.children[0],
         "children_6_and_over": a.children[1],
         "units": [{"unit": u.unit_name, "minutes": u.minutes, "booked": u.total.booked,
                    "attended": u.total.attended, "presumed": u.total.presumed, "billed": u.total.billed}
                   for u in a.units]} for a in report.activities]},
         f"{report.title}\nFichier : {out}" + "".join(f"\n{n}" for n in report.notes))
    return 0
