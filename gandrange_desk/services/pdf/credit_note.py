"""The credit note PDF (avoir): made once at issue and kept, like the invoice's."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from gandrange_desk import formats
from gandrange_desk.services.pdf.base import Column, StructureInfo, money
from gandrange_desk.services.pdf.letters import new_pdf, signature_block


@dataclass(frozen=True)
class CreditNoteDoc:
    number: str
    issued_on: date
    invoice_number: str
    invoice_month: date
    invoice_total_cents: int
    billed_name: str
    billed_address: str
    reason: str
    lines: list[tuple[str, str, int, int, int]]  # child, label, quantity, unit price, amount
    total_cents: int
    issued_by: str


COLUMNS = (Column("Enfant", 40), Column("Prestation", 62), Column("Quantité", 20, "R"),
           Column("Prix unitaire", 28, "R"), Column("Montant", 30, "R"))


def credit_note_pdf(structure: StructureInfo, doc: CreditNoteDoc) -> bytes:
    texts = [doc.billed_name, doc.billed_address, doc.reason, doc.issued_by]
    texts += [t for line in doc.lines for t in line[:2]]
    pdf = new_pdf(structure, f"Avoir {doc.number}", texts)
    pdf.add_page()
    pdf.structure_header("AVOIR", [
        ("N°", doc.number),
        ("Date", formats.ddmmyyyy(doc.issued_on)),
        ("Sur la facture", doc.invoice_number),
        ("Période facturée", formats.month_year(doc.invoice_month)),
    ])
    pdf.address_block(doc.billed_name, [x for x in doc.billed_address.splitlines() if x.strip()],
                      label="Famille")
    pdf.section("Motif de l'avoir")
    pdf.paragraph(doc.reason, size=9.5, height=5)
    pdf.ln(2)
    pdf.section("Prestations annulées")
    pdf.table(COLUMNS, [[child, label, str(qty), money(price), money(amount)]
                        for child, label, qty, price, amount in doc.lines])
    pdf.ln(2)
    pdf.totals([
        (f"Montant de la facture {doc.invoice_number}", money(doc.invoice_total_cents), False),
        ("Total de l'avoir", money(doc.total_cents), True),
    ])
    pdf.ln(4)
    pdf.paragraph(
        f"Cet avoir vient en déduction de la facture {doc.invoice_number}. Si cette facture est déjà "
        f"réglée, le montant de l'avoir reste au crédit de votre compte famille et sera déduit de vos "
        f"prochaines factures, ou remboursé sur demande.", size=8.5)
    signature_block(pdf, structure, doc.issued_on)
    return pdf.to_bytes()
