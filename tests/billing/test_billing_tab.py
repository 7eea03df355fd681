"""The Facturation tab and the tariff editor, driven as the supervisor and the clerk would."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt
from sqlalchemy import select

from gandrange_desk.models import Family, OutboxMessage, Tariff
from gandrange_desk.ui.billing.tab import BillingTab
from gandrange_desk.ui.billing.tariff_editor import TariffEditorDialog
from tests.builders import load_example_settings, make_family, unit_id
from tests.billing.test_invoicing import NOV, NOV_DAYS, book


@pytest.fixture
def month_ready(desk, clock):
    load_example_settings(desk)
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    a = make_family(desk, "Arnaud")
    b = make_family(desk, "Sansqf", quotient=None)
    book(desk, a.children[0].id, repas, NOV_DAYS[:3])
    book(desk, b.children[0].id, repas, NOV_DAYS[:2])
    clock.set(2026, 12, 2, 10, 0)
    return desk


def _plain(text: str) -> str:
    return text.replace("\u202f", " ").replace("\u00a0", " ")


def _tab(qtbot, desk) -> BillingTab:
    tab = BillingTab(desk)
    qtbot.addWidget(tab)
    tab.messages = []
    tab.inform = lambda title, text: tab.messages.append(_plain(text))
    tab.warn = lambda title, text: tab.messages.append(_plain(text))
    tab.confirm = lambda title, text, yes="Émettre": tab.messages.append(text) or True
    tab.recaps, tab.paper = [], []
    tab.confirm_issue = lambda recap, text: tab.recaps.append(recap) or tab.messages.append(text) or True
    tab.show_paper_invoices = tab.paper.append
    tab.opened = []
    tab.open_url = tab.opened.append
    tab.resize(1400, 850)
    return tab


def test_month_run_prepare_review_issue_open_print_send(qtbot, month_ready, responsable_desk, monkeypatch):
    tab = _tab(qtbot, responsable_desk)
    assert tab.month() == NOV  # the month before today (02/12/2026)
    assert tab.summary.text() == "Aucune facture pour novembre 2026 : « Préparer » crée les brouillons."
    assert not tab.issue_button.isEnabled()

    qtbot.mouseClick(tab.prepare_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2 and bool(tab.messages), timeout=20000)
    assert tab.messages[-1] == "Novembre 2026 : 2 factures préparées, total 22,40 €, 1 avec anomalie."
    families = [tab.model.index(r, 0).data() for r in range(2)]
    assert families == ["Arnaud", "Sansqf"]
    anomalies = tab.model.index(1, 5).data()
    assert anomalies == "Aucun quotient familial en vigueur : tranche la plus haute appliquée."
    assert tab.model.index(1, 0).data(Qt.BackgroundRole) is not None
    assert _plain(tab.model.index(0, 4).data()) == "12,60 €"
    assert _plain(tab.summary.text()) == "2 brouillons pour novembre 2026, total 22,40 €, 1 avec anomalie."
    # Review filters: anomalies only, then a search by family.
    tab.only_anomalies.setChecked(True)
    assert [r.family_name for r in tab.model.rows] == ["Sansqf"]
    tab.only_anomalies.setChecked(False)
    tab.search.setText("arnau")
    assert [r.family_name for r in tab.model.rows] == ["Arnaud"]
    tab.search.clear()
    assert tab.model.rowCount() == 2
    # Detail of the selected invoice: its lines.
    tab.table.selectRow(0)
    assert tab.lines_model.rowCount() == 1
    assert [tab.lines_model.index(0, c).data() for c in (0, 1, 2, 3)] == [
        "Léa Arnaud", "Périscolaire — Repas", "02/11, 03/11, 05/11", "3"]
    assert tab.issue_button.isEnabled()

    qtbot.mouseClick(tab.issue_button, Qt.LeftButton)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2 and tab.model.rows[0].number is not None, timeout=30000)
    qtbot.waitUntil(lambda: "émises" in tab.messages[-1], timeout=5000)
    assert tab.messages[-2].startswith("Émettre 2 factures de novembre 2026 ?")
    assert tab.messages[-1].startswith("Novembre 2026 : 2 factures émises (2026-000001 à 2026-000002)")
    assert [tab.model.index(r, 2).data() for r in range(2)] == ["2026-000001", "2026-000002"]
    assert not tab.prepare_button.isEnabled()

    tab.table.selectRow(0)
    path = tab.open_selected()
    assert path.name == "Facture-2026-000001.pdf" and path.read_bytes()[:5] == b"%PDF-"
    assert tab.opened and tab.opened[0].toLocalFile() == str(path)

    from gandrange_desk.services.pdf import spool
    monkeypatch.setattr(spool, "printers", lambda: [])
    assert tab.print_invoices() is False
    assert "Aucune imprimante" in tab.messages[-1]

    [recap] = tab.recaps
    assert [(r.activity, r.unit, r.quantity) for r in recap.rows] == [("Périscolaire", "Repas", 5)]
    assert recap.meals == 5 and recap.warning is None and _plain(formats_euros(recap.total_cents)) == "22,40 €"

    qtbot.mouseClick(tab.send_button, Qt.LeftButton)
    assert tab.messages[-2].startswith("Mettre en file d'envoi 2 e-mails « Votre facture est disponible »")
    assert tab.messages[-1] == "2 e-mails de facture mis en file d'envoi."
    assert tab.paper == []
    with responsable_desk.read() as s:
        mails = s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars().all()
        assert [m.subject for m in mails] == ["Votre facture est disponible"] * 2
        assert "Votre facture n° 2026-000001" in mails[0].body_text
        assert [a.filename for a in mails[0].attachments] == ["Facture-2026-000001.pdf"]
    assert tab.model.index(0, 6).data() == "Émise, envoyée"
    tab.grab().save(str(qtbot_screenshot_dir() / "billing_tab.png"))


def formats_euros(cents):
    from gandrange_desk import formats

    return formats.euros(cents)


def qtbot_screenshot_dir():
    import tempfile
    from pathlib import Path
    folder = Path(tempfile.gettempdir()) / "gd-billing-shots"
    folder.mkdir(exist_ok=True)
    return folder


def test_clerk_sees_issue_disabled_and_month_navigation(qtbot, month_ready, agent_desk):
    tab = _tab(qtbot, agent_desk)
    assert not tab.issue_button.isEnabled()
    tab.shift_month(-1)
    assert tab.month() == date(2026, 10, 1)
    assert tab.summary.text().startswith("Aucune facture pour octobre 2026")


def test_tariff_editor_adds_and_refuses(qtbot, month_ready, responsable_desk):
    dialog = TariffEditorDialog(responsable_desk)
    qtbot.addWidget(dialog)
    labels = [dialog.units_list.item(i).text() for i in range(dialog.units_list.count())]
    dialog.units_list.setCurrentRow(labels.index("Périscolaire — Repas"))
    assert dialog.model.rows == [["1", "700", "3,30"], ["1", "1200", "4,20"], ["1", "", "4,90"]]
    dialog.start_new()
    assert dialog.valid_from.date().toPython() == date(2027, 1, 1)
    dialog.model.setData(dialog.model.index(2, 2), "5,10")
    dialog.pai.setText("1,20")
    dialog.surcharge.setText("abc")
    assert dialog.save() is False
    assert dialog.errors.text() == "Majoration hors délai invalide : « abc » (par exemple 1,50, ou vide)."
    dialog.surcharge.setText("1")
    assert dialog.save() is True
    with responsable_desk.read() as s:
        t = s.execute(select(Tariff).where(Tariff.unit_id == unit_id(s), Tariff.valid_from == date(2027, 1, 1))
                      ).scalar_one()
        assert (t.pai_price_cents, t.late_surcharge_cents) == (120, 100)
        assert sorted(b.price_cents for b in t.brackets) == [330, 420, 510]
    assert dialog.tariff_combo.currentText() == "À partir du 01/01/2027"


def test_tariff_editor_is_read_only_for_the_clerk(qtbot, month_ready, agent_desk):
    dialog = TariffEditorDialog(agent_desk)
    qtbot.addWidget(dialog)
    assert not dialog.save_button.isEnabled()
    assert dialog.notice.text() == "Lecture seule : les tarifs sont modifiés par le responsable."


def test_send_asks_first_and_lists_the_invoices_to_post(qtbot, month_ready, responsable_desk):
    from gandrange_desk.services.billing import invoicing

    make_family(responsable_desk, "Sansmail", ref="F-0999", guardians=[
        {"first_name": "Paul", "last_name": "Sansmail", "email": ""}])
    with responsable_desk.read() as s:
        child = s.execute(select(Family).where(Family.ref == "F-0999")).scalar_one().children[0].id
    book(responsable_desk, child, unit_id(responsable_desk, "PERISCOLAIRE", "Repas"), NOV_DAYS[:1])
    invoicing.prepare(responsable_desk, NOV)
    invoicing.issue(responsable_desk, NOV)
    tab = _tab(qtbot, responsable_desk)
    asked = []
    tab.confirm = lambda title, text, yes="": asked.append(text) or False
    tab.send()
    assert "Mettre en file d'envoi 2 e-mails" in asked[0]
    assert "1 famille n’a pas d'adresse e-mail : leurs factures sont à imprimer" in asked[0]
    with responsable_desk.read() as s:
        assert s.execute(select(OutboxMessage)).first() is None  # "Annuler": nothing queued
    tab.confirm = lambda title, text, yes="": True
    tab.send()
    [families] = tab.paper
    assert [(ref, name) for _id, _number, ref, name in families] == [("F-0999", "Sansmail")]
    from gandrange_desk.ui.billing.month_dialogs import PaperInvoicesDialog

    dialog = PaperInvoicesDialog(responsable_desk, families)
    qtbot.addWidget(dialog)
    assert dialog.model.index(0, 0).data() == "F-0999" and dialog.model.index(0, 2).data().startswith("2026-")
    import tempfile
    from pathlib import Path

    from pypdf import PdfReader

    path = dialog.save_them(str(Path(tempfile.mkdtemp()) / "poster.pdf"))
    assert "Sansmail" in PdfReader(path).pages[0].extract_text()


def test_a_month_not_over_is_said_before_preparing(qtbot, month_ready, responsable_desk, clock):
    tab = _tab(qtbot, responsable_desk)
    tab.shift_month(1)  # December, on 2 December
    asked = []
    tab.confirm = lambda title, text, yes="": asked.append(text) or False
    tab.prepare()
    assert asked[0].startswith("Le mois de décembre 2026 n'est pas terminé : encore 30 jours jusqu'au 31/12/2026.")
    assert tab.model.rowCount() == 0  # "Annuler": nothing prepared
