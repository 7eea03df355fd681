"""`sepa export --month YYYY-MM --out FILE.xml [--no-notify] [--draft]`, `sepa preview`."""

from __future__ import annotations

import argparse
from datetime import date
from pathlib import Path

from gandrange_desk import formats
from gandrange_desk.cli import emit, open_desk
from gandrange_desk.errors import DeskError, ValidationFailed


def register(sub) -> None:
    p = sub.add_parser("sepa", help="prélèvements SEPA (pain.008)")
    p_sub = p.add_subparsers(dest="sepa_command", metavar="ACTION", required=True)
    exp = p_sub.add_parser("export", help="fichier pain.008.001.02 des prélèvements du mois")
    exp.add_argument("--month", required=True, metavar="AAAA-MM", help="mois facturé")
    exp.add_argument("--out", required=True, metavar="FICHIER.xml", help="fichier à écrire")
    exp.add_argument("--no-notify", action="store_true", help="sans e-mails de pré-notification")
    exp.add_argument("--draft", action="store_true",
                     help="fichier d'essai : ne met à jour ni les mandats (FRST) ni les familles")
    exp.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    exp.set_defaults(handler=export)
    pre = p_sub.add_parser("preview", help="ce que contiendrait le fichier du mois")
    pre.add_argument("--month", required=True, metavar="AAAA-MM", help="mois facturé")
    pre.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    pre.set_defaults(handler=preview)
    col = p_sub.add_parser("collected", help="enregistre les prélèvements du mois comme encaissés (paiements), "
                                              "sauf ceux que la banque a rejetés")
    col.add_argument("--month", required=True, metavar="AAAA-MM", help="mois facturé")
    col.add_argument("--rejected", nargs="+", default=[], metavar="E2E[:CODE]",
                     help="références de bout en bout rejetées par la banque, avec le code motif "
                          "(par exemple 2026-000012:AM04) ; elles restent dues et seront représentées")
    col.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    col.set_defaults(handler=collected)


def parse_month(text: str) -> date:
    from gandrange_desk.services import validation as v

    try:
        return v.month_text(text)
    except v.Invalid as exc:
        raise ValidationFailed([f"Mois illisible : {exc.reason}."]) from None



def export(args) -> int:
    from gandrange_desk.services.billing import sepa

    month = parse_month(args.month)
    desk = open_desk(args)
    out = Path(args.out)
    if not out.parent.exists():
        raise DeskError(f"Le dossier {out.parent} n'existe pas.")
    result = sepa.export_month(desk, month, final=not args.draft, notify=not args.no_notify)
    try:
        out.write_bytes(result.xml)
    except OSError as exc:
        raise DeskError(f"Fichier enregistré en base mais impossible d'écrire {out} : {exc.strerror}. "
                        f"Récupérez-le depuis la fenêtre (Facturation › Prélèvements).") from exc
    emit(args, {"file": str(out), "count": result.count, "total_cents": result.total_cents,
                "collection_date": result.collection_date.isoformat(), "frst": result.frst, "rcur": result.rcur,
                "notified": result.notified, "skipped": result.skipped, "final": result.final},
         f"{result.summary()}\nFichier : {out}")
    return 0


def preview(args) -> int:
    from gandrange_desk.services.billing import sepa

    month = parse_month(args.month)
    plan = sepa.plan_month(open_desk(args), month)

    def text() -> str:
        lines = [f"{formats.month_year(plan.month).capitalize()} : "
                 f"{formats.count(plan.count, 'prélèvement', 'prélèvements')} pour {formats.euros(plan.total_cents)}"
                 + (f", le {formats.ddmmyyyy(plan.collection_date)}" if plan.collection_date else "")
                 + f" ({plan.count_of('FRST')} FRST, {plan.count_of('RCUR')} RCUR)."]
        if plan.previous_final:
            lines.append(f"Déjà exporté {plan.previous_final}.")
        if plan.creditor_missing:
            lines.append("Paramètres manquants : " + " ; ".join(plan.creditor_missing) + ".")
        for d in plan.represented:
            lines.append(f"  représenté : {d.family_name} ({d.family_ref}), factures {', '.join(d.represented)}, "
                         f"le {formats.ddmmyyyy(d.collection_date)}")
        lines += [f"  non prélevée : {x}" for x in plan.skipped]
        return "\n".join(lines)

    emit(args, {"month": plan.month.strftime("%Y-%m"), "count": plan.count, "total_cents": plan.total_cents,
                "collection_date": plan.collection_date.isoformat() if plan.collection_date else None,
                "skipped": plan.skipped, "creditor_missing": plan.creditor_missing,
                "debits": [{"family_ref": d.family_ref, "end_to_end": d.end_to_end, "amount_cents": d.amount_cents,
                            "collection_date": d.collection_date.isoformat() if d.collection_date else None,
                            "represented": d.represented} for d in plan.debits],
                "already_exported": plan.previous_final}, text)
    return 0


def collected(args) -> int:
    from gandrange_desk.services.billing import sepa
    from gandrange_desk.services.billing.payments import of_month

    month = parse_month(args.month)
    desk = open_desk(args)
    export_id = sepa.final_export_id(desk, month)
    if export_id is None:
        raise DeskError(f"Aucun export définitif des prélèvements {of_month(month)}.")
    result = sepa.record_collection(desk, export_id, sepa.parse_rejections(args.rejected))
    emit(args, {"recorded": result.recorded, "recorded_cents": result.recorded_cents, "rejected": result.rejected},
         result.summary(month))
    return 0
