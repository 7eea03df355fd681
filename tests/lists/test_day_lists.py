"""The day's lists per school and unit, the kitchen's count, the PDF and the command."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from pypdf import PdfReader

from gandrange_desk.cli import main
from gandrange_desk.services.lists.day import day_lists, day_pdf
from tests.builders import load_example_settings, make_booking, make_family, unit_id

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

DAY = date(2026, 11, 26)  # Thursday: périscolaire open, MERCREDI closed


def _text(pdf: bytes) -> str:
    # Lines joined: a sentence may wrap in the PDF.
    return " ".join("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages).replace("\u00a0", " ").split())


@pytest.fixture
def day(desk):
    load_example_settings(desk)
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    soir = unit_id(desk, "PERISCOLAIRE", "Accueil soir")
    muller = make_family(desk, "Muller", children=[
        {"first_name": "Léa", "class_name": "CE2", "allergies": "Arachide",
         "pickup": [{"name": "Jeanne Muller", "relation": "Grand-mère", "phone": "06 11 22 33 44"},
                    {"name": "Marc Dupont", "forbidden": True}]},
        {"first_name": "Hugo", "class_name": "MS", "pai": True, "school": "École maternelle"}])
    weber = make_family(desk, "Weber", children=[{"first_name": "Tom", "class_name": "CM1"}])
    lea, hugo = [c.id for c in muller.children]
    tom = weber.children[0].id
    for child in (lea, hugo, tom):
        make_booking(desk, child, repas, DAY)
    make_booking(desk, tom, repas, date(2026, 11, 27))  # another day
    make_booking(desk, lea, soir, DAY)
    make_booking(desk, tom, soir, DAY, state="DA")
    make_booking(desk, hugo, soir, DAY, state="DR")  # not expected: a request still waiting
    return {"lea": lea, "hugo": hugo, "tom": tom}


def test_lists_per_school_and_unit(agent_desk, day):
    lists = day_lists(agent_desk, DAY)
    assert [(u.school_name, u.unit_name, [c.name for c in u.children]) for u in lists.lists] == [
        ("École maternelle", "Repas", ["MULLER Hugo"]),
        ("École élémentaire", "Repas", ["MULLER Léa", "WEBER Tom"]),
        ("École élémentaire", "Accueil soir", ["MULLER Léa", "WEBER Tom"]),
    ]
    soir = lists.lists[2]
    assert soir.pickup and not lists.lists[1].pickup and soir.pending_cancellations == 1
    lea = soir.children[0]
    assert lea.health == "Allergie : Arachide"
    assert lea.pickup_lines() == ["Claire Muller, Mère — 06 12 34 56 78", "Jeanne Muller, Grand-mère — 06 11 22 33 44",
                                  "NON AUTORISÉ : Marc Dupont"]
    assert [(m.school_name, m.booked, m.pai, m.to_cook) for m in lists.kitchen] == [
        ("École maternelle", 1, 1, 0), ("École élémentaire", 2, 0, 2)]
    assert [c.name for m in lists.kitchen for c in m.allergic] == ["MULLER Hugo", "MULLER Léa"]
    assert "MERCREDI : fermé" in lists.closed[0]
    assert lists.summary() == "Jeudi 26 novembre 2026 : 3 listes, 3 enfants attendus, 3 repas réservés."


def test_the_printed_lists(agent_desk, day):
    pdf, lists = day_pdf(agent_desk, DAY)
    text = _text(pdf)
    assert "École élémentaire — Périscolaire — Accueil soir" in text
    assert "2 enfants attendus le jeudi 26 novembre 2026" in text and "dont 1 demande d'annulation en attente" in text
    assert "Jeanne Muller, Grand-mère — 06 11 22 33 44" in text and "NON AUTORISÉ : Marc Dupont" in text
    assert "WEBER Tom" in text and "(annulation demandée)" in text
    assert "Comptage des repas pour la cuisine — jeudi 26 novembre 2026" in text
    assert "PAI — Allergie" not in text and "Allergie : Arachide" in text
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 4  # three lists and the kitchen


def test_a_day_without_children(agent_desk, day):
    pdf, lists = day_pdf(agent_desk, date(2026, 11, 25))
    assert lists.lists == [] and "Aucun enfant attendu le mercredi 25 novembre 2026." in _text(pdf)


def test_the_command(desk, db_url, day, tmp_path, capsys):
    out = tmp_path / "listes.pdf"
    assert main(["--db", db_url, "lists", "day", "--date", "2026-11-26", "--out", str(out)]) == 0
    assert "MULLER Léa" in _text(out.read_bytes())
    assert main(["--db", db_url, "lists", "day", "--date", "2026-11-26", "--site", "maternelle",
                 "--out", str(tmp_path / "m.xlsx")]) == 0
    book = openpyxl.load_workbook(tmp_path / "m.xlsx", data_only=True)
    assert book.sheetnames == ["Listes du jour", "Repas"]
    children = [r for r in book["Listes du jour"].iter_rows(min_row=2, values_only=True)]
    assert [(r[1], r[4], r[7]) for r in children] == [("École maternelle", "MULLER Hugo", True)]
    kitchen = list(book["Repas"].iter_rows(min_row=2, values_only=True))
    assert kitchen[0][3:6] == (1, 1, 0)
    assert main(["--db", db_url, "lists", "day", "--date", "26/11/2026", "--out", str(out)]) == 1
    assert "Date illisible pour le jour des listes" in capsys.readouterr().err
    assert main(["--db", db_url, "lists", "day", "--site", "lycée", "--out", str(out)]) == 1
    assert "École inconnue ou ambiguë « lycée »" in capsys.readouterr().err
