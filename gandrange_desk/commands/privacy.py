"""`families eligible` and `families anonymise`: the retention period of family files (RGPD)."""

from __future__ import annotations

from gandrange_desk import formats
from gandrange_desk.cli import emit, open_desk
from gandrange_desk.errors import DeskError


def register(sub) -> None:
    families = sub.add_parser("families", help="familles : message à toutes (ou à une activité, une école), "
                                               "conservation et anonymisation (RGPD)")
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
    message = families_sub.add_parser(
        "message", help="écrit aux familles (toutes, ou celles d'une activité, d'une école) : e-mail, ou lettre")
    message.add_argument("--activity", metavar="CODE", help="seulement les familles de cette activité cette année")
    message.add_argument("--school", metavar="ÉCOLE", help="seulement les familles d'un enfant de cette école")
    message.add_argument("--subject", required=True, metavar="OBJET")
    message.add_argument("--body-file", required=True, metavar="FICHIER.txt", help="le texte du message (UTF-8)")
    message.add_argument("--letters", metavar="FICHIER.pdf",
                         help="où écrire les lettres des familles sans e-mail (par défaut message-AAAA-MM-JJ.pdf)")
    message.add_argument("--dry-run", action="store_true", help="compte les destinataires sans rien envoyer")
    message.add_argument("--json", action="store_true", help="sortie JSON")
    message.set_defaults(handler=message_families)


def message_families(args) -> int:
    from pathlib import Path

    from gandrange_desk.services.mail import notices

    try:
        body = Path(args.body_file).read_text(encoding="utf-8")
    except OSError as exc:
        raise DeskError(f"Impossible de lire {args.body_file} : {exc.strerror}.") from exc
    except UnicodeDecodeError as exc:
        raise DeskError(f"{args.body_file} n'est pas un texte UTF-8.") from exc
    desk = open_desk(args)
    if args.dry_run:
        aud = notices.audience(desk, activity=args.activity, school=args.school)
        emit(args, {"families": len(aud.families), "emails": aud.with_email,
                    "without_email": [ref for ref, _ in aud.without_email]}, aud.text())
        return 0
    result = notices.message_families(desk, args.subject, body, activity=args.activity, school=args.school)
    path = None
    if result.letters_pdf:
        path = Path(args.letters or f"message-{desk.today().isoformat()}.pdf")
        try:
            path.write_bytes(result.letters_pdf)
        except OSError as exc:
            raise DeskError(f"Impossible d'écrire les lettres dans {path} : {exc.strerror}.") from exc
    emit(args, {"queued": result.queued, "without_email": [ref for ref, _ in result.without_email],
                "letters_file": str(path) if path else None},
         result.summary() + (f"\nLettres : {path}" if path else ""))
    return 0


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
