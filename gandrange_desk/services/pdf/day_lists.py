"""The day's lists as printed every morning: one page per school and unit, then the kitchen's.

Each child has a box to tick for the team without a tablet, the class and health marks, and,
for a unit that ends the day, who may collect the child — one person a line, those not allowed
last and in bold. A list longer than a page repeats its title and header on the next one.
The kitchen's page counts the meals per school and lists allergies and PAI.
"""

from __future__ import annotations

from datetime import date
from typing import Sequence

from fpdf.enums import XPos, YPos

from gandrange_desk import formats
from gandrange_desk.services.pdf.base import FAMILY, GREY, Column, StructureInfo, pdf_text
from gandrange_desk.services.pdf.document import DeskPDF

LINE = 4.4
BOX = 3.6


class DayListPDF(DeskPDF):
    """A list's pages: the running title on every page after its first."""

    running = ""

    def header(self) -> None:
        if self.running and self.page_no() > 1:
            self.set_font(FAMILY, "", 7.5)
            self.set_text_color(*GREY)
            self.cell(0, 5, pdf_text(self.running), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
            self.set_text_color(20, 20, 20)
            self.set_font(FAMILY, "", 9)

    def children_rows(self, columns: Sequence[Column], rows: Sequence[tuple[list[str], bool]]) -> None:
        """Rows whose cells are lists of lines; a box to tick in the first column; `strong` rows'
        last lines that start with NON AUTORISÉ in bold."""
        for cells, _ in rows:
            wrapped = [[w for line in lines for w in self.wrap(pdf_text(line), col.width)]
                       for col, lines in zip(columns, cells)]
            height = max(1, max(len(w) for w in wrapped)) * LINE
            if self.will_page_break(height + 1):
                self.add_page()
                self.table_header(columns)
            y, x = self.get_y(), self.l_margin
            self.set_draw_color(90, 90, 90)
            self.rect(x + (columns[0].width - BOX) / 2, y + 0.5, BOX, BOX)
            x += columns[0].width
            for col, lines in zip(columns[1:], wrapped[1:]):
                for n, line in enumerate(lines):
                    self.set_xy(x, y + n * LINE)
                    self.set_font(FAMILY, "B" if line.startswith("NON AUTORISÉ") else "", 8.5)
                    self.cell(col.width, LINE, line, align=col.align)
                x += col.width
            self.set_font(FAMILY, "", 8.5)
            self.set_xy(self.l_margin, y + height)
            self.set_draw_color(225, 225, 225)
            self.line(self.l_margin, self.get_y() + 0.4, self.l_margin + sum(c.width for c in columns), self.get_y() + 0.4)
            self.ln(1)


def _texts(lists) -> list[str]:
    texts = [*lists.closed, *lists.open_units]
    for unit in lists.lists:
        texts += [unit.school_name, unit.label]
        for c in unit.children:
            texts += [c.name, c.class_name, c.health, *c.pickup_lines()]
    return texts


def _columns(health: bool, pickup: bool) -> list[Column]:
    columns = [Column("Présent", 14, "C"), Column("Enfant", 46), Column("Classe", 13)]
    if health:
        columns.append(Column("Santé", 32 if pickup else 107))
    if pickup:
        columns.append(Column("Peuvent venir chercher l'enfant", 180 - sum(c.width for c in columns)))
    return columns


def day_lists_pdf(structure: StructureInfo, lists, today: date) -> bytes:
    when = formats.long_date(lists.day)
    pdf = DayListPDF(structure, title=f"Listes du jour — {formats.ddmmyyyy(lists.day)}", text_hint=_texts(lists),
                     footer_note=f"Listes du {formats.ddmmyyyy(lists.day)}, éditées le {formats.ddmmyyyy(today)}")
    if not lists.lists:
        pdf.add_page()
        pdf.structure_header("LISTES DU JOUR", [("Jour", formats.ddmmyyyy(lists.day))])
        pdf.paragraph(f"Aucun enfant attendu le {when}.", size=10)
        for line in lists.closed:
            pdf.paragraph(line, size=9, color=GREY)
        return pdf.to_bytes()
    for unit in lists.lists:
        pdf.running = ""
        pdf.add_page()
        pdf.running = f"{unit.school_name} — {unit.label} — {formats.ddmmyyyy(lists.day)} (suite)"
        pdf.structure_header("LISTE DU JOUR", [
            ("Jour", formats.ddmmyyyy(lists.day)), ("École", unit.school_name), ("Unité", unit.unit_name)])
        pdf.section(f"{unit.school_name} — {unit.label}", size=12)
        pdf.paragraph(_unit_summary(unit, when), size=9)
        pdf.ln(1)
        columns = _columns(lists.health, unit.pickup)
        rows = []
        for c in unit.children:
            cells = [[""], [c.name] + (["(annulation demandée)"] if c.state == "DA" else []), [c.class_name]]
            if lists.health:
                cells.append([c.health])
            if unit.pickup:
                cells.append(c.pickup_lines())
            rows.append((cells, bool(c.forbidden)))
        pdf.table_header(columns)
        pdf.children_rows(columns, rows)
    pdf.running = ""
    _kitchen(pdf, lists)
    return pdf.to_bytes()


def _unit_summary(unit, when: str) -> str:
    n = len(unit.children)
    text = f"{formats.count(n, 'enfant attendu', 'enfants attendus')} le {when}"
    if unit.capacity:
        text += f" (capacité de l'unité, toutes écoles : {unit.capacity})"
    if unit.pending_cancellations:
        text += (f", dont {formats.count(unit.pending_cancellations, 'demande', 'demandes')} d'annulation "
                 "en attente")
    return text + "."


def _kitchen(pdf: DeskPDF, lists) -> None:
    if not lists.kitchen:
        return
    pdf.add_page()
    pdf.structure_header("REPAS", [("Jour", formats.ddmmyyyy(lists.day))])
    pdf.section(f"Comptage des repas pour la cuisine — {formats.long_date(lists.day)}", size=12)
    columns = (Column("École", 44), Column("Repas", 36), Column("Réservés", 22, "R"), Column("dont PAI", 22, "R"),
               Column("À préparer", 26, "R"), Column("Annul. en attente", 30, "R"))
    rows = [[m.school_name, m.unit_label.split(" — ")[-1], str(m.booked), str(m.pai), str(m.to_cook),
             str(m.pending_cancellations)] for m in lists.kitchen]
    rows.append(["Total", "", str(sum(m.booked for m in lists.kitchen)), str(sum(m.pai for m in lists.kitchen)),
                 str(sum(m.to_cook for m in lists.kitchen)), str(sum(m.pending_cancellations for m in lists.kitchen))])
    pdf.table(columns, rows)
    pdf.paragraph("PAI : l'enfant mange le panier repas fourni par sa famille (pas de repas à préparer). "
                  "Les demandes d'annulation en attente sont comptées : la réservation tient jusqu'à la décision "
                  "du bureau.", size=8, color=GREY)
    if not lists.health:
        return
    pdf.section("Allergies et PAI", size=10.5)
    allergic = [(m.school_name, c) for m in lists.kitchen for c in m.allergic]
    if not allergic:
        pdf.paragraph("Aucune allergie ni PAI parmi les repas du jour.")
        return
    pdf.table((Column("École", 40), Column("Enfant", 48), Column("Classe", 16), Column("Allergies et PAI", 76)),
              [[school, c.name, c.class_name, c.health] for school, c in allergic])
