"""The invoice PDF read back with pypdf: what a family and the supervisor will read."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select

from gandrange_desk.models import Invoice, PaymentMode, Structure
from gandrange_desk.services.billing import invoice_views
from gandrange_desk.services.billing import invoicing
from gandrange_desk.services.pdf.base import StructureInfo, covered, merge_pdfs
from gandrange_desk.services.pdf.document import DeskPDF
from tests.builders import load_example_settings, make_family, unit_id
from tests.billing.test_invoicing import NOV, NOV_DAYS, book


def text_of(data: bytes) -> str:
    reader = PdfReader(io.BytesIO(data))
    raw = "\n".join(page.extract_text() for page in reader.pages)
    return re.sub(r"[\s\u00a0\u202f]+", " ", raw)


def fonts_of(data: bytes) -> set[str]:
    reader = PdfReader(io.BytesIO(data))
    names = set()
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            desc = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
            assert "/FontFile2" in desc, "font must be embedded"
            names.add(str(font["/BaseFont"]))
    return names


@pytest.fixture
def issued(desk, clock):
    load_example_settings(desk)
    with desk.unit_of_work() as s:
        st = s.execute(select(Structure)).scalar_one()
        st.issuer_name = "Marie Dupont"
        st.issuer_role = "Responsable du service Enfance-Jeunesse"
        st.sepa_ics = "FR12ZZZ123456"
        st.siret = "21570242700018"
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    soir = unit_id(desk, "PERISCOLAIRE", "Accueil soir")
    cheque = make_family(desk, "Lefèvre-Œillet", children=[
        {"first_name": "Chloé", "birth_date": date(2017, 3, 3)},
        {"first_name": "Noël", "birth_date": date(2019, 5, 5)}])
    debit = make_family(desk, "Muller", payment_mode=PaymentMode.PRELEVEMENT,
                        iban="FR76 3000 6000 0112 3456 7890 185")
    chloe, noel = cheque.children
    book(desk, chloe.id, repas, NOV_DAYS)
    book(desk, chloe.id, soir, NOV_DAYS[:2])
    book(desk, noel.id, repas, NOV_DAYS[:3])
    book(desk, debit.children[0].id, repas, NOV_DAYS[:5])
    clock.set(2026, 12, 2, 10, 0)
    invoicing.prepare(desk, NOV)
    invoicing.issue(desk, NOV)
    with desk.read() as s:
        from sqlalchemy.orm import undefer
        by_family = {inv.family_id: inv for inv in s.execute(select(Invoice).options(undefer(Invoice.pdf))).scalars()}
        return desk, by_family[cheque.id], by_family[debit.id]


def test_invoice_pdf_carries_design_section_5(issued):
    desk, inv, _ = issued
    text = text_of(inv.pdf)
    for expected in [
        "Service Enfance-Jeunesse — Commune de Gandrange", "Mairie de Gandrange, 57175 Gandrange",
        "SIRET : 21570242700018", "Émise par Marie Dupont, Responsable du service Enfance-Jeunesse",
        "Claire Lefèvre-Œillet", "12 rue de la Gare", "57175 Gandrange", "Famille Lefèvre-Œillet",
        "Facture n° 2026-000001", "Date 02/12/2026", "Période novembre 2026",
        # 30 days after 02/12 is 01/01/2027, a public holiday, then a weekend: Monday 04/01.
        "Échéance 04/01/2027",
        "Chloé Lefèvre-Œillet", "Noël Lefèvre-Œillet",
        # Chloé: 17 meals at 4,20 € (QF 800), 2 evenings at 2,60 €; Noël: 3 meals.
        "Périscolaire — Repas", "17 4,20 € 71,40 €", "2 2,60 € 5,20 €", "3 4,20 € 12,60 €",
        "02/11, 03/11, 05/11", "Sous-total Chloé Lefèvre-Œillet : 76,60 €",
        "Total de la facture 89,20 €", "Déjà réglé 0,00 €", "Reste à payer 89,20 €",
        "Mode de paiement : Chèque", "Référence à rappeler : 2026-000001 / ",
        "Voies et délais de recours", "L. 1617-5", "deux mois", "tribunal administratif de Strasbourg",
        "juge de l'exécution", "Talon à détacher", "Montant à payer 89,20 €",
    ]:
        assert expected in text, expected
    assert "prélevé" not in text
    assert fonts_of(inv.pdf) and all("DejaVu" in f for f in fonts_of(inv.pdf))


def test_prelevement_invoice_has_debit_notice_and_no_stub(issued):
    desk, _, inv = issued
    text = text_of(inv.pdf)
    assert "Mode de paiement : Prélèvement" in text
    # Collection day 10/12, but the invoice (the pre-notification) is dated 02/12: 14 days later.
    assert ("Montant prélevé le 16/12/2026 sur le compte FR76 **** 0185 — RUM RUM-" in text
            and "ICS FR12ZZZ123456" in text)
    assert "Total de la facture 21,00 €" in text
    assert "Talon" not in text


def test_month_print_combines_issued_pdfs_in_number_order(issued, tmp_path):
    desk, first, second = issued
    out = tmp_path / "novembre.pdf"
    assert invoice_views.print_month(desk, "2026-11", out) == 2
    reader = PdfReader(str(out))
    assert len(reader.pages) == 2
    assert "2026-000001" in reader.pages[0].extract_text()
    assert "2026-000002" in reader.pages[1].extract_text()
    with pytest.raises(Exception, match="Aucune facture émise pour octobre 2026"):
        invoice_views.print_month(desk, "2026-10", tmp_path / "x.pdf")


def test_draft_preview_is_marked(desk, clock):
    load_example_settings(desk)
    fam = make_family(desk, "Brouillon")
    book(desk, fam.children[0].id, unit_id(desk), NOV_DAYS[:1])
    invoicing.prepare(desk, NOV)
    with desk.read() as s:
        inv_id = s.execute(select(Invoice.id)).scalar_one()
    name, data = invoice_views.invoice_pdf(desk, inv_id)
    assert name.startswith("Facture-brouillon-2026-11")
    text = text_of(data)
    assert "Facture (brouillon)" in text and "BROUILLON" in text


def test_unicode_outside_latin_subset_uses_full_font():
    structure = StructureInfo(name="Service Enfance-Jeunesse", siret="1")
    assert covered("Lefèvre-Œillet 70,55 €") and not covered("Иванова")
    pdf = DeskPDF(structure, title="x", text_hint=["Иванова"])
    assert not pdf.uses_fast_fonts
    pdf.add_page()
    pdf.paragraph("Famille Иванова — 70,55 €")
    assert "Иванова" in text_of(pdf.to_bytes())


def test_merge_keeps_every_page():
    structure = StructureInfo(name="S", siret="1")
    docs = []
    for n in range(3):
        pdf = DeskPDF(structure, title=str(n))
        pdf.add_page()
        pdf.paragraph(f"Document {n}")
        docs.append(pdf.to_bytes())
    merged = PdfReader(io.BytesIO(merge_pdfs(docs)))
    assert [p.extract_text().split("\n")[0].strip() for p in merged.pages] == ["Document 0", "Document 1", "Document 2"]


def test_money_paid_in_advance_pays_the_new_invoice_at_issue(desk, clock):
    """A family's overpayment is used by its next invoice, and the PDF says so."""
    from gandrange_desk.services.billing import payments

    load_example_settings(desk)
    with desk.unit_of_work() as s:
        st = s.execute(select(Structure)).scalar_one()
        st.siret = "21570242700018"
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    family = make_family(desk, "Avance", children=[{"first_name": "Léa", "birth_date": date(2017, 3, 3)}])
    clock.set(2026, 11, 2, 9, 0)
    payments.record_payment(desk, family.id, mode="especes", received_on=date(2026, 11, 2), amount_cents=1000)
    book(desk, family.children[0].id, repas, NOV_DAYS[:3])  # 3 × 4,20 € = 12,60 €
    clock.set(2026, 12, 2, 10, 0)
    invoicing.prepare(desk, NOV)
    invoicing.issue(desk, NOV)
    with desk.read() as s:
        from sqlalchemy.orm import undefer

        inv = s.execute(select(Invoice).options(undefer(Invoice.pdf))).scalar_one()
        assert payments.paid_cents(s, inv.id) == 1000
    text = text_of(inv.pdf)
    assert "Total de la facture 12,60 €" in text
    assert "Déjà réglé 10,00 €" in text
    assert "Reste à payer 2,60 €" in text
