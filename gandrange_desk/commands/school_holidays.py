"""`holidays status|list|add|remove|import`: the school holidays past the package's data."""

from __future__ import annotations

from gandrange_desk.cli import emit, open_desk
from gandrange_desk.commands.payments import id_arg, parse_day


def register(sub) -> None:
    hol = sub.add_parser("holidays", help="vacances scolaires : années connues, saisie, import du calendrier du ministère")
    hol_sub = hol.add_subparsers(dest="holidays_command", metavar="ACTION", required=True)
    status = hol_sub.add_parser("status", help="dit si les vacances des années scolaires en cours sont connues")
    status.set_defaults(handler=status_command)
    listing = hol_sub.add_parser("list", help="vacances saisies ou importées")
    listing.set_defaults(handler=list_command)
    add = hol_sub.add_parser("add", help="saisit une période de vacances (premier et dernier jour inclus)")
    add.add_argument("first", metavar="PREMIER_JOUR", help="AAAA-MM-JJ")
    add.add_argument("last", metavar="DERNIER_JOUR", help="AAAA-MM-JJ")
    add.add_argument("--label", default="Vacances scolaires", metavar="NOM", help="ex. « Vacances de Noël »")
    add.set_defaults(handler=add_command)
    remove = hol_sub.add_parser("remove", help="supprime une période saisie")
    remove.add_argument("id", type=id_arg, metavar="N")
    remove.set_defaults(handler=remove_command)
    imp = hol_sub.add_parser("import", help="importe le calendrier scolaire du ministère (.ics d'une zone ou .csv)")
    imp.add_argument("file", metavar="FICHIER")
    imp.set_defaults(handler=import_command)


def status_command(args) -> int:
    from gandrange_desk.services.system import school_holidays as sh

    desk = open_desk(args)
    first, last = sh.years_in_use(desk)
    missing = sh.uncovered_years(desk, first, last)
    years = list(range(sh.school_year_of(first), sh.school_year_of(last) + 1))
    text = (f"Données officielles des vacances scolaires jusqu'au {sh.package_last_day():%d/%m/%Y}.\n"
            + ("\n".join(f"Année scolaire {sh.school_year_label(y)} : "
                         + ("vacances inconnues" if y in missing else "vacances connues") for y in years)))
    if missing:
        text += "\n" + sh.warning(missing)
    emit(args, {"package_last_day": sh.package_last_day().isoformat(),
                "school_years": [{"year": sh.school_year_label(y), "covered": y not in missing} for y in years]},
         text)
    return 1 if missing else 0


def list_command(args) -> int:
    from gandrange_desk.services.system import school_holidays as sh

    desk = open_desk(args)
    rows = sh.list_holidays(desk)
    emit(args, [{"id": r.id, "first_day": r.first_day.isoformat(), "last_day": r.last_day.isoformat(),
                 "label": r.label} for r in rows],
         lambda: "\n".join(f"{r.id:>4}  {r.first_day:%d/%m/%Y} – {r.last_day:%d/%m/%Y}  {r.label}" for r in rows)
         or "Aucune période de vacances saisie.")
    return 0


def add_command(args) -> int:
    from gandrange_desk.services.system import school_holidays as sh

    desk = open_desk(args)
    first, last = parse_day(args.first), parse_day(args.last)
    new_id = sh.add_holiday(desk, first, last, args.label)
    emit(args, {"id": new_id}, f"Vacances enregistrées (n° {new_id}) : {args.label}, "
                               f"du {first:%d/%m/%Y} au {last:%d/%m/%Y}.")
    return 0


def remove_command(args) -> int:
    from gandrange_desk.services.system import school_holidays as sh

    desk = open_desk(args)
    sh.remove_holiday(desk, args.id)
    emit(args, {"removed": args.id}, f"Période n° {args.id} supprimée.")
    return 0


def import_command(args) -> int:
    from gandrange_desk import formats
    from gandrange_desk.services.system import school_holidays as sh

    desk = open_desk(args)
    rows = sh.import_calendar(desk, args.file)
    emit(args, [{"first_day": r.first_day.isoformat(), "last_day": r.last_day.isoformat(), "label": r.label}
                for r in rows],
         lambda: formats.count(len(rows), "période de vacances importée", "périodes de vacances importées") + " :\n"
         + "\n".join(f"  {r.first_day:%d/%m/%Y} – {r.last_day:%d/%m/%Y}  {r.label}" for r in rows))
    return 0
