"""PDFs of the fiscal attestation and of the attendance/payment attestation."""

from __future__ import annotations

from datetime import date

from typing import Callable, Sequence

from fpdf.enums import XPos, YPos

from gandrange_desk import formats
from gandrange_desk.services.pdf.base import FAMILY, GREY, INK, Column, StructureInfo, money, pdf_text
from gandrange_desk.services.pdf.document import DeskPDF
from gandrange_desk.services.pdf.letters import new_pdf, signature_block


class BatchPDF(DeskPDF):
    """Many one-family documents in one file (fonts embedded once): the footer names the
    family instead of numbering pages across families."""

    label = ""

    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FAMILY, "", 7)
        self.set_text_color(*GREY)
        parts = [self.structure.name, self.structure.siret and f"SIRET {self.structure.siret}", self.label]
        self.cell(0, 4, pdf_text(" — ".join(p for p in parts if p)), align="C",
                  new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)


def fiscal_attestations_pdf(structure: StructureInfo, atts: Sequence, today: date,
                            step: Callable[[int], None] | None = None) -> bytes:
    """All the fiscal attestations in one PDF, each starting on its own page."""
    texts = [t for att in atts for t in (att.family_name, *att.address_lines, *att.guardians,
                                         *(c.name for c in att.children))]
    title = (f"Attestation fiscale {atts[0].year} — {atts[0].family_name}" if len(atts) == 1
             else f"Attestations fiscales {atts[0].year}")
    pdf = BatchPDF(structure, title=title, text_hint=texts)
    for i, att in enumerate(atts):
        if step:
            step(i)
        _fiscal_page(pdf, structure, att, today)
    return pdf.to_bytes()


def _fiscal_page(pdf: BatchPDF, structure: StructureInfo, att, today: date) -> None:
    pdf.add_page()
    # After add_page: fpdf2 draws the previous page's footer inside add_page, and that footer
    # must still name the previous family.
    pdf.label = f"Attestation fiscale {att.year} — famille {att.family_ref}"
    pdf.structure_header("ATTESTATION FISCALE", [
        ("Année", str(att.year)),
        ("Famille", att.family_ref),
        ("Date", formats.ddmmyyyy(today)),
    ])
    pdf.address_block(att.family_name, att.address_lines, label="Famille")
    pdf.section(f"Frais de garde des enfants de moins de 6 ans — revenus {att.year}")
    pdf.paragraph("Article 200 quater B du code général des impôts (crédit d'impôt pour frais de garde des "
                  "jeunes enfants hors du domicile).", size=8)
    pdf.ln(3)
    signer = structure.issuer_name or "Le représentant de la structure"
    role = f", {structure.issuer_role}" if structure.issuer_role else ""
    parents = " et ".join(att.guardians) if att.guardians else att.family_name
    many = len(att.guardians) > 1
    pdf.paragraph(
        f"Je soussigné(e) {signer}{role}, pour {structure.name}"
        + (f" (SIRET {structure.siret})" if structure.siret else "")
        + f", atteste que {parents}, {'domicilié(e)s' if many else 'domicilié(e)'} "
        f"{', '.join(att.address_lines) or '—'}, {'ont' if many else 'a'} versé au cours de l'année {att.year} la somme de {money(att.total_cents)} au titre de la garde "
        f"des enfants suivants, âgés de moins de 6 ans au 1er janvier {att.year}, accueillis par notre service "
        f"périscolaire :", size=9.5, height=5)
    pdf.ln(3)
    columns = (Column("Enfant", 80), Column("Date de naissance", 45, "C"), Column("Montant versé", 55, "R"))
    pdf.table(columns, [[c.name, formats.ddmmyyyy(c.birth_date), money(c.amount_cents)] for c in att.children])
    pdf.totals([("Total versé pour la garde", money(att.total_cents), True)])
    pdf.ln(3)
    notes = ("Les frais de repas (restauration scolaire) sont exclus de ces montants, conformément à la "
             "réglementation. Seules les sommes effectivement payées pendant l'année sont prises en compte, "
             "déduction faite des avoirs.")
    if att.excluded_cesu_cents:
        notes += (f" Les sommes réglées par CESU préfinancés ({money(att.excluded_cesu_cents)}) ne sont pas "
                  f"comprises : elles ne sont pas à la charge de la famille.")
    pdf.paragraph(notes, size=8.5)
    pdf.ln(2)
    pdf.paragraph("Attestation délivrée pour servir et valoir ce que de droit.", size=9)
    signature_block(pdf, structure, today)


