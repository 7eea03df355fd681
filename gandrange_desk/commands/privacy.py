"""`families eligible` and `families anonymise`: the retention period of family files (RGPD)."""

from __future__ import annotations

from gandrange_desk import formats
from gandrange_desk.cli import emit, open_desk
from gandrange_desk.errors import DeskError


def register(sub) -> None:
    families = sub.add_parser("families", help="familles : conservation et anonymisation (RGPD)")
    families_sub = families.add_subparsers(dest="families_command", metavar="ACTION", required=True)
    listing = families_sub.add_parser(
        "eligible", help="familles archivées dont la durée de conservation est écoulée")
    listing.add_argument("--json", action="store_true", help="sortie JSON")
    listing.set_defaults(handler=list_eligible)
    anon = families_sub.add_parser(
        "anonymise", help="anonymise les familles éligibles (ou celles données par leur réf.)")
    anon.add_argument("refs", nargs="*", metavar="REF",
                      help="réf. des familles (par défaut : toutes les familles éligibles)")
    anon.add_argument("--dry-run", action="store_true", help="simulation : rien n'est modifié")
    anon.add_argument("--json", action="store_true", help="sortie JSON")
    anon.set_defaults(handler=anonymise_families)
    keep = families_sub.add_parser("retention", help="durée de conservation (en années) : affiche ou change")
    keep.add_argument("years", nargs="?", type=int, metavar="ANNÉES")
    keep.add_argument("--json", action="store_true", help="sortie JSON")
    keep.set_defaults(handler=retention_setting)


def list_eligible(args) -> int:
    from gandrange_desk.services.families.retention import eligible, retention_years

    desk = open_desk(args)
    found = eligible(desk)
    years = retention_years(desk)
    emit(args, {"retention_years": years, "families": [c.as_dict() for c in found]}, lambda: "\n".join(
        [f"{formats.count(len(found), 'famille éligible', 'familles éligibles')} à l'anonymisation "
         f"(conservation : {years} ans après la fin de l'année scolaire de la dernière activité)."]
        + [f"  {c.ref:<10} {c.name:<30} dernière activité le "
           f"{formats.ddmmyyyy(c.last_activity) if c.last_activity else '—'}" for c in found]))
    return 0


def anonymise_families(args) -> int:
    from sqlalchemy import select

    from gandrange_desk.models import Family
    from gandrange_desk.services.families.retention import anonymise, eligible

    desk = open_desk(args)
    if args.refs:
        with desk.read() as s:
            found = dict(s.execute(select(Family.ref, Family.id).where(Family.ref.in_(args.refs))).all())
        unknown = [r for r in args.refs if r not in found]
        if unknown:
            raise DeskError("Famille introuvable : " + ", ".join(unknown) + ".")
        ids = [found[r] for r in args.refs]
    else:
        ids = [c.family_id for c in eligible(desk)]
        if not ids:
            emit(args, {"dry_run": args.dry_run, "families": []}, "Aucune famille éligible à l'anonymisation.")
            return 0
    result = anonymise(desk, ids, dry_run=args.dry_run)
    emit(args, result.as_dict(), result.text)
    return 0


def retention_setting(args) -> int:
    from gandrange_desk.services.families.retention import retention_years, set_retention_years

    desk = open_desk(args)
    if args.years is not None:
        set_retention_years(desk, args.years)
    years = retention_years(desk)
    emit(args, {"retention_years": years},
         f"Durée de conservation : {years} ans après la fin de l'année scolaire de la dernière activité.")
    return 0
