"""The Listes tab and the "Exporter…" action of the existing lists (headless Qt)."""

from __future__ import annotations

import io
from datetime import date

import openpyxl
import pytest
from pypdf import PdfReader
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel, QMessageBox

from tests import payments_builders as b
from tests.builders import load_example_settings, make_booking, make_family, unit_id
from tests.lists.test_day_lists import DAY, day  # noqa: F401 - the fixture


@pytest.fixture(autouse=True)
def no_popups(monkeypatch):
    said = []
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: said.append(a[2]) or QMessageBox.Ok)
    monkeypatch.setattr(QMessageBox, "information", lambda *a, **k: said.append(a[2]) or QMessageBox.Ok)
    return said


def test_lists_tab(qtbot, desk, day, tmp_path):  # noqa: F811 - the fixture
    from gandrange_desk.ui.lists.tab import ListsTab

    tab = ListsTab(desk)
    qtbot.addWidget(tab)
    tab.set_day(DAY)
    assert [tab.units.data(tab.units.index(r, 1)) for r in range(tab.units.rowCount())] == [
        "Périscolaire — Repas", "Périscolaire — Repas", "Périscolaire — Accueil soir"]
    assert tab.summary.text().startswith("Jeudi 26 novembre 2026 : 3 listes, 3 enfants attendus, 3 repas réservés.")
    tab.units_view.selectRow(2)
    assert tab.children.pickup and not tab.children_view.isColumnHidden(3)
    assert "NON AUTORISÉ : Marc Dupont" in tab.children.data(tab.children.index(0, 3))
    assert [tab.kitchen.data(tab.kitchen.index(r, 4)) for r in range(2)] == ["0", "2"]
    tab.open_after_save = False
    tab.ask_path = lambda suggested: str(tmp_path / suggested)
    qtbot.mouseClick(tab.print_button, Qt.LeftButton)
    pdf = (tmp_path / "listes-2026-11-26.pdf").read_bytes()
    assert len(PdfReader(io.BytesIO(pdf)).pages) == 4
    tab.export.ask_path = lambda parent, suggested: str(tmp_path / "listes.xlsx")
    qtbot.mouseClick(tab.export, Qt.LeftButton)
    assert openpyxl.load_workbook(tmp_path / "listes.xlsx").sheetnames == ["Listes du jour", "Repas"]
    assert tab.message.text() == f"7 lignes exportées : {tmp_path / 'listes.xlsx'}"  # 5 children, 2 meals


def test_every_list_exports_from_its_tab(qtbot, desk, tmp_path, no_popups):
    from gandrange_desk.ui.billing.tab import BillingTab
    from gandrange_desk.ui.families.tab import FamiliesTab
    from gandrange_desk.ui.reservations.tab import ReservationsTab
    from gandrange_desk.ui.validation.tab import ValidationTab

    load_example_settings(desk)
    fam = make_family(desk, "Muller")
    make_booking(desk, fam.children[0].id, unit_id(desk, "PERISCOLAIRE", "Repas"), date(2026, 11, 30), state="DR")
    b.invoice(desk, fam.id, date(2026, 11, 1), [(None, fam.children[0].id, "Repas", 3, 415)])
    for cls, expected in ((FamiliesTab, 1), (ReservationsTab, 1), (ValidationTab, 1), (BillingTab, 1)):
        tab = cls(desk)
        qtbot.addWidget(tab)
        if cls is BillingTab:  # it opens on the month before: the export follows the month shown
            tab.shift_month(1)
        button = tab.export_button if hasattr(tab, "export_button") else tab.export_btn
        out = tmp_path / f"{cls.__name__}.csv"
        button.ask_path = lambda parent, suggested, out=out: str(out)
        qtbot.mouseClick(button, Qt.LeftButton)
        rows = out.read_text(encoding="utf-8-sig").splitlines()
        assert len(rows) == 1 + expected, (cls.__name__, rows, no_popups)
    assert no_popups[-1].startswith("1 ligne exportée")


def test_new_tabs_open_in_the_window(qtbot, desk):
    from gandrange_desk.ui.main_window import MainWindow

    window = MainWindow(desk)
    qtbot.addWidget(window)
    for index in range(6, 9):
        assert not isinstance(window.tab_widget(index), QLabel)  # built, not "pas disponible"


def test_payments_view_exports_the_list_shown(qtbot, desk, tmp_path):
    from gandrange_desk.services.billing import payments
    from gandrange_desk.ui.billing.payments_view import PaymentsView

    b.structure(desk)
    fam = b.family(desk, "Muller")
    b.invoice(desk, fam, date(2026, 9, 1), [(None, None, "Soir", 10, 300)], due=date(2026, 10, 31))
    payments.record_payment(desk, fam, mode="especes", received_on=date(2026, 10, 2), amount_cents=1000)
    view = PaymentsView(desk)
    qtbot.addWidget(view)
    for index, name, header in ((0, "impayes.csv", "Facture"), (1, "paiements.csv", "Reçu le")):
        view.tabs.setCurrentIndex(index)
        view.export_button.ask_path = lambda parent, suggested, name=name: str(tmp_path / name)
        qtbot.mouseClick(view.export_button, Qt.LeftButton)
        rows = (tmp_path / name).read_text(encoding="utf-8-sig").splitlines()
        assert rows[0].startswith(header) and len(rows) == 2
