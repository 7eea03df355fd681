"""Spreadsheet exports read back with openpyxl and csv: headers, typed cells, totals as the desk's."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

import openpyxl
import pytest

from gandrange_desk.cli import main
from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.models import Attendance
from gandrange_desk.services.billing import payments, reminders
from gandrange_desk.services.billing.invoice_views import list_month
from gandrange_desk.services.exports import lists
from gandrange_desk.services.exports.writer import csv_bytes
from gandrange_desk.services.families.search import search
from gandrange_desk.services.queue.listing import pending_items
from tests import payments_builders as b
from tests.builders import load_example_settings, make_booking, make_family, unit_id

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")


def _sheet(path, name=None):
    book = openpyxl.load_workbook(path, data_only=True)
    return book[name] if name else book.worksheets[0]


def _rows(sheet) -> list[list]:
    return [list(r) for r in sheet.iter_rows(values_only=True)]


def _csv(path) -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # UTF-8 BOM: Excel reads the accents
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline=""), delimiter=";"))


@pytest.fixture
def money(desk):
    b.structure(desk)
    u = b.units(desk)
    muller = b.family(desk, "Muller")
    weber = b.family(desk, "Weber", email=None, children=[("Tom", date(2019, 3, 3))])
    lea, tom = b.child_ids(desk, muller)[0], b.child_ids(desk, weber)[0]
    sept = b.invoice(desk, muller, date(2026, 9, 1), [(u["Soir"], lea, "Soir", 10, 315)], due=date(2026, 10, 28))
    b.invoice(desk, weber, date(2026, 9, 1), [(u["Midi"], tom, "Midi", 7, 415)], due=date(2026, 10, 28))
    b.invoice(desk, muller, date(2026, 10, 1), [(u["Soir"], lea, "Soir", 3, 315)], due=date(2026, 11, 28))
    payments.record_payment(desk, muller, mode="cheque", received_on=date(2026, 10, 3), amount_cents=2000,
                            reference="=HYPERLINK(\"x\")")
    payments.record_payment(desk, weber, mode="especes", received_on=date(2026, 11, 2), amount_cents=1000)
    return {"muller": muller, "weber": weber, "sept": sept}


def test_invoices_typed_with_totals_as_the_desk(desk, money, tmp_path):
    out = tmp_path / "factures.xlsx"
    result = lists.export(desk, "invoices", out, month=date(2026, 9, 1))
    assert result.rows == 2 and result.format == "xlsx"
    sheet = _sheet(out)
    rows = _rows(sheet)
    assert rows[0][:5] == ["Numéro", "Mois", "Statut", "Réf. famille", "Famille"]
    header = rows[0]
    desk_rows = {r.number: r for r in list_month(desk, date(2026, 9, 1))}
    muller = next(r for r in rows[1:3] if r[4] == "Muller")
    assert muller[0] in desk_rows and muller[2] == "Émise"
    assert muller[header.index("Mois")] == datetime(2026, 9, 1)  # a real date cell
    assert muller[header.index("Échéance")] == datetime(2026, 10, 28)
    assert muller[header.index("Montant")] == pytest.approx(31.50)  # a number, in euros
    assert muller[header.index("Payé")] == pytest.approx(20.00)
    assert muller[header.index("Reste à payer")] == pytest.approx(11.50)
    assert muller[header.index("Envoyée")] is False
    # The total row: SUBTOTAL formulas whose cached values are the desk's sums.
    total = rows[3]
    assert total[header.index("Montant")] == pytest.approx(sum(r.total_cents for r in desk_rows.values()) / 100)
    assert total[header.index("Payé")] == pytest.approx(sum(r.paid_cents for r in desk_rows.values()) / 100) == 30.00
    formulas = _rows(openpyxl.load_workbook(out).worksheets[0])[3]
    assert formulas[header.index("Montant")].startswith("=SUBTOTAL(109,")
    cell = sheet.cell(row=2, column=header.index("Montant") + 1)
    assert "€" in cell.number_format and sheet.cell(row=2, column=header.index("Échéance") + 1).number_format == "dd/mm/yyyy"
    assert sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:P3"
    assert openpyxl.load_workbook(out).properties.title == "Factures — septembre 2026"


def test_unpaid_and_payments(desk, money, tmp_path):
    desk.now = lambda: datetime(2026, 12, 1, 9, 0).astimezone()
    lists.export(desk, "unpaid", tmp_path / "impayes.xlsx")
    rows = _rows(_sheet(tmp_path / "impayes.xlsx"))
    unpaid = reminders.unpaid_invoices(desk)
    assert len(rows) == 1 + len(unpaid) + 1
    assert rows[-1][rows[0].index("Reste dû")] == pytest.approx(sum(r.remaining_cents for r in unpaid) / 100)
    assert {r[rows[0].index("E-mail")] for r in rows[1:-1]} == {True, False}
    lists.export(desk, "payments", tmp_path / "reglements.csv", year=2026)
    found = _csv(tmp_path / "reglements.csv")
    assert found[0][:6] == ["Reçu le", "Réf. famille", "Famille", "Mode", "Référence", "Montant"]
    assert found[1][:6] == ["02/11/2026", b.family_ref(desk, money["weber"]), "Weber", "Espèces", "", "10,00"]
    # A reference that looks like a formula is never run by the spreadsheet that opens the file.
    assert found[2][4] == "'=HYPERLINK(\"x\")" and found[2][5] == "20,00"


def test_families_match_the_families_list(desk, money, tmp_path):
    lists.export(desk, "families", tmp_path / "familles.xlsx")
    rows = _rows(_sheet(tmp_path / "familles.xlsx"))
    header = rows[0]
    shown = {r.ref: r for r in search(desk, "").rows}
    for row in rows[1:-1]:
        desk_row = shown[row[0]]
        assert row[1] == desk_row.name
        assert round(row[header.index("Solde")] * 100) == desk_row.balance_cents
        assert row[header.index("Accusé rendu")] is (not desk_row.acknowledgement_missing)
    assert rows[-1][header.index("Solde")] == pytest.approx(sum(r.balance_cents for r in shown.values()) / 100)
    # The search of the window narrows the export the same way.
    make_family(desk, "Wagner")
    lists.export(desk, "families", tmp_path / "wagner.csv", text="wagn")
    assert [r[1] for r in _csv(tmp_path / "wagner.csv")[1:]] == [r.name for r in search(desk, "wagn").rows] == [
        "Wagner"]


def test_grid_queue_and_attendance(desk, tmp_path):
    load_example_settings(desk)
    soir = unit_id(desk, "PERISCOLAIRE", "Accueil soir")
    fam = make_family(desk, "Muller", children=[{"first_name": "Léa", "class_name": "CE2"},
                                               {"first_name": "Hugo", "class_name": "CP"}])
    lea, hugo = [c.id for c in fam.children]
    make_booking(desk, lea, soir, date(2026, 11, 23))
    make_booking(desk, lea, soir, date(2026, 11, 24), state="AF")
    make_booking(desk, hugo, soir, date(2026, 11, 30), state="DR")
    with desk.unit_of_work() as s:
        s.add(Attendance(child_id=lea, unit_id=soir, day=date(2026, 11, 23), presence="excused",
                         recorded_at=desk.now(), recorded_by="sfoncin"))
    lists.export(desk, "grid", tmp_path / "grille.xlsx", month=date(2026, 11, 1))
    sheet = _sheet(tmp_path / "grille.xlsx")
    rows = _rows(sheet)
    header = rows[0]
    assert header[:3] == ["Enfant", "Classe", "Santé"] and header[-1] == "Total"
    assert "lun. 23/11 Soir" in header and not any("mer." in str(h) for h in header)  # no Wednesday
    by_name = {r[0]: r for r in rows[1:3]}
    assert by_name["MULLER Léa"][header.index("lun. 23/11 Soir")] == "R"
    assert by_name["MULLER Léa"][header.index("mar. 24/11 Soir")] == "AF"
    assert by_name["MULLER Hugo"][header.index("lun. 30/11 Soir")] == "DR"
    assert by_name["MULLER Léa"][-1] == 2 and by_name["MULLER Hugo"][-1] == 0
    assert sheet.freeze_panes == "D2"  # names, class and health stay in view
    places = next(r for r in rows if r[0] == "Places occupées (R + DA, toutes écoles)")
    assert places[header.index("lun. 23/11 Soir")] == 1
    capacity = next(r for r in rows if r[0] == "Capacité")
    assert capacity[header.index("lun. 23/11 Soir")] == 45

    lists.export(desk, "queue", tmp_path / "demandes.csv")
    queue = _csv(tmp_path / "demandes.csv")
    items = pending_items(desk)
    assert len(queue) == 1 + len(items) == 2
    assert queue[1][2:7] == ["Réservation", "Hugo Muller", "Périscolaire", "Accueil soir", "30/11/2026"]

    lists.export(desk, "attendance", tmp_path / "pointage.xlsx", month=date(2026, 11, 1))
    rows = _rows(_sheet(tmp_path / "pointage.xlsx"))
    header = rows[0]
    assert [(r[header.index("Jour")].day, r[header.index("Pointage")], r[header.index("Facturé")],
             r[header.index("Facturation")]) for r in rows[1:]] == [
        (23, "Absent excusé", False, "Absence excusée : non facturée"),
        (24, "Non pointé", True, "Facturé comme réservé")]


def test_bad_requests_write_nothing(desk, money, tmp_path):
    folder = tmp_path / "exports"
    folder.mkdir()
    with pytest.raises(ValidationFailed) as exc:
        lists.export(desk, "invoices", folder / "factures.pdf")
    assert "choisissez un fichier .xlsx (Excel, LibreOffice) ou .csv" in str(exc.value)
    with pytest.raises(ValidationFailed) as exc:
        lists.export(desk, "families", folder / "f.xlsx", month=date(2026, 9, 1))
    assert str(exc.value) == "La liste « Familles » ne se choisit pas par mois."
    with pytest.raises(DeskError) as exc:
        lists.export(desk, "families", folder / "missing" / "f.xlsx")
    assert str(exc.value).startswith(f"Impossible d'écrire {folder / 'missing' / 'f.xlsx'}")
    assert list(folder.iterdir()) == []


def test_csv_is_french(desk):
    from gandrange_desk.services.exports.table import BOOL, DATE, HOURS, MONEY, Column, Table
    from decimal import Decimal

    table = Table("T", "T", (Column("Nom"), Column("Montant", MONEY), Column("Jour", DATE), Column("Heures", HOURS),
                             Column("Oui", BOOL)),
                  [("Zoé; « Ça »", -123456, date(2026, 3, 1), Decimal("1.5"), True), ("+33 6 12", 5, None, None, False)])
    text = csv_bytes(table).decode("utf-8-sig")
    assert text.splitlines() == ["Nom;Montant;Jour;Heures;Oui", '"Zoé; « Ça »";-1234,56;01/03/2026;1,50;oui',
                                 "'+33 6 12;0,05;;;non"]
    assert "\r\n" in text


def test_export_command(desk, db_url, money, tmp_path, capsys):
    out = tmp_path / "f.xlsx"
    assert main(["--db", db_url, "export", "invoices", "--month", "2026-09", "--out", str(out)]) == 0
    assert "2 lignes exportées" in capsys.readouterr().out
    assert len(_rows(_sheet(out))) == 4
    assert main(["--db", db_url, "export", "invoices", "--month", "2026-13", "--out", str(out)]) == 1
    assert "Mois invalide" in capsys.readouterr().err
    assert main(["--db", db_url, "--json", "export", "payments", "--year", "2026", "--out",
                 str(tmp_path / "p.csv")]) == 0
    assert '"rows": 2' in capsys.readouterr().out
