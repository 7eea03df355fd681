"""The invoice PDF (DESIGN §5): one page per family and month, as issued.

`InvoiceDoc` holds everything printed, so the drawing does not touch the database (the bench
draws the same documents with bare fpdf2 for comparison).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from gandrange_desk import formats
from gandrange_desk.models import PaymentMode
from gandrange_desk.services.pdf.base import Column, StructureInfo, money, pdf_text, split_pages
from gandrange_desk.services.pdf.document import DeskPDF

DEFAULT_APPEAL_TEXT = (
    "Voies et délais de recours. Conformément à l'article L. 1617-5 du code général des "
    "collectivités territoriales, vous disposez d'un délai de deux mois à compter de la réception "
    "de la présente facture pour contester le bien-fondé de la somme réclamée devant le tribunal "
    "administratif de Strasbourg (31 avenue de la Paix, BP 51038, 67070 Strasbourg Cedex, ou "
    "www.telerecours.fr). La contestation de la régularité d'un acte de poursuite (mise en demeure, "
    "saisie) se fait dans les deux mois de sa notification devant le juge de l'exécution du "
    "tribunal judiciaire. Avant tout recours, vous pouvez adresser une réclamation écrite au service "
    "(coordonnées ci-dessus) ; elle n'interrompt pas le délai de recours."
)

COLUMNS = (
    Column("Prestation", 62),
    Column("Dates", 70),
    Column("Qté", 12, "R"),
    Column("Prix unit.", 18, "R"),
    Column("Montant", 18, "R"),
)


@dataclass(frozen=True)
class DocLine:
    label: str
    days: tuple[date, ...]
    quantity: int
    unit_price_cents: int
    amount_cents: int
    kind: str = "normal"


@dataclass
class ChildBlock:
    name: str
    lines: list[DocLine] = field(default_factory=list)

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


@dataclass
class InvoiceDoc:
    structure: StructureInfo
    number: str | None  # None for a draft preview
    month: date
    issue_date: date | None
    due_date: date | None
    family_ref: str
    family_name: str
    billed_name: str
    billed_address: list[str]
    payment_mode: str
    children: list[ChildBlock]
    total_cents: int
    paid_cents: int = 0
    debit_date: date | None = None
    masked_iban: str = ""
    rum: str = ""
    ics: str = ""

    @property
    def due_cents(self) -> int:
        return self.total_cents - self.paid_cents

    @property
    def reference(self) -> str:
        return f"{self.number or 'BROUILLON'} / {self.family_ref}"

    def texts(self) -> list[str]:
        out = [self.number or "", self.family_ref, self.family_name, self.billed_name, *self.billed_address,
               self.rum, self.ics, self.masked_iban]
        for child in self.children:
            out.append(child.name)
            out.extend(line.label for line in child.lines)
        return out


def mask_iban(iban: str) -> str:
    """'FR7630006000011234567890185' → 'FR76 **** 0185'."""
    compact = "".join((iban or "").split()).upper()
    if len(compact) < 8:
        return "****"
    return f"{compact[:4]} **** {compact[-4:]}"


def document_for(invoice, family, structure: StructureInfo, mandate=None, *, paid_cents: int = 0,
                 debit_date: date | None = None) -> InvoiceDoc:
    """The printed content of an Invoice row (its lines, its issued snapshot of the family)."""
    blocks: dict[str, ChildBlock] = {}
    for line in sorted(invoice.lines, key=lambda l: l.position):
        name = line.child_name or "Autres prestations"
        block = blocks.setdefault(name, ChildBlock(name))
        days = tuple(date.fromisoformat(d) for d in (line.dates or "").split(",") if d)
        block.lines.append(DocLine(line.label, days, line.quantity, line.unit_price_cents,
                                   line.amount_cents, line.kind))
    prelevement = invoice.payment_mode == PaymentMode.PRELEVEMENT and mandate is not None
    return InvoiceDoc(
        structure=structure, number=invoice.number, month=invoice.month,
        issue_date=invoice.issue_date, due_date=invoice.due_date,
        family_ref=family.ref, family_name=family.name,
        billed_name=invoice.billed_name or f"Famille {family.name}",
        billed_address=[l for l in (invoice.billed_address or "").splitlines() if l.strip()],
        payment_mode=invoice.payment_mode or family.payment_mode,
        children=list(blocks.values()), total_cents=invoice.total_cents, paid_cents=paid_cents,
        debit_date=debit_date if prelevement else None,
        masked_iban=mask_iban(mandate.iban) if prelevement else "",
        rum=mandate.rum if prelevement else "", ics=structure.sepa_ics if prelevement else "",
    )


def _dates_text(days: tuple[date, ...]) -> str:
    return ", ".join(formats.ddmm(d) for d in days)


def render_invoice(doc: InvoiceDoc) -> bytes:
    pdf = DeskPDF(doc.structure, title=f"Facture {doc.number or 'brouillon'}", text_hint=doc.texts())
    pdf.alias_nb_pages()
    pdf.add_page()
    draw_invoice(pdf, doc)
    return pdf.to_bytes()


def render_invoices(docs: list[InvoiceDoc], progress=None, batch: int = 150) -> list[bytes]:
    """One PDF per invoice, drawn in batches (one font subset per batch, then cut per invoice)."""
    out: list[bytes] = []
    for start in range(0, len(docs), batch):
        chunk = docs[start:start + batch]
        hint = [t for d in chunk for t in d.texts()]
        pdf = DeskPDF(chunk[0].structure, title="Factures", text_hint=hint)
        ranges = []
        for i, doc in enumerate(chunk):
            if progress:
                progress.check()
                progress.step(start + i, len(docs), f"PDF des factures : {start + i} / {len(docs)}")
            # The previous invoice's last footer is drawn inside add_page: move the mark after it.
            pdf.add_page()
            pdf.batch_start = pdf.page_no()
            draw_invoice(pdf, doc)
            ranges.append((pdf.batch_start - 1, pdf.page_no() - 1))
        out.extend(split_pages(pdf.to_bytes(), ranges,
                               [f"Facture {d.number or 'brouillon'}" for d in chunk], chunk[0].structure.name))
    return out


def draw_invoice(pdf: DeskPDF, doc: InvoiceDoc) -> None:
    s = doc.structure
    meta = [
        ("Facture n°", doc.number or "BROUILLON"),
        ("Date", formats.ddmmyyyy(doc.issue_date) if doc.issue_date else "—"),
        ("Période", formats.month_year(doc.month)),
        ("Échéance", formats.ddmmyyyy(doc.due_date) if doc.due_date else "—"),
        ("Réf. famille", doc.family_ref),
    ]
    pdf.structure_header("Facture" if doc.number else "Facture (brouillon)", meta)
    top = pdf.get_y()
    if s.issuer_name or s.issuer_role:
        pdf.set_font("DejaVu", "", 8)
        pdf.multi_cell(90, 4, pdf_text("Émise par " + ", ".join(x for x in (s.issuer_name, s.issuer_role) if x)),
                       align="L")
        pdf.set_xy(pdf.l_margin, top)
    pdf.address_block(doc.billed_name, doc.billed_address, label=f"Famille {doc.family_name}")
    pdf.section(f"Prestations {formats.of_month(doc.month)}")
    for child in doc.children:
        if pdf.will_page_break(34):  # name, column header and a first three-line row together
            pdf.add_page()
        pdf.set_font("DejaVu", "B", 9.5)
        pdf.cell(0, 6, pdf_text(child.name), new_x="LMARGIN", new_y="NEXT")
        pdf.table_header(COLUMNS)
        pdf.table_rows(COLUMNS, [
            (line.label, _dates_text(line.days), str(line.quantity), money(line.unit_price_cents),
             money(line.amount_cents))
            for line in child.lines
        ])
        pdf.set_font("DejaVu", "", 8.5)
        pdf.cell(0, 5, pdf_text(f"Sous-total {child.name} : {money(child.total_cents)}"), align="R",
                 new_x="LMARGIN", new_y="NEXT")
        pdf.ln(1)
    pdf.ln(2)
    pdf.totals([
        ("Total de la facture", money(doc.total_cents), False),
        ("Déjà réglé", money(doc.paid_cents), False),
        ("Reste à payer", money(max(doc.due_cents, 0)), True),
    ])
    pdf.ln(3)
    mode = PaymentMode.label_of(doc.payment_mode, doc.payment_mode or "—")
    pdf.paragraph(f"Mode de paiement : {mode} — Référence à rappeler : {doc.reference}", bold=True, size=9)
    if doc.due_cents < 0:
        pdf.paragraph("Le solde négatif de cette facture sera déduit de votre prochaine facture.")
    if doc.payment_mode == PaymentMode.PRELEVEMENT and doc.rum:
        when = formats.ddmmyyyy(doc.debit_date) if doc.debit_date else "à l'échéance"
        pdf.paragraph(f"Montant prélevé le {when} sur le compte {doc.masked_iban} — RUM {doc.rum} — "
                      f"ICS {doc.ics or 'à renseigner'}. Vous n'avez rien à faire : cette facture vaut "
                      "pré-notification du prélèvement SEPA.", size=8.5)
    else:
        if doc.payment_mode == PaymentMode.PRELEVEMENT:
            pdf.paragraph("Aucun mandat de prélèvement SEPA actif : merci de régler cette facture par un "
                          "autre moyen et de contacter le bureau périscolaire.", size=8.5)
        due = formats.ddmmyyyy(doc.due_date) if doc.due_date else "l'échéance"
        pdf.paragraph(f"À régler avant le {due} : par chèque à l'ordre du Trésor public, en espèces ou "
                      "en CESU au bureau périscolaire, par virement ou par carte bancaire sur le portail "
                      "famille. Rappelez la référence de la facture.", size=8.5)
    pdf.ln(2)
    appeal = s.appeal_text or DEFAULT_APPEAL_TEXT
    if doc.payment_mode == PaymentMode.PRELEVEMENT and doc.rum:
        _appeal(pdf, appeal)
        return
    # The stub goes at the foot of the first page whenever the lines and totals leave room for
    # it there; the appeal text then follows on the next page if it does not fit above it.
    stub_top = pdf.h - pdf.b_margin - STUB_HEIGHT
    if pdf.get_y() + _appeal_height(pdf, appeal) <= stub_top:
        _appeal(pdf, appeal)
        _payment_stub(pdf, doc)
    elif pdf.get_y() <= stub_top:
        _payment_stub(pdf, doc)
        pdf.add_page()
        _appeal(pdf, appeal)
    else:
        _appeal(pdf, appeal)
        _payment_stub(pdf, doc)


APPEAL_SIZE, APPEAL_LINE, APPEAL_GAP = 7, 3.3, 6


def _appeal_columns(pdf: DeskPDF, text: str) -> tuple[list[str], list[str], float]:
    pdf.set_font("DejaVu", "", APPEAL_SIZE)
    width = (pdf.epw - APPEAL_GAP) / 2
    lines = pdf.wrap(pdf_text(text), width)
    half = (len(lines) + 1) // 2
    return lines[:half], lines[half:], width


def _appeal_height(pdf: DeskPDF, text: str) -> float:
    left, _, _ = _appeal_columns(pdf, text)
    return len(left) * APPEAL_LINE


def _appeal(pdf: DeskPDF, text: str) -> None:
    """The "voies et délais de recours" in two columns (half the height of one)."""
    left, right, width = _appeal_columns(pdf, text)
    if pdf.will_page_break(len(left) * APPEAL_LINE):
        pdf.add_page()
        pdf.set_font("DejaVu", "", APPEAL_SIZE)
    top = pdf.get_y()
    for column, lines in ((pdf.l_margin, left), (pdf.l_margin + width + APPEAL_GAP, right)):
        for n, line in enumerate(lines):
            pdf.set_xy(column, top + n * APPEAL_LINE)
            pdf.cell(width, APPEAL_LINE, line)
    pdf.set_xy(pdf.l_margin, top + len(left) * APPEAL_LINE)
    pdf.set_font("DejaVu", "", 9)


STUB_HEIGHT = 33  # cut line and its words, title, three rows, the reference


def _payment_stub(pdf: DeskPDF, doc: InvoiceDoc) -> None:
    """The detachable slip at the foot of the page, returned with a cheque or cash."""
    height = STUB_HEIGHT
    if pdf.get_y() > pdf.h - pdf.b_margin - height:
        pdf.add_page()
    pdf.set_y(pdf.h - pdf.b_margin - height)
    pdf.dashed_cut_line("Talon à détacher et à joindre à votre règlement")
    pdf.ln(1)
    left = [
        ("Facture n°", doc.number or "BROUILLON"),
        ("Famille", f"{doc.family_name} ({doc.family_ref})"),
        ("Période", formats.month_year(doc.month)),
    ]
    right = [
        ("Montant à payer", money(max(doc.due_cents, 0))),
        ("Échéance", formats.ddmmyyyy(doc.due_date) if doc.due_date else "—"),
        ("Règlement", "[ ] chèque   [ ] espèces   [ ] CESU"),
    ]
    pdf.set_font("DejaVu", "B", 9)
    pdf.cell(0, 5, pdf_text(f"{doc.structure.name} — talon de paiement"), new_x="LMARGIN", new_y="NEXT")
    y = pdf.get_y()
    for column, rows in ((pdf.l_margin, left), (pdf.l_margin + 92, right)):
        pdf.set_xy(column, y)
        for label, value in rows:
            pdf.set_x(column)
            pdf.set_font("DejaVu", "", 8.5)
            pdf.cell(30, 5, pdf_text(label))
            pdf.set_font("DejaVu", "B", 8.5)
            pdf.cell(58, 5, pdf_text(value), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 7.5)
    pdf.set_x(pdf.l_margin)
    pdf.cell(0, 5, pdf_text(f"Référence à rappeler : {doc.reference}"), new_x="LMARGIN", new_y="NEXT")
