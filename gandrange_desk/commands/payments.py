"""`payments record|unpaid|remind|list`."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from gandrange_desk import formats
from gandrange_desk.cli import emit, open_desk
from gandrange_desk.errors import DeskError, ValidationFailed


def register(sub) -> None:
    p = sub.add_parser("payments", help="paiements, impayés et relances")
    p_sub = p.add_subparsers(dest="payments_command", metavar="ACTION", required=True)

    rec = p_sub.add_parser("record", help="enregistre un paiement et l'affecte aux factures les plus anciennes")
    rec.add_argument("--family", required=True, metavar="REF", help="référence de la famille")
    rec.add_argument("--amount", required=True, metavar="EUROS", help="montant, par exemple 12,50")
    rec.add_argument("--mode", required=True,
                     help="prelevement, cheque, especes, cesu, virement ou carte")
    rec.add_argument("--date", metavar="AAAA-MM-JJ", help="date de réception (par défaut aujourd'hui)")
    rec.add_argument("--reference", default="", help="numéro de chèque, référence du virement…")
    rec.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    rec.set_defaults(handler=record)

    unpaid = p_sub.add_parser("unpaid", help="factures échues restant à payer")
    unpaid.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    unpaid.set_defaults(handler=list_unpaid)

    remind = p_sub.add_parser("remind", help="relance les impayés, chacun à son niveau (1re relance, 2e relance, "
                                             "mise en demeure) : e-mail, ou lettre")
    remind.add_argument("--level", type=int, choices=(1, 2, 3), metavar="N",
                        help="seulement les factures dont la prochaine relance est de ce niveau "
                             "(1, 2, ou 3 pour la mise en demeure)")
    remind.add_argument("--all-letters", action="store_true",
                        help="une lettre à imprimer pour chaque relance, même envoyée par e-mail")
    remind.add_argument("--letters", metavar="FICHIER.pdf",
                        help="où écrire les lettres de relance (par défaut relances-AAAA-MM-JJ.pdf)")
    remind.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    remind.set_defaults(handler=send_reminders)



def parse_day(text: str, what: str = "la date") -> date:
    try:
        return date.fromisoformat(text)
    except (TypeError, ValueError):
        raise ValidationFailed([f"Date illisible pour {what} : « {text} » (attendu AAAA-MM-JJ)."]) from None


def record(args) -> int:
    from gandrange_desk.services.billing import payments

    desk = open_desk(args)
    amount = payments.parse_amount(args.amount)
    mode = payments.parse_mode(args.mode)
    day = parse_day(args.date, "la date de réception") if args.date else desk.today()
    with desk.read() as s:
        family_id = payments.family_by_ref(s, args.family).id
    result = payments.record_payment(desk, family_id, mode=mode, received_on=day, amount_cents=amount,
                                     reference=args.reference)
    emit(args, {"payment_id": result.payment_id, "amount_cents": result.amount_cents,
                "allocations": [{"invoice": n, "amount_cents": c} for n, c in result.allocations],
                "unallocated_cents": result.unallocated_cents}, result.summary())
    return 0


def list_unpaid(args) -> int:
    from gandrange_desk.services.billing import reminders

    desk = open_desk(args)
    today = desk.today()
    rows = reminders.unpaid_invoices(desk)

    def text() -> str:
        if not rows:
            return "Aucune facture impayée."
        lines = [f"{formats.count(len(rows), 'facture impayée', 'factures impayées')}, "
                 f"{formats.euros(sum(r.remaining_cents for r in rows))} restant dus :"]
        for r in rows:
            lines.append(f"  {r.number}  {r.family_ref:<8} {r.family_name:<28} échéance {formats.ddmmyyyy(r.due_date)}"
                         f" ({r.days_late(today)} j)  reste {formats.euros(r.remaining_cents)}"
                         f"  prochaine : {r.level_title.lower()}"
                         + ("" if r.emails else "  [sans e-mail]"))
        return "\n".join(lines)

    emit(args, [r.as_json(today) for r in rows], text)
    return 0


def send_reminders(args) -> int:
    from gandrange_desk.services.billing import reminders

    desk = open_desk(args)
    result = reminders.remind(desk, level=args.level, letters_for_all=args.all_letters)
    path = None
    if result.letters_pdf:
        path = Path(args.letters or f"relances-{desk.today().isoformat()}.pdf")
        try:
            path.write_bytes(result.letters_pdf)
        except OSError as exc:
            raise DeskError(f"Impossible d'écrire les lettres de relance dans {path} : {exc.strerror}.") from exc
    text = result.summary() + (f"\nLettres : {path}" if path else "")
    emit(args, {"emailed": result.emailed, "letters": result.letters, "letters_file": str(path) if path else None,
                "invoices": result.invoice_numbers,
                "levels": {reminders.LEVELS[lv]: n for lv, n in sorted(result.by_level.items())}}, text)
    return 0
