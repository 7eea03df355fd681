"""PDFs of the help sessions: the prefilled acknowledgement (seed page 0) and the day's list."""

from __future__ import annotations

import re
from datetime import date

from fpdf.enums import XPos, YPos
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from gandrange_desk import formats
from gandrange_desk.errors import NotFound
from gandrange_desk.models import Family
from gandrange_desk.services.appointments import book as appointments
from gandrange_desk.services.context import Desk
from gandrange_desk.services.pdf.base import FAMILY, GREY, INK, Column, load_structure, pdf_text
from gandrange_desk.services.pdf.document import DeskPDF

# Seed page 0, word for word; the name goes where the guide has its dotted line.
NEWS_TITLE = "ATTENTION NOUVEAUTÉ !"
ACK_BEFORE = "Je soussigné(e) "
ACK_AFTER = (" atteste avoir pris connaissance de la notice explicative pour la mise en place du "
             "« Portail des Familles » pour l'accueil périscolaire et extrascolaire.")
RETURN_LINE = "Ce document est à rendre avec le dossier périscolaire"
BLANK_NAME = "." * 60


def _commune(address: str) -> str:
    """The town after the postcode of the structure's address ('…, 57175 Gandrange' → 'Gandrange')."""
    found = re.findall(r"\b\d{5}\s+([^,\n]+)", address or "")
    return found[-1].strip() if found else "Gandrange"


def acknowledgement_sentence(name: str) -> str:
    return f"{ACK_BEFORE}{name or BLANK_NAME}{ACK_AFTER}"


def acknowledgement_pdf(desk: Desk, family_id: int | None = None, *, guardian_id: int | None = None,
                        name: str = "", contact: str = "") -> bytes:
    """The acknowledgement to sign, the family's guardian named in it (or `name`, for a visitor;
    a dotted line when neither is known)."""
    ref = children = ""
    with desk.read() as s:
        info = load_structure(s)
        if family_id is not None:
            f = s.execute(select(Family).where(Family.id == family_id)
                          .options(selectinload(Family.guardians), selectinload(Family.children))).scalar_one_or_none()
            if f is None:
                raise NotFound(f"Famille introuvable (n° {family_id}) : elle a peut-être été supprimée.")
            chosen = next((g for g in f.guardians if g.id == guardian_id), None) or \
                (f.guardians[0] if f.guardians else None)
            name = chosen.full_name if chosen else name
            ref = f"Famille {f.name} ({f.ref})"
            kids = [c.first_name for c in f.children if not c.archived]
            children = ", ".join(kids)
    return _acknowledgement(info, " ".join((name or "").split()), ref, children, contact)


def _acknowledgement(info, name: str, ref: str, children: str, contact: str = "") -> bytes:
    url = (info.portal_url or "l'adresse communiquée par le bureau périscolaire").replace("https://", "")
    bureau = f"Bureau périscolaire ({contact})" if contact else "Bureau périscolaire"
    news = [
        "À compter du 1er octobre, vous devrez compléter l'inscription de votre(vos) enfant(s) par le biais "
        "du « Portail des Familles » avec un accès direct sur le dossier de votre(vos) enfant(s), via le "
        "site de la ville gandrange.fr.",
        f"Adresse URL : {url}",
        "Vous trouverez ci-joint un guide d'utilisation.",
        "En cas de difficultés, un accompagnement est proposé aux familles tout le mois de septembre "
        "sur rendez-vous.",
        f"- {bureau} : {info.phone}" if info.phone else f"- {bureau}",
    ]
    sentence = acknowledgement_sentence(name)
    pdf = DeskPDF(info, title="Accusé de réception de la notice du Portail des Familles",
                  text_hint=[*news, sentence, ref, children, RETURN_LINE, NEWS_TITLE])
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.structure_header("Portail des Familles", [("Famille", ref.split("(")[-1].rstrip(")"))] if ref else [])
    pdf.set_font(FAMILY, "B", 16)
    pdf.cell(0, 10, pdf_text(NEWS_TITLE), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    for paragraph in news:
        pdf.paragraph(paragraph, size=10.5, height=5.6)
        pdf.ln(2)
    pdf.ln(6)
    pdf.dashed_cut_line("À détacher et à rendre avec le dossier périscolaire")
    pdf.ln(8)
    pdf.set_font(FAMILY, "B", 12)
    pdf.cell(0, 7, pdf_text("Accusé de réception"), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.paragraph(sentence, size=11, height=6.2)
    if ref:
        pdf.ln(1)
        pdf.paragraph(ref + (f" — enfant(s) : {children}" if children else ""), size=8.5, color=GREY)
    pdf.ln(8)
    pdf.set_font(FAMILY, "", 11)
    pdf.cell(0, 7, pdf_text(f"À {_commune(info.address)}, le __/__/____"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(6)
    pdf.cell(0, 7, pdf_text("Signature :"), new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_draw_color(150, 150, 150)
    pdf.rect(pdf.l_margin, pdf.get_y() + 1, 90, 28)
    pdf.ln(36)
    pdf.set_font(FAMILY, "B", 10.5)
    pdf.cell(0, 7, pdf_text(RETURN_LINE), align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_text_color(*INK)
    return pdf.to_bytes()


def day_acknowledgements_pdf(desk: Desk, day: date) -> tuple[bytes | None, int]:
    """One acknowledgement per appointment of the day whose signed copy has not come back
    (visitors included, with their name), to prepare the morning's folders."""
    from gandrange_desk.services.pdf.base import merge_pdfs

    rows = [r for r in appointments.day_list(desk, day)
            if r.status == appointments.BOOKED and not (r.family_id and r.acknowledgement_returned)]
    if not rows:
        return None, 0
    return merge_pdfs(acknowledgement_pdf(desk, r.family_id, name=r.visitor_name, contact=r.clerk_name)
                      for r in rows), len(rows)


def day_list_pdf(desk: Desk, day: date) -> bytes:
    """The day's list for the desk: time, family or visitor, phone, clerk, state, notes."""
    rows = appointments.day_list(desk, day)
    with desk.read() as s:
        info = load_structure(s)
    taken = sum(1 for r in rows if r.taken)
    columns = [Column("Heure", 14), Column("Famille / visiteur", 50), Column("Téléphone", 26),
               Column("Agent", 30), Column("État", 16), Column("Notes", 44)]
    body = []
    for r in rows:
        who = r.who or "— libre —"
        if r.family_id is not None and not r.acknowledgement_returned:
            who += "\nAccusé non rendu"
        body.append([r.time_text, who, r.phone, r.clerk_name, r.status_label, r.notes])
    title = f"Rendez-vous du {formats.long_date(day)}"
    pdf = DeskPDF(info, title=title, text_hint=[title, *("".join(b) for b in body)])
    pdf.alias_nb_pages()
    pdf.add_page()
    pdf.structure_header("Rendez-vous du jour", [("Jour", formats.ddmmyyyy(day)),
                                                 ("Rendez-vous", f"{taken} / {len(rows)}")])
    pdf.section(title[0].upper() + title[1:], size=12)
    pdf.paragraph(f"{formats.count(taken, 'rendez-vous pris', 'rendez-vous pris')}, "
                  f"{formats.count(len(rows) - taken, 'créneau libre', 'créneaux libres')}.", size=9)
    pdf.ln(2)
    if body:
        pdf.table(columns, body)
    else:
        pdf.paragraph("Aucun créneau ce jour-là.", size=10)
    return pdf.to_bytes()


__all__ = ["acknowledgement_pdf", "acknowledgement_sentence", "day_acknowledgements_pdf", "day_list_pdf", "ACK_AFTER", "RETURN_LINE"]
