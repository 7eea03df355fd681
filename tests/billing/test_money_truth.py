"""What the e-mails and the PDFs say is true: left to pay after credit notes and payments, the
debit's amount and date, late cancellations marked, the stub on the first page."""

from __future__ import annotations

import io
import re
from datetime import date

import pytest
from pypdf import PdfReader
from sqlalchemy import select
from sqlalchemy.orm import undefer

from gandrange_desk.models import Invoice, OutboxMessage, PaymentMode, Structure
from gandrange_desk.services.billing import credit_notes, invoice_views, invoicing, payments
from tests.billing.test_invoicing import NOV, NOV_DAYS, book
from tests.builders import load_example_settings, make_family, unit_id
from tests.conftest import RESPONSABLE


def pages_of(data: bytes) -> list[str]:
    return [re.sub(r"[\s\u00a0\u202f]+", " ", p.extract_text()) for p in PdfReader(io.BytesIO(data)).pages]


def plain(text: str) -> str:
    return re.sub(r"[\u00a0\u202f]", " ", text)


@pytest.fixture
def month(desk, clock):
    load_example_settings(desk)
    with desk.unit_of_work() as s:
        st = s.execute(select(Structure)).scalar_one()
        st.sepa_ics, st.issuer_name = "FR12ZZZ123456", "Marie Dupont"
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    soir = unit_id(desk, "PERISCOLAIRE", "Accueil soir")
    matin = unit_id(desk, "PERISCOLAIRE", "Accueil matin")
    debit = make_family(desk, "Debit", payment_mode=PaymentMode.PRELEVEMENT)
    cheque = make_family(desk, "Cheque")
    big = make_family(desk, "Nombreuse", children=[{"first_name": "Aïcha", "birth_date": date(2016, 2, 2)},
                                                    {"first_name": "Yanis", "birth_date": date(2018, 3, 3)}])
    book(desk, debit.children[0].id, repas, NOV_DAYS[:2])
    book(desk, cheque.children[0].id, repas, NOV_DAYS[:5])
    book(desk, cheque.children[0].id, repas, NOV_DAYS[5:6], state="AF")  # cancelled late: billed
    for child in big.children:
        for unit in (matin, repas, soir):
            book(desk, child.id, unit, NOV_DAYS)
    clock.set(2026, 12, 1, 9, 0)
    invoicing.prepare(desk, NOV)
    invoicing.issue(desk, NOV)
    with desk.read() as s:
        by_family = {i.family_id: i for i in s.execute(select(Invoice).options(undefer(Invoice.pdf))).scalars()}
    return {"desk": desk, "debit": by_family[debit.id], "cheque": by_family[cheque.id], "big": by_family[big.id]}


def _mail(desk, invoice_id) -> str:
    invoice_views.send_invoices(desk, [invoice_id])
    with desk.read() as s:
        msg = s.execute(select(OutboxMessage).where(OutboxMessage.invoice_id == invoice_id)
                        .order_by(OutboxMessage.id.desc())).scalars().first()
    return plain(msg.body_text)


def test_mail_of_a_fully_credited_debit_invoice_announces_no_debit(month):
    desk, inv = month["desk"], month["debit"]
    credit_notes.issue_credit_note(desk.as_actor(RESPONSABLE), inv.id, reason="Sortie scolaire annulée")
    text = _mail(desk, inv.id)
    assert "Montant de la facture : 8,40 € (avoir de 8,40 €). Il ne reste rien à payer." in text
    assert "Aucun prélèvement ne sera effectué pour cette facture." in text
    assert "prélevé" not in text


def test_mail_of_a_debit_invoice_gives_amount_and_date_debited(month):
    desk, inv = month["desk"], month["debit"]
    text = _mail(desk, inv.id)
    # Issued 01/12: collection day 10/12 is too close, the debit comes 14 days after the invoice.
    assert inv.due_date == date(2026, 12, 15)
    assert "Le montant de 8,40 € sera prélevé sur votre compte le 15/12/2026." in text
    assert "15/12/2026" in pages_of(inv.pdf)[0]


def test_mail_of_a_partly_paid_invoice_says_what_is_left(month):
    desk, inv = month["desk"], month["cheque"]
    payments.record_payment(desk, inv.family_id, mode="especes", received_on=date(2026, 12, 1), amount_cents=1000)
    text = _mail(desk, inv.id)
    assert "Montant de la facture : 25,20 € (déjà réglé : 10,00 €). Reste à payer : 15,20 €." in text
    assert "À régler avant le 31/12/2026." in text


def test_late_cancellation_marked_on_its_own_line(month):
    text = pages_of(month["cheque"].pdf)[0]
    assert "Périscolaire — Repas 02/11, 03/11, 05/11, 06/11, 09/11 5 4,20 € 21,00 €" in text
    assert "Périscolaire — Repas (annulation hors délai) 10/11 1 4,20 € 4,20 €" in text


def test_payment_stub_on_the_first_page_when_the_lines_leave_room(month):
    pages = pages_of(month["big"].pdf)
    # Two children, three units every day of the month: the appeal text goes to the second
    # page, the stub stays at the foot of the first, with the amount to pay.
    assert len(pages) == 2
    assert "Talon à détacher" in pages[0] and "Montant à payer" in pages[0]
    assert "Talon" not in pages[1] and "Voies et délais de recours" in pages[1]
    small = pages_of(month["cheque"].pdf)
    assert len(small) == 1 and "Talon à détacher" in small[0] and "Voies et délais de recours" in small[0]


def test_shorter_pre_notification_only_when_the_settings_say_so(desk, clock, tmp_path):
    from gandrange_desk.errors import ValidationFailed
    from tests.builders import EXAMPLE_SETTINGS

    text = EXAMPLE_SETTINGS.read_text(encoding="utf-8")
    bad = tmp_path / "bad.toml"
    bad.write_text(text.replace("[structure]\n", "[structure]\nprenotification_days = 0\n"), encoding="utf-8")
    with pytest.raises(ValidationFailed, match=r"structure.prenotification_days : valeur 0 hors limites \(entre 1 et 60\)"):
        load_example_settings(desk, path=bad)
    agreed = tmp_path / "agreed.toml"
    agreed.write_text(text.replace("[structure]\n", "[structure]\nprenotification_days = 5\n"), encoding="utf-8")
    load_example_settings(desk, path=agreed)
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    fam = make_family(desk, "Convenu", payment_mode=PaymentMode.PRELEVEMENT)
    book(desk, fam.children[0].id, repas, NOV_DAYS[:2])
    clock.set(2026, 12, 1, 9, 0)
    invoicing.prepare(desk, NOV)
    invoicing.issue(desk, NOV)
    with desk.read() as s:
        # Five days agreed in the mandates: the collection day 10/12 is kept.
        assert s.execute(select(Invoice.due_date)).scalar_one() == date(2026, 12, 10)
        assert s.execute(select(Structure.prenotification_days)).scalar_one() == 5
