"""`appointments slots|list|book|ack` — the September help sessions from the console."""

from __future__ import annotations

from pathlib import Path

from gandrange_desk.cli import emit, open_desk
from gandrange_desk.commands.payments import parse_day
from gandrange_desk.errors import DeskError, ValidationFailed


def register(sub) -> None:
    p = sub.add_parser("appointments", help="rendez-vous d'accompagnement de septembre")
    p_sub = p.add_subparsers(dest="appointments_command", metavar="ACTION", required=True)

    slots = p_sub.add_parser("slots", help="créer les créneaux des jours ouvrés d'une période")
    slots.add_argument("--from", dest="start_day", required=True, metavar="AAAA-MM-JJ")
    slots.add_argument("--to", dest="end_day", required=True, metavar="AAAA-MM-JJ")
    slots.add_argument("--start", default="09:00", metavar="HH:MM", help="première heure (09:00)")
    slots.add_argument("--end", default="17:00", metavar="HH:MM", help="heure de fin (17:00)")
    slots.add_argument("--minutes", default="30", metavar="N", help="durée d'un créneau (30)")
    slots.add_argument("--pause", metavar="HH:MM-HH:MM", help="pause sans créneau, par exemple 12:00-13:30")
    slots.add_argument("--clerk", action="append", required=True, metavar="IDENTIFIANT",
                       help="agent qui reçoit (répéter l'option pour plusieurs agents)")
    slots.add_argument("--json", action="store_true", default=None, help="sortie JSON")
    slots.set_defaults(handler=slots_cmd)

    listing = p_sub.add_parser("list", help="les créneaux d'un jour")
    listing.add_argument("--day", required=True, metavar="AAAA-MM-JJ")
    listing.add_argument("--out", metavar="FICHIER.pdf", help="enregistrer aussi la liste du jour en PDF")
    listing.add_argument("--json", action="store_true", default=None, help="sortie JSON")
    listing.set_defaults(handler=list_cmd)

    book = p_sub.add_parser("book", help="réserver un créneau pour une famille ou un visiteur")
    book.add_argument("--slot", required=True, metavar="ID")
    who = book.add_mutually_exclusive_group(required=True)
    who.add_argument("--family", metavar="REF")
    who.add_argument("--visitor", metavar="NOM")
    book.add_argument("--phone", default="", metavar="TÉLÉPHONE", help="téléphone du visiteur")
    book.add_argument("--notes", default="")
    book.add_argument("--no-mail", action="store_true", help="ne pas envoyer la confirmation par e-mail")
    book.add_argument("--json", action="store_true", default=None, help="sortie JSON")
    book.set_defaults(handler=book_cmd)


def _json(args) -> None:
    if getattr(args, "json", None) is None:
        args.json = False


def _int(text: str, what: str) -> int:
    from gandrange_desk.services import validation as v

    try:
        value = int(str(text).strip())
    except (TypeError, ValueError):
        raise ValidationFailed([f"{what} : « {v.shown(str(text))} » n'est pas un nombre entier."]) from None
    if abs(value) > 10**9:
        raise ValidationFailed([f"{what} : {str(text)[:30]} est hors limites."])
    return value


def slot_dict(r) -> dict:
    return {"id": r.id, "version": r.version, "starts_at": r.starts_at.isoformat(), "minutes": r.minutes,
            "clerk": r.clerk_login, "clerk_name": r.clerk_name, "status": r.status,
            "family_ref": r.family_ref or None, "family_name": r.family_name or None,
            "visitor_name": r.visitor_name or None, "phone": r.phone, "notes": r.notes,
            "acknowledgement_returned": r.acknowledgement_returned if r.family_id else None}


def slots_cmd(args) -> int:
    from gandrange_desk.services.appointments import book as appointments

    _json(args)
    first = parse_day(args.start_day, "le premier jour (--from)")
    last = parse_day(args.end_day, "le dernier jour (--to)")
    minutes = _int(args.minutes, "Durée d'un créneau (--minutes)")
    pause = None
    if args.pause:
        parts = args.pause.split("-")
        if len(parts) != 2:
            raise ValidationFailed([f"Pause (--pause) : « {args.pause} » illisible (attendu HH:MM-HH:MM)."])
        pause = (parts[0], parts[1])
    desk = open_desk(args)
    result = appointments.create_slots(desk, first, last, start=args.start, end=args.end, minutes=minutes,
                                       clerk_logins=args.clerk, pause=pause)
    emit(args, result.as_dict(), result.text())
    return 0


def list_cmd(args) -> int:
    from gandrange_desk import formats
    from gandrange_desk.services.appointments import book as appointments

    _json(args)
    day = parse_day(args.day, "le jour (--day)")
    desk = open_desk(args)
    rows = appointments.day_list(desk, day)
    if args.out:
        from gandrange_desk.services.pdf.appointments import day_list_pdf

        try:
            Path(args.out).write_bytes(day_list_pdf(desk, day))
        except OSError as exc:
            raise DeskError(f"Impossible d'écrire {args.out} : {exc.strerror}.") from exc

    def text() -> str:
        if not rows:
            return f"Aucun créneau le {formats.long_date(day)}."
        taken = sum(1 for r in rows if r.taken)
        lines = [f"Rendez-vous du {formats.long_date(day)} : {taken}/{len(rows)} "
                 f"{formats.plural(taken, 'créneau pris', 'créneaux pris')}"]
        for r in rows:
            who = r.who or "— libre —"
            extra = f" — {r.notes}" if r.notes else ""
            lines.append(f"  n° {r.id:<5} {r.time_text}  {r.clerk_name:<20} {r.status_label:<8} {who}"
                         f"{'  ' + r.phone if r.phone else ''}{extra}")
        if args.out:
            lines.append(f"Liste enregistrée : {args.out}")
        return "\n".join(lines)

    emit(args, [slot_dict(r) for r in rows], text)
    return 0


def book_cmd(args) -> int:
    from gandrange_desk.services.appointments import book as appointments
    from gandrange_desk.services.billing.payments import family_by_ref

    _json(args)
    slot_id = _int(args.slot, "Créneau (--slot)")
    desk = open_desk(args)
    family_id = None
    if args.family:
        with desk.read() as s:
            family_id = family_by_ref(s, args.family).id
    slot = appointments.get_slot(desk, slot_id)
    result = appointments.book(desk, slot.id, slot.version, family_id=family_id,
                               visitor_name=args.visitor or "", visitor_phone=args.phone,
                               notes=args.notes, notify=not args.no_mail)
    emit(args, {**slot_dict(result.slot), "emailed_to": list(result.emailed_to)}, result.summary)
    return 0
