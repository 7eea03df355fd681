"""Letters of the payments side (reminders) and the small blocks credit notes and attestations share.

Built on `pdf.document.DeskPDF` (embedded DejaVu, structure header and footer), imported when a
letter is drawn: the mail notices and the credit notes use this module's address helpers at import.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, Iterable

from gandrange_desk import formats
from gandrange_desk.services.pdf.base import FAMILY, GREY, INK, StructureInfo, pdf_text

if TYPE_CHECKING:
    from gandrange_desk.services.pdf.document import DeskPDF


def new_pdf(structure: StructureInfo, title: str, texts: Iterable[str] = ()) -> DeskPDF:
    from gandrange_desk.services.pdf.document import DeskPDF

    return DeskPDF(structure, title=title, text_hint=list(texts))


def signature_block(pdf: DeskPDF, structure: StructureInfo, on: date) -> None:
    """'Fait à Gandrange, le …', the issuer's name and role, room for the signature and stamp."""
    from fpdf.enums import XPos, YPos

    if pdf.will_page_break(42):
        pdf.add_page()
    pdf.ln(6)
    x = pdf.w - pdf.r_margin - 80
    pdf.set_font(FAMILY, "", 9.5)
    for line in (f"Fait à {structure_city(structure)}, le {formats.ddmmyyyy(on)}", "",
                 structure.issuer_name, structure.issuer_role):
        pdf.set_x(x)
        pdf.cell(80, 5, pdf_text(line or ""), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_x(x)
    pdf.set_font(FAMILY, "", 7.5)
    pdf.set_text_color(*GREY)
    pdf.cell(80, 16, "Signature et cachet", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    pdf.set_font(FAMILY, "", 9)


def structure_city(structure: StructureInfo) -> str:
    """'Gandrange' from an address whose last line is '57175 Gandrange'."""
    lines = [x.strip() for x in (structure.address or "").splitlines() if x.strip()]
    if not lines:
        return "Gandrange"
    parts = lines[-1].split(maxsplit=1)
    if len(parts) == 2 and parts[0].isdigit():
        return parts[1]
    return lines[-1]


def family_address_lines(family) -> list[str]:
    return [x for x in (family.street, f"{family.postcode} {family.city}".strip()) if x]


def reminder_letters_pdf(structure: StructureInfo, letters, today: date) -> bytes:
    """One page per reminder letter, titled by its level; `letters` = [(row, subject, body, family)]."""
    texts = [t for _, subject, body, family in letters
             for t in (subject, body, family.name, *family_address_lines(family))]
    pdf = new_pdf(structure, "Relances de factures impayées", texts)
    for row, subject, body, family in letters:
        pdf.add_page()
        pdf.structure_header(getattr(row, "level_title", "Relance"),
                             [("Facture", row.number), ("Date", formats.ddmmyyyy(today))])
        pdf.address_block(family.name, family_address_lines(family))
        pdf.ln(4)
        pdf.paragraph(f"{structure_city(structure)}, le {formats.ddmmyyyy(today)}", size=9.5)
        pdf.ln(3)
        pdf.paragraph(f"Objet : {subject}", size=10, bold=True)
        pdf.ln(3)
        pdf.paragraph(body, size=9.5, height=5)
    return pdf.to_bytes()