def period_attestation_pdf(structure: StructureInfo, att, today: date) -> bytes:
    texts = [att.family_name, *att.address_lines] + [t for a in att.attendance + att.billed
                                                     for t in (a.child_name, a.unit_label)]
    texts += [p[2] for p in att.payments]
    pdf = new_pdf(structure, f"Attestation de présence et de paiement — {att.family_name}", texts)
    pdf.add_page()
    pdf.structure_header("ATTESTATION", [
        ("Du", formats.ddmmyyyy(att.start)),
        ("Au", formats.ddmmyyyy(att.end)),
        ("Famille", att.family_ref),
    ])
    pdf.address_block(att.family_name, att.address_lines, label="Famille")
    pdf.section("Attestation de présence et de paiement")
    signer = structure.issuer_name or "Le représentant de la structure"
    role = f", {structure.issuer_role}" if structure.issuer_role else ""
    pdf.paragraph(f"Je soussigné(e) {signer}{role}, pour {structure.name}, atteste que les enfants de la famille "
                  f"{att.family_name} ont été accueillis par notre service périscolaire du "
                  f"{formats.ddmmyyyy(att.start)} au {formats.ddmmyyyy(att.end)} comme suit, et que les "
                  f"paiements ci-dessous ont été reçus pendant cette période.", size=9.5, height=5)
    pdf.ln(2)
    pdf.section("Présences", size=9.5)
    if att.attendance:
        columns = (Column("Enfant", 40), Column("Prestation", 50), Column("Jours de présence", 80),
                   Column("Nb", 10, "R"))
        pdf.table(columns, [[a.child_name, a.unit_label, _days(a.days, set(a.presumed)), str(len(a.days))]
                            for a in att.attendance])
        if any(a.presumed for a in att.attendance):
            pdf.paragraph("* Présence d'après la réservation : le pointage de ce jour n'a pas été saisi.", size=7.5)
    else:
        pdf.paragraph("Aucune présence sur la période.")
    pdf.section("Montants facturés", size=9.5)
    if att.billed:
        columns = (Column("Enfant", 40), Column("Ligne de facture", 50), Column("Jours facturés", 60),
                   Column("Nb", 10, "R"), Column("Montant", 20, "R"))
        pdf.table(columns, [[a.child_name, a.unit_label, _days(a.days), str(len(a.days)), money(a.amount_cents)]
                            for a in att.billed])
    else:
        pdf.paragraph("Aucune facture émise pour la période.")
    pdf.section("Paiements reçus", size=9.5)
    if att.payments:
        columns = (Column("Date", 30), Column("Mode", 40), Column("Référence", 80), Column("Montant", 30, "R"))
        pdf.table(columns, [[formats.ddmmyyyy(d), mode, ref, money(c)] for d, mode, ref, c in att.payments])
    else:
        pdf.paragraph("Aucun paiement reçu sur la période.")
    pdf.ln(2)
    pdf.totals([("Total facturé sur la période", money(att.billed_cents), False),
                ("Total des paiements reçus", money(att.paid_cents), True)])
    signature_block(pdf, structure, today)
    return pdf.to_bytes()


def _days(days: list[date], presumed: set[date] = frozenset()) -> str:
    """'02/09, 04/09*, 05/09…' — the days as a person checks them against a calendar; a star
    marks a day counted from the reservation because nobody marked it."""
    return ", ".join(formats.ddmm(d) + ("*" if d in presumed else "") for d in days)
