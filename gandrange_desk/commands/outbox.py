"""`outbox send` and `outbox list`: deliver the queued e-mails, see what became of them."""

from __future__ import annotations

import argparse

from gandrange_desk import formats
from gandrange_desk.cli import EXIT_FAILED, emit, open_desk
from gandrange_desk.errors import DeskError

# The stored codes of models.OutboxStatus, written out so that building the parser imports no
# model (tests/system/test_startup.py keeps the two lists equal).
STATUS_CHOICES = ["pending", "sending", "sent", "temp_failed", "failed"]


def register(sub) -> None:
    outbox = sub.add_parser("outbox", help="courriels : envoi et suivi de la boîte d'envoi")
    outbox_sub = outbox.add_subparsers(dest="outbox_command", metavar="ACTION", required=True)

    send = outbox_sub.add_parser("send", help="envoie les courriels en attente par le serveur SMTP configuré")
    send.add_argument("--limit", type=int, metavar="N", help="au plus N courriels lors de cet envoi")
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


def send_command(args) -> int:
    from gandrange_desk.services.mail.sender import send_pending

    if args.limit is not None and args.limit < 1:
        raise DeskError("--limit : indiquez un nombre de courriels supérieur ou égal à 1.")
    desk = open_desk(args)
    report = send_pending(desk, limit=args.limit, timeout=args.timeout)
    payload = {
        "sent": report.sent, "temp_failed": report.temp_failed, "failed": report.failed,
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

    if not report.deliveries and not report.problem:
        return "Aucun courriel à envoyer."
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
            lines.append(f"  n° {d.id} « {d.subject} » à {d.recipients} : {d.error}{when}")
        elif d.status == OutboxStatus.FAILED:
            lines.append(f"  n° {d.id} « {d.subject} » à {d.recipients} : échec définitif — {d.error}")
    return "\n".join(lines)


def list_command(args) -> int:
    from gandrange_desk.models import OutboxStatus
    from gandrange_desk.services.mail.outbox import list_messages

    desk = open_desk(args)
    rows = list_messages(desk, status=args.status, family_ref=args.family, limit=args.limit)

    def text() -> str:
        if not rows:
            return "Aucun courriel."
        out = []
        for r in rows:
            line = (f"{r.id:>6}  {formats.instant(r.created_at)}  {OutboxStatus.label_of(r.status):<17} "
                    f"{r.family_ref or '—':<8} {r.recipients}  « {r.subject} »")
            if r.last_error and r.status != OutboxStatus.SENT:
                line += f"\n        {r.last_error}"
            out.append(line)
        out.append(formats.count(len(rows), "courriel", "courriels") + ".")
        return "\n".join(out)

    emit(args, [r.as_json() for r in rows], text)
    return 0
