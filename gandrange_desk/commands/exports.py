"""`export LIST --out FILE.xlsx|.csv [--month YYYY-MM] [--year YYYY] [--activity CODE] [--site ÉCOLE]`."""

from __future__ import annotations

import argparse

from gandrange_desk.cli import emit, open_desk
from gandrange_desk.errors import ValidationFailed

# Kept here, not read from the services: the parser must not import the models.
LIST_NAMES = ("families", "grid", "queue", "invoices", "payments", "unpaid", "attendance")


def register(sub) -> None:
    p = sub.add_parser("export", help="exporte une liste en classeur (.xlsx) ou en CSV (.csv)",
                       description="Exporte une liste du bureau : familles, grille du mois, demandes en attente, "
                                   "factures, règlements, impayés, pointage du mois.")
    p.add_argument("list", choices=LIST_NAMES, metavar="LISTE", help=", ".join(LIST_NAMES))
    p.add_argument("--out", required=True, metavar="FICHIER.xlsx|.csv")
    p.add_argument("--month", metavar="AAAA-MM", help="le mois (grille, factures, règlements, pointage)")
    p.add_argument("--year", metavar="AAAA", help="l'année civile (factures, règlements)")
    p.add_argument("--activity", metavar="CODE", help="l'activité (grille, pointage), par exemple PERISCOLAIRE")
    p.add_argument("--site", metavar="ÉCOLE", help="une seule école (grille, pointage)")
    p.add_argument("--search", metavar="TEXTE", help="familles : seulement celles que la recherche trouve")
    p.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    p.set_defaults(handler=export_cmd)


def parse_month(text: str):
    from gandrange_desk.services.billing.invoicing import month_start

    return month_start(text)


def parse_year(text: str) -> int:
    try:
        year = int(text)
    except (TypeError, ValueError):
        year = 0
    if not 2000 <= year <= 2100:
        raise ValidationFailed([f"Année illisible « {text} » (attendu AAAA, par exemple 2026)."])
    return year


def export_cmd(args) -> int:
    from gandrange_desk.services.exports import lists

    options = {}
    if args.month and args.year:
        raise ValidationFailed(["Choisissez --month ou --year, pas les deux."])
    if args.month:
        options["month"] = parse_month(args.month)
    if args.year:
        options["year"] = parse_year(args.year)
    if args.search:
        options["text"] = args.search
    desk = open_desk(args)
    if args.activity:
        options["activity_id"] = lists.activity_id_of(desk, args.activity)
    if args.site:
        options["school_id"] = lists.school_id_of(desk, args.site)
    result = lists.export(desk, args.list, args.out, **options)
    emit(args, {"file": str(result.path), "format": result.format, "rows": result.rows, "bytes": result.size},
         result.text())
    return 0
