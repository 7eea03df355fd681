"""`outbox send` and `outbox list`: deliver the queued e-mails, see what became of them."""

from __future__ import annotations

import argparse

from gandrange_desk import formats
from gandrange_desk.cli import EXIT_FAILED, emit, open_desk
from gandrange_desk.errors import DeskError

# The stored codes of models.OutboxStatus, written out so that building the parser imports no
# model (tests/system/test_startup.py keeps the two lists equal).
STATUS_CHOICES = ["pending", "sending", "sent", "temp_failed", "failed", "cancelled"]


def register(sub) -> None:
    outbox = sub.add_parser("outbox", help="courriels : envoi et suivi de la boîte d'envoi")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)

    send = outbox_sub.add_parser("send", help="envoie les courriels en attente par le serveur SMTP configuré")
    send.add_argument("--limit", type=int, metavar="N", help="au plus N courriels lors de cet envoi")
    send.add_argument("--now", action="store_true",
                      help="réessaie tout de suite les courriels qui attendent un nouvel essai")
    send.add_argument("--timeout", type=float, metavar="SECONDES", help=argparse.SUPPRESS)
    send.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    send.set_defaults(handler=send_command)

    listing = outbox_sub.add_parser("list", help="liste les courriels de la boîte d'envoi")
    listing.add_argument("--status", action="append", choices=STATUS_CHOICES, metavar="ÉTAT",
                         help="filtre par état : " + ", ".join(STATUS_CHOICES) + " (répétable)")
    listing.add_argument("--family", metavar="RÉF", help="courriels d'une famille (ex. F-0042)")
    listing.add_argument("--limit", type=int, metavar="N", help="les N plus récents")
    listing.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    listing.set_defaults(handler=list_command)

    again = outbox_sub.add_parser("resend", help="remet en file un courriel en échec (adresse corrigée avec --to)")
    again.add_argument("id", type=int, metavar="N°", help="numéro du courriel (outbox list)")
    again.add_argument("--to", metavar="ADRESSES", help="adresses corrigées, séparées par des virgules")
    again.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    again.set_defaults(handler=resend_command)

    cancel = outbox_sub.add_parser("cancel", help="annule un courriel en attente ou en échec (il ne part jamais)")
    cancel.add_argument("id", type=int, metavar="N°", help="numéro du courriel (outbox list)")
    cancel.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    cancel.set_defaults(handler=cancel_command)


def send_command(args) -> int:
    from gandrange_desk.services.mail.sender import send_pending

    if args.limit is not None and args.limit < 1:
        raise DeskError("--limit : indiquez un nombre de courriels supérieur ou égal à 1.")
    desk = open_desk(args)
    report = send_pending(desk, limit=args.limit, timeout=args.timeout, now=args.now)
    payload = {
        "sent": report.sent, "temp_failed": report.temp_failed, "failed": report.failed,
        "waiting_later": report.later,
        "next_attempt_at": report.next_at.isoformat() if report.next_at else None,
        "released": report.released, "requeued_stale": report.requeued_stale, "problem": report.problem or None,
        "messages": [{"id": d.id, "subject": d.subject, "recipients": d.recipients, "status": d.status,
                      "error": d.error or None,
                      "next_attempt_at": d.next_attempt_at.isoformat() if d.next_attempt_at else None}
                     for d in report.deliveries],
    }
    emit(args, payload, lambda: _send_text(report))
    return 0 if report.ok else EXIT_FAILED


def _send_text(report) -> str:
    from gandrange_desk.models import OutboxStatus
    from gandrange_desk.services.mail.sender import visible

    later = ""
    if report.later:
        later = (formats.count(report.later, "courriel attend", "courriels attendent") + " un nouvel essai"
                 + (f", le prochain le {formats.instant(report.next_at)}" if report.next_at else "")
                 + " ; « gandrange-desk outbox send --now » les réessaie tout de suite.")
    if not report.deliveries and not report.problem:
        return "\n".join(["Aucun courriel à envoyer maintenant." if later else "Aucun courriel à envoyer.",
                          *([later] if later else [])])
    lines = []
    parts = [formats.count(report.sent, "courriel envoyé", "courriels envoyés")]
    if report.temp_failed:
        parts.append(f"{report.temp_failed} en échec temporaire (nouvel essai prévu)")
    if report.failed:
        parts.append(f"{report.failed} en échec définitif")
    lines.append(", ".join(parts) + ".")
    if report.requeued_stale:
        lines.append(formats.count(report.requeued_stale, "envoi interrompu remis en file",
                                   "envois interrompus remis en file") + ".")
    if report.problem:
        lines.append(report.problem)
    if report.released:
        lines.append(formats.count(report.released, "courriel reste", "courriels restent") + " en attente.")
    for d in report.deliveries:
        if d.status == OutboxStatus.TEMP_FAILED:
            when = f" ; nouvel essai le {formats.instant(d.next_attempt_at)}" if d.next_attempt_at else ""
            lines.append(f"  n° {d.id} « {visible(d.subject)} » à {visible(d.recipients)} : {d.error}{when}")
        elif d.status == OutboxStatus.FAILED:
            lines.append(f"  n° {d.id} « {visible(d.subject)} » à {visible(d.recipients)} : échec définitif — {d.error}")
    if report.failed:
        lines.append("Corrigez l'adresse et renvoyez (« gandrange-desk outbox resend N° --to ADRESSE ») "
                     "ou annulez (« gandrange-desk outbox cancel N° »).")
    if later:
        lines.append(later)
    return "\n".join(lines)


def list_command(args) -> int:
    from gandrange_desk.models import OutboxStatus
    from gandrange_desk.services.mail.outbox import list_messages

    desk = open_desk(args)
    rows = list_messages(desk, status=args.status, family_ref=args.family, limit=args.limit)

    def text() -> str:
        from gandrange_desk.services.mail.sender import visible

        if not rows:
            return "Aucun courriel."
        out = []
        for r in rows:
            line = (f"{r.id:>6}  {formats.instant(r.created_at)}  {OutboxStatus.label_of(r.status):<17} "
                    f"{r.family_ref or '—':<8} {visible(r.recipients)}  « {visible(r.subject)} »")
            if r.last_error and r.status != OutboxStatus.SENT:
                line += f"\n        {r.last_error}"
            out.append(line)
        out.append(formats.count(len(rows), "courriel", "courriels") + ".")
        return "\n".join(out)

    emit(args, [r.as_json() for r in rows], text)
    return 0


def _one(args, row, done: str) -> int:
    from gandrange_desk.models import OutboxStatus
    from gandrange_desk.services.mail.sender import visible

    emit(args, row.as_json(), lambda: f"Courriel n° {row.id} {done} ({OutboxStatus.label_of(row.status).lower()}) : "
                                      f"{visible(row.recipients)} « {visible(row.subject)} ».")
    return 0


def resend_command(args) -> int:
    from gandrange_desk.services.mail.outbox import resend

    desk = open_desk(args)
    return _one(args, resend(desk, args.id, recipients=args.to), "remis en file")


def cancel_command(args) -> int:
    from gandrange_desk.services.mail.outbox import cancel

    desk = open_desk(args)
    return _one(args, cancel(desk, args.id), "annulé")
