"""The dashboard's figures and charts, the PNG export, and the CAF report dialog."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import openpyxl
import pytest
from PySide6.QtGui import QImage
from PySide6.QtWidgets import QMessageBox

from gandrange_desk.clock import PARIS
from gandrange_desk.models import Guardian, OutboxMessage, Request
from gandrange_desk.services.billing import payments
from gandrange_desk.services.reports import dashboard
from tests import payments_builders as b
from tests.builders import load_example_settings, make_booking, make_family, unit_id


@pytest.fixture(autouse=True)
def no_popups(monkeypatch):
    monkeypatch.setattr(QMessageBox, "warning", lambda *a, **k: QMessageBox.Ok)


@pytest.fixture
def figures(desk):
    load_example_settings(desk)
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    fam = make_family(desk, "Muller", children=[{"first_name": "Léa"}, {"first_name": "Hugo"}])
    lea, hugo = [c.id for c in fam.children]
    make_booking(desk, lea, repas, date(2026, 11, 2))
    make_booking(desk, hugo, repas, date(2026, 11, 2), state="DA")
    make_booking(desk, hugo, repas, date(2026, 11, 3), state="AF")  # not a place held
    make_booking(desk, lea, repas, date(2026, 11, 30), state="DR",  # waiting for 3 days
                 submitted_at=datetime(2026, 11, 23, 8, 0, tzinfo=PARIS))
    sept = b.invoice(desk, fam.id, date(2026, 9, 1), [(repas, lea, "Repas", 10, 420)], due=date(2026, 10, 28))
    b.invoice(desk, fam.id, date(2026, 10, 1), [(repas, lea, "Repas", 5, 420)], due=date(2026, 11, 30))
    payments.record_payment(desk, fam.id, mode="especes", received_on=date(2026, 10, 5), amount_cents=3000)
    with desk.unit_of_work() as s:
        now = desk.now()
        for status, created in (("pending", now - timedelta(hours=3)), ("pending", now), ("failed", now),
                                ("temp_failed", now)):
            s.add(OutboxMessage(recipients="x@example.org", subject="s", body_text="b", status=status,
                                message_id=f"<{status}-{created.timestamp()}@test>", created_at=created))
        s.get(Guardian, fam.guardians[0].id).email_doubtful = True
    return {"repas": repas, "sept": sept}


def test_figures(desk, figures):
    occupancy = dashboard.occupancy(desk, date(2026, 11, 1))
    assert occupancy.activity_name == "Périscolaire" and occupancy.days[0] == date(2026, 11, 2)
    repas = next(u for u in occupancy.units if u.unit_id == figures["repas"])
    assert repas.used[0] == 2 and repas.used[1] == 0 and repas.capacity == 110
    assert occupancy.busiest() == "Jour le plus chargé : Repas le 02/11, 2 % de la capacité."
    money = dashboard.money(desk, date(2026, 9, 1), date(2026, 11, 1))
    assert [(m.month.month, m.billed_cents, m.paid_cents, m.overdue_cents, m.not_due_cents) for m in money] == [
        (9, 4200, 3000, 1200, 0), (10, 2100, 0, 0, 2100), (11, 0, 0, 0, 0)]
    waiting = dashboard.waiting(desk)
    # The DR waits since the 23rd; the DA's cancellation request since late October.
    assert dict(waiting.buckets) == {"moins d'1 jour": 0, "1 à 2 jours": 0, "3 à 7 jours": 1, "8 à 14 jours": 0,
                                     "15 jours et plus": 1}
    mail = dashboard.mail(desk)
    assert (mail.late, mail.retrying, mail.failed, mail.doubtful_addresses) == (1, 1, 1, 1)
    assert mail.text() == "3 courriels en difficulté, 1 adresse refusée."


def test_dashboard_tab_and_png(qtbot, desk, figures, tmp_path):
    from gandrange_desk.ui.dashboard.tab import DashboardTab

    tab = DashboardTab(desk.as_actor(desk.actor))
    qtbot.addWidget(tab)
    tab.resize(1366, 768)
    tab.show()
    qtbot.waitExposed(tab)
    chart = tab.occupancy.view.chart()
    bars = chart.series()[0]
    assert [s.label() for s in bars.barSets()] == [
        "Accueil matin (30 places)", "Repas (110 places)", "Accueil soir (45 places)"]
    assert tab.mail.caption.text() == "3 courriels en difficulté, 1 adresse refusée."
    assert tab.money.caption.text().replace("\u202f", " ").replace("\xa0", " ") == (
        "Depuis septembre 2026 : 63,00 € facturés, 12,00 € impayés échus.")
    money = tab.money.view.chart().series()[0]
    assert [s.label() for s in money.barSets()] == ["Encaissé", "Impayé (échu)", "À échoir"]
    assert money.barSets()[1].at(0) == pytest.approx(12.0)
    tab.occupancy.ask_path = lambda: str(tmp_path / "occupation")
    path = tab.occupancy.save_png()
    image = QImage(path)
    assert path.endswith("occupation.png") and not image.isNull() and image.width() > 300


def test_caf_dialog(qtbot, responsable_desk, figures, tmp_path):
    from gandrange_desk.ui.dashboard.caf_dialog import CafDialog

    dialog = CafDialog(responsable_desk)
    qtbot.addWidget(dialog)
    assert dialog.start_edit.date().toPython() == date(2026, 9, 1)
    assert dialog.end_edit.date().toPython() == date(2026, 10, 31)
    dialog.end_edit.setDate(dialog.end_edit.date().addDays(30))
    dialog.compute()
    repas = [r for r in dialog.model.rows if r[1].startswith("Repas")]
    assert repas and repas[0][2] == "Moins de 6 ans"
    assert "Valeur horaire non renseignée" in dialog.summary.text()
    dialog.ask_path = lambda kind: str(tmp_path / f"caf.{kind}")
    assert dialog.save("xlsx") == str(tmp_path / "caf.xlsx")
    assert openpyxl.load_workbook(tmp_path / "caf.xlsx").sheetnames[0] == "Heures et actes"
    assert dialog.save("pdf") and (tmp_path / "caf.pdf").read_bytes().startswith(b"%PDF")
    dialog.end_edit.setDate(dialog.start_edit.date().addDays(-1))
    dialog.compute()
    assert dialog.summary.text() == "Le dernier jour de la période précède le premier."
    assert not dialog.xlsx_button.isEnabled()


def test_agents_do_not_see_the_caf_report(qtbot, agent_desk, figures):
    from gandrange_desk.ui.dashboard.tab import DashboardTab

    tab = DashboardTab(agent_desk)
    qtbot.addWidget(tab)
    assert tab.caf_button.isHidden()
