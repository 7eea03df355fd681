"""`lists day --date D --out FILE.pdf|.xlsx|.csv [--site ÉCOLE]`: the day's lists and meal count."""

from __future__ import annotations

import argparse
from pathlib import Path

from gandrange_desk.cli import emit, open_desk
from gandrange_desk.commands.payments import parse_day


def register(sub) -> None:
    p = sub.add_parser("lists", help="listes du jour (enfants attendus par école et unité, repas)")
    p_sub = p.add_subparsers(dest="lists_command", metavar="ACTION", required=True)
    day = p_sub.add_parser("day", help="les listes d'un jour : PDF à imprimer, ou classeur / CSV")
    day.add_argument("--date", metavar="AAAA-MM-JJ", help="le jour (par défaut aujourd'hui)")
    day.add_argument("--out", required=True, metavar="FICHIER.pdf|.xlsx|.csv")
    day.add_argument("--site", metavar="ÉCOLE", help="une seule école")
    day.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    day.set_defaults(handler=day_cmd)


def day_cmd(args) -> int:
    from gandrange_desk.services.exports import lists as exports
    from gandrange_desk.services.exports.writer import format_of
    from gandrange_desk.services.lists.day import day_lists, day_tables, write_day_pdf

    out = Path(args.out)
    desk = open_desk(args)
    day = parse_day(args.date, "le jour des listes") if args.date else desk.today()
    school_id = exports.school_id_of(desk, args.site)
    if out.suffix.lower() == ".pdf":
        lists = write_day_pdf(desk, day, school_id, out)
        text = f"{lists.summary()}\nFichier : {out}"
        rows = sum(len(u.children) for u in lists.lists)
    else:
        format_of(out)
        lists = day_lists(desk, day, school_id)
        result = exports.export_tables(desk, day_tables(lists), out)
        text, rows = f"{lists.summary()}\n{result.text()}", result.rows
    emit(args, {"file": str(out), "day": day.isoformat(), "rows": rows}, text)
    return 0
