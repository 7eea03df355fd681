"""`DeskPDF`: the fpdf2 document every PDF of the desk draws on (A4, the structure's identity
in the header and footer, tables, totals). Imported only when a PDF is drawn (see `pdf.base`)."""

from __future__ import annotations

from typing import Iterable, Sequence

from fpdf import FPDF
from fpdf.enums import XPos, YPos

from gandrange_desk.services.pdf.base import (
    FAMILY, GREY, INK, LIGHT, Column, StructureInfo, covered, fast_font_paths, full_font_paths, pdf_text,
)

_WIDTHS: dict[tuple, float] = {}
_WRAPS: dict[tuple, list[str]] = {}


class DeskPDF(FPDF):
    """A4 portrait document with the structure's identity in the header and footer.

    `text_hint`: every text the document will print, so the fast font subset is used only when
    it covers them all.
    """

    def __init__(self, structure: StructureInfo, *, title: str = "", text_hint: Iterable[str] = (),
                 footer_note: str = ""):
        super().__init__(orientation="P", unit="mm", format="A4")
        self.structure = structure
        self.footer_note = footer_note
        # First page of the current document when drawing a batch (see split_pages).
        self.batch_start: int | None = None
        hint = "".join(structure.texts()) + title + footer_note + "".join(t or "" for t in text_hint)
        self.uses_fast_fonts = covered(hint)
        paths = fast_font_paths() if self.uses_fast_fonts else full_font_paths()
        for style, path in paths.items():
            self.add_font(FAMILY, style, str(path))
        self.set_margins(15, 14, 15)
        self.set_auto_page_break(True, margin=18)
        self.set_title(title)
        self.set_author(structure.name)
        self.set_creator("Gandrange Desk")
        self.set_text_color(*INK)
        self.set_font(FAMILY, "", 9)

    # -- page furniture -------------------------------------------------------------------
    def footer(self) -> None:
        self.set_y(-13)
        self.set_font(FAMILY, "", 7)
        self.set_text_color(*GREY)
        parts = [self.structure.name]
        if self.structure.siret:
            parts.append(f"SIRET {self.structure.siret}")
        if self.footer_note:
            parts.append(self.footer_note)
        if self.batch_start is None:
            parts.append(f"Page {self.page_no()}/{{nb}}")
        else:
            # Several documents in one run (split afterwards): number pages per document.
            parts.append(f"Page {self.page_no() - self.batch_start + 1}")
        self.cell(0, 4, pdf_text(" — ".join(p for p in parts if p)), align="C")
        self.set_text_color(*INK)

    def structure_header(self, doc_title: str, meta: Sequence[tuple[str, str]] = ()) -> None:
        """Issuer block on the left (legal details), document title and its facts on the right."""
        s = self.structure
        top = self.get_y()
        self.set_font(FAMILY, "B", 11)
        self.multi_cell(95, 5, pdf_text(s.name or "Structure (nom à compléter)"), align="L",
                        new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, "", 8)
        lines = [line.strip() for line in (s.address or "").splitlines() if line.strip()]
        if s.siret:
            lines.append(f"SIRET : {s.siret}")
        contact = " — ".join(x for x in (s.phone and f"Tél. {s.phone}", s.email) if x)
        if contact:
            lines.append(contact)
        if s.portal_url:
            lines.append(s.portal_url)
        for line in lines:
            self.multi_cell(95, 4, pdf_text(line), align="L", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        left_bottom = self.get_y()

        self.set_xy(115, top)
        self.set_font(FAMILY, "B", 15)
        self.cell(80, 8, pdf_text(doc_title), align="R", new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_font(FAMILY, "", 8.5)
        for label, value in meta:
            self.set_x(115)
            self.set_font(FAMILY, "", 8.5)
            self.cell(40, 4.6, pdf_text(label), align="R")
            self.set_font(FAMILY, "B", 8.5)
            self.cell(40, 4.6, pdf_text(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_y(max(left_bottom, self.get_y()) + 4)
        self.set_draw_color(180, 180, 180)
        self.line(self.l_margin, self.get_y(), self.w - self.r_margin, self.get_y())
        self.ln(4)
        self.set_font(FAMILY, "", 9)

    def address_block(self, name: str, address_lines: Sequence[str], *, x: float = 112,
                      label: str = "") -> None:
        """The recipient's name and address where a window envelope shows it."""
        top = self.get_y()
        self.set_xy(x, top)
        if label:
            self.set_font(FAMILY, "", 7.5)
            self.set_text_color(*GREY)
            self.cell(83, 4, pdf_text(label), new_x=XPos.LEFT, new_y=YPos.NEXT)
            self.set_text_color(*INK)
        self.set_font(FAMILY, "B", 10)
        self.set_x(x)
        self.multi_cell(83, 5, pdf_text(name), align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_font(FAMILY, "", 9.5)
        for line in address_lines:
            self.set_x(x)
            self.multi_cell(83, 4.8, pdf_text(line), align="L", new_x=XPos.LEFT, new_y=YPos.NEXT)
        self.set_xy(self.l_margin, max(self.get_y(), top) + 5)

    def section(self, text: str, *, size: float = 10.5) -> None:
        self.ln(1)
        self.set_font(FAMILY, "B", size)
        self.cell(0, 6, pdf_text(text), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_font(FAMILY, "", 9)

    def paragraph(self, text: str, *, size: float = 8.5, height: float = 4.2, bold: bool = False,
                  color: tuple[int, int, int] | None = None) -> None:
        self.set_font(FAMILY, "B" if bold else "", size)
        if color:
            self.set_text_color(*color)
        for line in self.wrap(pdf_text(text), self.epw):
            if self.will_page_break(height):
                self.add_page()
            self.cell(self.epw, height, line, new_x=XPos.LMARGIN, new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.set_font(FAMILY, "", 9)

    # -- fast wrapping ------------------------------------------------------------------------
    # fpdf2's multi_cell measures every character through its line breaker; invoices print the
    # same words (dates, labels, the appeal text) over and over, so words are measured once.
    def _word_width(self, word: str) -> float:
        key = (self.font_family, self.font_style, self.font_size_pt, word)
        width = _WIDTHS.get(key)
        if width is None:
            width = self.get_string_width(word)
            if len(_WIDTHS) > 50_000:
                _WIDTHS.clear()
            _WIDTHS[key] = width
        return width

    def wrap(self, text: str, width: float) -> list[str]:
        """Lines of `text` fitting `width` mm at the current font (greedy, on spaces)."""
        usable = width - 2 * self.c_margin
        key = (self.font_family, self.font_style, self.font_size_pt, round(usable, 3), text)
        cached = _WRAPS.get(key)
        if cached is not None:
            return cached
        lines: list[str] = []
        for paragraph in text.split("\n"):
            words = paragraph.split(" ")
            space = self._word_width(" ")
            current, current_w = "", 0.0
            for word in words:
                w = self._word_width(word)
                if current and current_w + space + w > usable:
                    lines.append(current)
                    current, current_w = word, w
                elif current:
                    current += " " + word
                    current_w += space + w
                else:
                    current, current_w = word, w
                while current_w > usable and len(current) > 1:
                    # One word longer than the line (a long e-mail address): cut it.
                    cut = len(current)
                    while cut > 1 and self.get_string_width(current[:cut]) > usable:
                        cut -= 1
                    lines.append(current[:cut])
                    current = current[cut:]
                    current_w = self.get_string_width(current)
            lines.append(current)
        if len(_WRAPS) > 20_000:
            _WRAPS.clear()
        _WRAPS[key] = lines
        return lines

    # -- tables -----------------------------------------------------------------------------
    def table_header(self, columns: Sequence[Column]) -> None:
        self.set_font(FAMILY, "B", 8)
        self.set_fill_color(*LIGHT)
        for col in columns:
            self.cell(col.width, 6, pdf_text(col.header), border=0, align=col.align, fill=True)
        self.ln(6)
        self.set_font(FAMILY, "", 8.5)

    def table_rows(self, columns: Sequence[Column], rows: Iterable[Sequence[str]], *,
                   line_height: float = 4.6, repeat_header: bool = True) -> None:
        """Rows of text; a cell may wrap (the row takes the height of its tallest cell)."""
        for row in rows:
            wrapped = [self.wrap(pdf_text(value), col.width) for col, value in zip(columns, row)]
            height = max((len(lines) for lines in wrapped), default=1) * line_height
            if self.will_page_break(height + 1):
                self.add_page()
                if repeat_header:
                    self.table_header(columns)
            y = self.get_y()
            x = self.l_margin
            for col, lines in zip(columns, wrapped):
                for n, line in enumerate(lines):
                    self.set_xy(x, y + n * line_height)
                    self.cell(col.width, line_height, line, align=col.align)
                x += col.width
            self.set_xy(self.l_margin, y + height)
            self.set_draw_color(225, 225, 225)
            self.line(self.l_margin, self.get_y() + 0.4, self.l_margin + sum(c.width for c in columns),
                      self.get_y() + 0.4)
            self.ln(1)

    def table(self, columns: Sequence[Column], rows: Iterable[Sequence[str]]) -> None:
        self.table_header(columns)
        self.table_rows(columns, rows)

    def totals(self, rows: Sequence[tuple[str, str, bool]], *, width: float = 85) -> None:
        """Right-aligned label / amount pairs; bold ones stand out (total, left to pay)."""
        x = self.w - self.r_margin - width
        for label, value, bold in rows:
            if self.will_page_break(6):
                self.add_page()
            self.set_x(x)
            self.set_font(FAMILY, "B" if bold else "", 9.5 if bold else 9)
            if bold:
                self.set_fill_color(*LIGHT)
            self.cell(width - 30, 6, pdf_text(label), align="L", fill=bold)
            self.cell(30, 6, pdf_text(value), align="R", fill=bold, new_x=XPos.LMARGIN,
                      new_y=YPos.NEXT)
        self.set_font(FAMILY, "", 9)

    def dashed_cut_line(self, label: str = "✂ À détacher et à joindre à votre règlement") -> None:
        y = self.get_y()
        self.set_draw_color(120, 120, 120)
        self.set_dash_pattern(dash=1.5, gap=1.2)
        self.line(self.l_margin, y, self.w - self.r_margin, y)
        self.set_dash_pattern()
        self.set_font(FAMILY, "", 7)
        self.set_text_color(*GREY)
        self.cell(0, 4, pdf_text(label.replace("✂ ", "")), align="C", new_x=XPos.LMARGIN,
                  new_y=YPos.NEXT)
        self.set_text_color(*INK)
        self.set_font(FAMILY, "", 9)

    def to_bytes(self) -> bytes:
        return bytes(self.output())
