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

    rev = p_sub.add_parser("reverse", help="annule un paiement (prélèvement rejeté, chèque impayé, erreur de saisie)")
    rev.add_argument("payment_id", type=id_arg, metavar="ID", help="numéro du paiement (payments list)")
    rev.add_argument("--reason", required=True, metavar="TEXTE", help="raison, gardée dans l'historique")
    rev.add_argument("--kind", default=None, choices=["rejected_debit", "bounced_cheque", "mistake"],
                     help="rejected_debit (prélèvement rejeté), bounced_cheque (chèque impayé) ou mistake "
                          "(erreur de saisie) ; par défaut selon le mode du paiement et --code")
    rev.add_argument("--code", default="", metavar="CODE", help="code motif du rejet SEPA (AM04, MD01, AC04…)")
    rev.add_argument("--mode", default=None, metavar="MODE",
                     help="après un prélèvement rejeté : passer la famille à ce mode de paiement au lieu de "
                          "représenter le prélèvement (cheque, especes, virement…)")
    rev.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    rev.set_defaults(handler=reverse)

    lst = p_sub.add_parser("list", help="les paiements reçus (les plus récents d'abord)")
    lst.add_argument("--family", metavar="REF", help="référence de la famille")
    lst.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    lst.set_defaults(handler=list_payments)

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



def id_arg(text: str) -> int:
    """An argparse type for a database id: digits a 64-bit column holds, never a traceback."""
    from gandrange_desk.services import validation as v

    try:
        return v.identifier(text)
    except v.Invalid as exc:
        raise argparse.ArgumentTypeError(exc.reason) from None


def parse_day(text: str, what: str = "la date") -> date:
    from gandrange_desk.services import validation as v

    try:
        return v.day_text(text)
    except v.Invalid as exc:
        if exc.reason.startswith("« "):  # out of the desk's years
            raise ValidationFailed([f"Date refusée pour {what} : {exc.reason}."]) from None
        raise ValidationFailed([f"Date illisible pour {what} : « {v.shown(text)} » (attendu AAAA-MM-JJ)."]) from None


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


def reverse(args) -> int:
    from gandrange_desk.models import Payment, ReversalKind
    from gandrange_desk.services.billing import payments, reversals

    desk = open_desk(args)
    kind = args.kind
    new_mode = payments.parse_mode(args.mode) if args.mode else None
    if kind is None:
        with desk.read() as s:
            payment = s.get(Payment, args.payment_id)
            mode = payment.mode if payment else ""
        kind = (ReversalKind.REJECTED_DEBIT if mode == "prelevement" and (args.code or new_mode)
                else ReversalKind.BOUNCED_CHEQUE if mode == "cheque" and not args.code else ReversalKind.MISTAKE)
    result = reversals.reverse_payment(desk, args.payment_id, kind=kind, reason=args.reason, code=args.code,
                                       new_mode=new_mode)
    emit(args, {"payment_id": result.payment_id, "kind": result.kind, "code": result.code,
                "reopened": [{"invoice": n, "amount_cents": c} for n, c in result.reopened],
                "represent": result.represent, "new_mode": result.new_mode}, result.summary())
    return 0


def list_payments(args) -> int:
    from gandrange_desk.services.billing import payments

    desk = open_desk(args)
    family_id = None
    if args.family:
        with desk.read() as s:
            family_id = payments.family_by_ref(s, args.family).id
    rows = payments.list_payments(desk, family_id=family_id)

    def text() -> str:
        if not rows:
            return "Aucun paiement."
        out = []
        for r in rows:
            state = f"  [annulé : {r.reversal}]" if r.reversed else (f"  → {r.invoices}" if r.invoices else "")
            out.append(f"{r.payment_id:>6}  {formats.ddmmyyyy(r.received_on)}  {r.family_ref:<8} {r.family_name[:28]:<28} "
                       f"{payments.mode_label(r.mode):<14} {formats.euros(r.amount_cents):>12}  {r.reference}{state}")
        return "\n".join(out)

    emit(args, [{"id": r.payment_id, "family_ref": r.family_ref, "mode": r.mode, "received_on": r.received_on.isoformat(),
                 "amount_cents": r.amount_cents, "reference": r.reference, "invoices": r.invoices,
                 "reversed": r.reversed, "reversal": r.reversal} for r in rows], text)
    return 0
