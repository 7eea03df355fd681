"""Attestations the family downloads from « Factures et documents »: the yearly fiscal one and
the attendance/payment attestation over a period, drawn by the desk's own services
(`billing.attestations`, `pdf.attestation`), only ever for the signed-in family.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gandrange_desk import formats
from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.services.billing.attestations import (
    fiscal_attestations, fiscal_attestations_of_years, period_attestation,
)
from gandrange_desk.services.context import Desk
from gandrange_desk.services.pdf.base import load_structure

YEARS_BACK = 3  # the fiscal attestations offered: the last completed years


@dataclass(frozen=True)
class FiscalYear:
    year: int
    total_cents: int


def fiscal_years(desk: Desk, family_id: int) -> list[FiscalYear]:
    """Completed years for which the family paid for the care of a child under 6, newest first."""
    this_year = desk.today().year
    years = list(range(this_year - 1, this_year - 1 - YEARS_BACK, -1))
    found = fiscal_attestations_of_years(desk, years, family_id)  # one read for the three years
    return [FiscalYear(year, found[year][0].total_cents) for year in years if found[year]]


def fiscal_pdf(desk: Desk, family_id: int, year: int) -> tuple[str, bytes]:
    from gandrange_desk.services.pdf.attestation import fiscal_attestations_pdf

    this_year = desk.today().year
    if not (this_year - YEARS_BACK <= year < this_year):
        raise DeskError(f"Pas d'attestation fiscale pour {year}.")
    items = fiscal_attestations(desk, year, family_id)
    if not items or items[0].family_id != family_id:
        raise DeskError(f"Pas d'attestation fiscale pour {year} : aucun paiement de garde reçu en {year} pour un "
                        f"enfant de moins de 6 ans au 1er janvier {year}.")
    with desk.unit_of_work() as s:
        pdf = fiscal_attestations_pdf(load_structure(s), items, desk.today())
        desk.audit(s, "portal.attestation", "family", family_id, family_id=family_id,
                   after={"attestation": "fiscale", "year": year, "total_cents": items[0].total_cents})
    return f"attestation-fiscale-{year}.pdf", pdf


def period_pdf(desk: Desk, family_id: int, start: date | None, end: date | None) -> tuple[str, bytes]:
    from gandrange_desk.services.pdf.attestation import period_attestation_pdf

    if start is None or end is None:
        raise ValidationFailed(["Indiquez le premier et le dernier jour de la période."])
    if end < start:
        raise ValidationFailed(["Le dernier jour de la période précède le premier."])
    if (end - start).days > 366:
        raise ValidationFailed(["La période ne peut dépasser un an."])
    att = period_attestation(desk, family_id, start, end)
    if not att.attendance and not att.billed and not att.payments:
        raise DeskError(f"Rien à attester du {formats.ddmmyyyy(start)} au {formats.ddmmyyyy(end)} : "
                        "aucune présence facturée ni aucun paiement.")
    with desk.unit_of_work() as s:
        pdf = period_attestation_pdf(load_structure(s), att, desk.today())
        desk.audit(s, "portal.attestation", "family", family_id, family_id=family_id,
                   after={"attestation": "période", "from": start, "to": end})
    return f"attestation-{start.isoformat()}-{end.isoformat()}.pdf", pdf


__all__ = ["FiscalYear", "fiscal_pdf", "fiscal_years", "period_pdf"]
