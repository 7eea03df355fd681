"""Letters and small documents of the payments side (reminders, credit notes, attestations).

fpdf2 with the embedded DejaVu fonts of resources/fonts, so €, accents and œ print everywhere.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Iterable

from fpdf import FPDF

from gandrange_desk import formats

FONT_DIR = Path(__file__).resolve().parents[2] / "resources" / "fonts"
FONT = "DejaVu"


def _font_dir() -> Path:
    if FONT_DIR.is_dir():
        return FONT_DIR
    # Frozen builds (PyInstaller) put resources beside the executable.
    import sys

    base = Path(getattr(sys, "_MEIPASS", Path.cwd()))
    return base / "resources" / "fonts"


class LetterPdf(FPDF):
    """A4 portrait, DejaVu, the structure's identity at the top of each page, page numbers."""

    def __init__(self, structure=None, title: str = ""):
        super().__init__(orientation="P", unit="mm", format="A4")
        fonts = _font_dir()
        self.add_font(FONT, "", str(fonts / "DejaVuSans.ttf"))
        self.add_font(FONT, "B", str(fonts / "DejaVuSans-Bold.ttf"))
        self.structure = structure
        self.doc_title = title
        self.set_auto_page_break(auto=True, margin=18)
        self.set_margins(18, 15, 18)
        self.set_title(title)
        self.set_creator("Gandrange Desk")

    def header(self) -> None:
        s = self.structure
        self.set_font(FONT, "B", 12)
        self.cell(0, 6, s.name if s else "", new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, "", 8.5)
        for line in structure_identity_lines(s)[1:]:
            self.cell(0, 4, line, new_x="LMARGIN", new_y="NEXT")
        self.ln(3)
        self.set_draw_color(160, 160, 160)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(4)

    def footer(self) -> None:
        self.set_y(-12)
        self.set_font(FONT, "", 7.5)
        self.set_text_color(110, 110, 110)
        self.cell(0, 5, f"{self.doc_title} — page {self.page_no()}/{{nb}}", align="C")
        self.set_text_color(0, 0, 0)

    # Small building blocks -------------------------------------------------------------
    def title_block(self, title: str, subtitle: str = "") -> None:
        self.set_font(FONT, "B", 15)
        self.cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
        if subtitle:
            self.set_font(FONT, "", 10)
            self.cell(0, 6, subtitle, new_x="LMARGIN", new_y="NEXT")
        self.ln(3)

    def address_block(self, name: str, address: str) -> None:
        """The recipient at the right, where a window envelope shows it."""
        x = self.w - self.r_margin - 85
        self.set_font(FONT, "B", 10)
        self.set_x(x)
        self.multi_cell(85, 5, name, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, "", 10)
        for line in (address or "").splitlines():
            self.set_x(x)
            self.multi_cell(85, 5, line, new_x="LMARGIN", new_y="NEXT")
        self.ln(6)

    def paragraph(self, text: str, size: float = 10, bold: bool = False, height: float = 5) -> None:
        self.set_font(FONT, "B" if bold else "", size)
        self.multi_cell(0, height, text, new_x="LMARGIN", new_y="NEXT")

    def key_values(self, pairs: Iterable[tuple[str, str]], key_width: float = 55) -> None:
        for key, value in pairs:
            self.set_font(FONT, "", 10)
            self.cell(key_width, 6, key)
            self.set_font(FONT, "B", 10)
            self.multi_cell(0, 6, value, new_x="LMARGIN", new_y="NEXT")

    def table(self, headers: list[str], widths: list[float], rows: list[list[str]],
              aligns: list[str] | None = None, total: list[str] | None = None) -> None:
        aligns = aligns or ["L"] * len(headers)
        self.set_font(FONT, "B", 9)
        self.set_fill_color(232, 236, 242)
        for h, w, a in zip(headers, widths, aligns):
            self.cell(w, 7, h, border=1, align=a, fill=True)
        self.ln()
        self.set_font(FONT, "", 9)
        for row in rows:
            if self.get_y() > self.h - 30:
                self.add_page()
            for value, w, a in zip(row, widths, aligns):
                self.cell(w, 6, _fit(self, value, w), border=1, align=a)
            self.ln()
        if total:
            self.set_font(FONT, "B", 9)
            for value, w, a in zip(total, widths, aligns):
                self.cell(w, 7, value, border=1, align=a)
            self.ln()
        self.ln(3)

    def signature_block(self, place: str, on: date, name: str, role: str) -> None:
        if self.get_y() > self.h - 60:
            self.add_page()
        self.ln(6)
        x = self.w - self.r_margin - 80
        self.set_font(FONT, "", 10)
        for line in (f"Fait à {place}, le {formats.ddmmyyyy(on)}", "", name or "", role or ""):
            self.set_x(x)
            self.cell(80, 5, line, new_x="LMARGIN", new_y="NEXT")
        self.set_x(x)
        self.set_font(FONT, "", 8)
        self.set_text_color(110, 110, 110)
        self.cell(80, 14, "Signature et cachet", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """Shorten a cell's text with an ellipsis rather than let it spill over its neighbour."""
    if pdf.get_string_width(text) <= width - 2:
        return text
    while text and pdf.get_string_width(text + "…") > width - 2:
        text = text[:-1]
    return text + "…"


def structure_identity_lines(structure) -> list[str]:
    if structure is None:
        return [""]
    lines = [structure.name]
    lines += [line for line in (structure.address or "").splitlines() if line.strip()]
    extra = []
    if structure.siret:
        extra.append(f"SIRET {structure.siret}")
    if structure.phone:
        extra.append(f"Tél. {structure.phone}")
    if structure.email:
        extra.append(structure.email)
    if extra:
        lines.append(" — ".join(extra))
    return lines


def structure_city(structure) -> str:
    """'Gandrange' from an address whose last line is '57175 Gandrange'."""
    if structure is None or not structure.address:
        return "Gandrange"
    last = structure.address.strip().splitlines()[-1].strip()
    parts = last.split(maxsplit=1)
    if len(parts) == 2 and parts[0].isdigit():
        return parts[1]
    return last


def family_address(family) -> str:
    return "\n".join(x for x in (family.street, f"{family.postcode} {family.city}".strip()) if x)


def output(pdf: FPDF) -> bytes:
    return bytes(pdf.output())


def reminder_letters_pdf(structure, letters, today: date) -> bytes:
    """One page per reminder, for families without e-mail; `letters` = [(row, subject, body, family)]."""
    pdf = LetterPdf(structure, "Relances de factures impayées")
    for row, subject, body, family in letters:
        pdf.add_page()
        pdf.address_block(family.name, family_address(family))
        pdf.paragraph(f"{structure_city(structure)}, le {formats.ddmmyyyy(today)}")
        pdf.ln(4)
        pdf.paragraph(f"Objet : {subject}", bold=True)
        pdf.ln(3)
        pdf.paragraph(body)
    return output(pdf)
