"""`attestations fiscal --year YYYY --out FILE.pdf [--family REF]`, `attestations period …`."""

from __future__ import annotations

import argparse
from pathlib import Path

from gandrange_desk.cli import emit, open_desk
from gandrange_desk.commands.payments import parse_day
from gandrange_desk.errors import DeskError, ValidationFailed


def register(sub) -> None:
    p = sub.add_parser("attestations", help="attestations fiscales et de présence")
    p_sub = p.add_subparsers(dest="attestations_command", metavar="ACTION", required=True)
    fiscal = p_sub.add_parser("fiscal", help="attestations fiscales (garde des enfants de moins de 6 ans)")
    fiscal.add_argument("--year", required=True, metavar="AAAA", help="année des paiements")
    fiscal.add_argument("--out", required=True, metavar="FICHIER.pdf")
    fiscal.add_argument("--family", metavar="REF", help="une seule famille (sinon toutes celles qui y ont droit)")
    fiscal.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    fiscal.set_defaults(handler=fiscal_cmd)
    period = p_sub.add_parser("period", help="attestation de présence et de paiement sur une période")
    period.add_argument("--family", required=True, metavar="REF")
    period.add_argument("--from", dest="start", required=True, metavar="AAAA-MM-JJ")
    period.add_argument("--to", dest="end", required=True, metavar="AAAA-MM-JJ")
    period.add_argument("--out", required=True, metavar="FICHIER.pdf")
    period.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="sortie JSON")
    period.set_defaults(handler=period_cmd)



def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise DeskError(f"Impossible d'écrire {path} : {exc.strerror}.") from exc


def _family_id(desk, ref: str) -> int:
    from gandrange_desk.services.billing.payments import family_by_ref

    with desk.read() as s:
        return family_by_ref(s, ref).id


def fiscal_cmd(args) -> int:
    from gandrange_desk.services.billing import attestations

    try:
        year = int(args.year)
    except ValueError:
        raise ValidationFailed([f"Année illisible « {args.year} »."]) from None
    desk = open_desk(args)
    family_id = _family_id(desk, args.family) if args.family else None
    result = attestations.fiscal_pdf(desk, year, family_id)
    out = Path(args.out)
    _write(out, result.pdf)
    emit(args, {"file": str(out), "families": result.count, "total_cents": result.total_cents},
         f"{result.summary('attestation fiscale', 'attestations fiscales')}"
         f"\nFichier : {out}")
    return 0


def period_cmd(args) -> int:
    from gandrange_desk.services.billing import attestations

    start = parse_day(args.start, "le premier jour")
    end = parse_day(args.end, "le dernier jour")
    desk = open_desk(args)
    result = attestations.period_pdf(desk, _family_id(desk, args.family), start, end)
    out = Path(args.out)
    _write(out, result.pdf)
    emit(args, {"file": str(out), "paid_cents": result.total_cents}, f"Attestation enregistrée : {out}")
    return 0
