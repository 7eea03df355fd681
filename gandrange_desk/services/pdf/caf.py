"""The CAF report as a PDF: per activity, acts and hours by unit and age band, children, days."""

from __future__ import annotations

from decimal import Decimal

from gandrange_desk import formats
from gandrange_desk.services.pdf.base import GREY, Column, StructureInfo
from gandrange_desk.services.pdf.document import DeskPDF


def _hours(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:.2f}".replace(".", ",")


def caf_report_pdf(structure: StructureInfo, report) -> bytes:
    texts = [report.title, *report.notes] + [a.name for a in report.activities] + [
        u.unit_name for a in report.activities for u in a.units]
    pdf = DeskPDF(structure, title=report.title, text_hint=texts, footer_note="Rapport CAF")
    pdf.add_page()
    pdf.structure_header("RAPPORT CAF", [
        ("Du", formats.ddmmyyyy(report.start)), ("Au", formats.ddmmyyyy(report.end)),
        ("Établi le", formats.ddmmyyyy(report.today))])
    pdf.paragraph("Actes réservés (R, DA, AF), réalisés (pointage ; un jour réservé non pointé compte d'après la "
                  "réservation) et facturés (règles de facturation des présences), par unité et tranche d'âge de "
                  "l'enfant le jour de l'acte. Heures = actes × valeur horaire de l'unité.", size=8, color=GREY)
    acts = (Column("Unité", 46), Column("Tranche d'âge", 28), Column("Réservés", 24, "R"),
            Column("Réalisés", 24, "R"), Column("dont non pointés", 34, "R"), Column("Facturés", 24, "R"))
    hours = (Column("Unité", 48), Column("Heures par acte", 28, "R"), Column("Tranche d'âge", 26),
             Column("H. réservées", 26, "R"), Column("H. réalisées", 26, "R"), Column("H. facturées", 26, "R"))
    for activity in report.activities:
        days = formats.count(len(activity.open_days), "jour d'ouverture", "jours d'ouverture")
        pdf.section(f"{activity.name} — {days}", size=11)
        pdf.section("Actes", size=9.5)
        rows = []
        for unit in activity.units:
            for index, figures in enumerate([*unit.bands, unit.total]):
                rows.append([unit.unit_name if index == 0 else "", report.bands[index] if index < 2 else "Total",
                             str(figures.booked), str(figures.attended), str(figures.presumed), str(figures.billed)])
        pdf.table(acts, rows)
        timed = [u for u in activity.units if u.minutes is not None]
        if not timed:
            pdf.paragraph("Heures : aucune unité n'a de valeur horaire (Présences et CAF).", size=8.5, color=GREY)
        else:
            pdf.section("Heures", size=9.5)
            rows = []
            for unit in timed:
                for index, figures in enumerate([*unit.bands, unit.total]):
                    rows.append([unit.unit_name if index == 0 else "", unit.hours_text if index == 0 else "",
                                 report.bands[index] if index < 2 else "Total", _hours(unit.hours(figures.booked)),
                                 _hours(unit.hours(figures.attended)), _hours(unit.hours(figures.billed))])
            pdf.table(hours, rows)
            pdf.totals([
                ("Heures réalisées, moins de 6 ans", _hours(activity.hours("attended", 0)), False),
                ("Heures réalisées, 6 ans et plus", _hours(activity.hours("attended", 1)), False),
                ("Heures réalisées", _hours(activity.hours("attended")), True),
            ], width=95)
        pdf.paragraph(f"Enfants accueillis (âge au premier jour de la période) : "
                      f"{activity.children[0]} de moins de 6 ans, {activity.children[1]} de 6 ans et plus, "
                      f"{sum(activity.children)} au total.", size=9)
    if report.notes:
        pdf.section("Remarques", size=10)
        for note in report.notes:
            pdf.paragraph(f"• {note}", size=8.5)
    return pdf.to_bytes()
