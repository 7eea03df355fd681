"""`intake FILE.json` and `queue list|accept|refuse`: the portal feed and the validation queue."""

from __future__ import annotations

import argparse

from gandrange_desk.cli import emit, open_desk
from gandrange_desk.errors import DeskError


def register(sub) -> None:
    intake = sub.add_parser("intake", help="importe un flux de demandes du portail (JSON)")
    intake.add_argument("file", metavar="FICHIER.json")
    intake.set_defaults(handler=run_intake)

    queue = sub.add_parser("queue", help="file de validation des demandes")
    queue_sub = queue.add_subparsers(dest="queue_command", metavar="ACTION", required=True)
    lst = queue_sub.add_parser("list", help="demandes en attente")
    lst.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    lst.set_defaults(handler=run_list)

    acc = queue_sub.add_parser("accept", help="accepte des demandes (e-mails mis en file d'envoi)")
    which = acc.add_mutually_exclusive_group(required=True)
    which.add_argument("--all", action="store_true", help="toutes les demandes en attente")
    which.add_argument("ids", nargs="*", type=_request_id, metavar="ID", default=[])
    acc.add_argument("--billing", choices=("excused", "billed"),
                     help="facturation des annulations (sinon celle proposée selon le délai)")
    acc.add_argument("--capacity-override", action="store_true",
                     help="accepter même au-delà de la capacité")
    acc.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    acc.set_defaults(handler=run_accept)

    ref = queue_sub.add_parser("refuse", help="refuse des demandes avec un motif (envoyé à la famille)")
    ref.add_argument("ids", nargs="+", type=_request_id, metavar="ID")
    ref.add_argument("--reason", required=True, metavar="MOTIF")
    ref.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    ref.set_defaults(handler=run_refuse)


def _request_id(text: str) -> int:
    from gandrange_desk.services import validation as v

    try:
        return v.identifier(text, "numéro de demande")
    except v.Invalid as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None


def run_intake(args) -> int:
    from gandrange_desk.services.intake.feed import import_feed_file

    desk = open_desk(args)
    result = import_feed_file(desk, args.file)
    emit(args, {"entries": result.entries, "skipped": result.skipped, "requests": result.requests,
                "registrations": result.registrations, "family_changes": result.family_changes,
                "waiting": result.waiting, "late": result.late, "past_days": result.past_days,
                "regularisations": result.regularisations},
         result.summary())
    return 0


def run_list(args) -> int:
    from gandrange_desk.services.queue import pending_items

    desk = open_desk(args)
    items = pending_items(desk)
    emit(args, [i.as_json() for i in items], lambda: _table(items))
    return 0


def _table(items) -> str:
    from gandrange_desk.formats import ddmmyyyy, instant
    from gandrange_desk.models import Billing, RequestKind

    if not items:
        return "Aucune demande en attente."
    lines = []
    for i in items:
        what = RequestKind.label_of(i.kind)
        where = " — ".join(x for x in (i.child_name, i.activity_code, i.unit_name,
                                        ddmmyyyy(i.day) if i.day else "") if x)
        flags = []
        if i.late:
            flags.append("hors délai")
        if i.past:
            flags.append("jour passé")
        if i.regularisation:
            flags.append("mois facturé : régularisation sur la prochaine facture")
        if i.proposed_billing:
            flags.append(Billing.phrase_of(i.proposed_billing))
        if i.places_left is not None:
            flags.append(f"places restantes : {i.places_left}")
        tail = f" [{', '.join(flags)}]" if flags else ""
        lines.append(f"{i.id:>6}  {what:<12} {i.family_name} ({i.family_ref})  {where}  "
                     f"demandé le {instant(i.submitted_at)}{tail}")
    from gandrange_desk.formats import count

    lines.append(count(len(items), "demande en attente.", "demandes en attente."))
    return "\n".join(lines)


def _result_payload(result) -> dict:
    return {"decided": result.decided, "already_decided": result.already, "messages": result.messages,
            "regularisations": result.regularisations,
            "without_email": result.without_email, "notes": result.notes,
            "credentials": [{"family_ref": ref, "login": login, "mailed": mailed}
                            for ref, login, _password, mailed in result.credentials]}


def _release(desk, result) -> None:
    """The command line decides in one go: what the window held for the same families leaves now."""
    from gandrange_desk.services.mail.outbox import release_held

    if result.changes.families:
        release_held(desk, result.changes.families)


def run_accept(args) -> int:
    from gandrange_desk.services.queue import accept

    if not args.all and not args.ids:
        raise DeskError("Indiquez les numéros des demandes à accepter, ou --all.")
    desk = open_desk(args)
    result = accept(desk, None if args.all else args.ids, billing=args.billing,
                    capacity_override=args.capacity_override)
    _release(desk, result)
    text = result.summary("acceptée")
    # A family without e-mail gets its temporary password on paper: the clerk must see it once.
    for ref, login, password, mailed in result.credentials:
        if not mailed:
            text += f"\n{ref} : identifiant {login}, mot de passe provisoire {password} (à remettre par courrier)."
    emit(args, _result_payload(result), text)
    return 0


def run_refuse(args) -> int:
    from gandrange_desk.services.queue import refuse

    desk = open_desk(args)
    result = refuse(desk, args.ids, args.reason)
    _release(desk, result)
    emit(args, _result_payload(result), result.summary("refusée"))
    return 0
