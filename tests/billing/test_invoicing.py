"""The monthly run: drafts, regularisation, gap-free issue, all-or-nothing, immutability, roles."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from gandrange_desk.clock import PARIS
from gandrange_desk.errors import DeskError, PermissionDenied, ValidationFailed
from gandrange_desk.models import (
    AuditEntry, Booking, Invoice, InvoiceLine, InvoiceStatus, LineKind, NumberSequence, PaymentMode,
    Structure, Tariff,
)
from gandrange_desk.services.billing import invoicing
from gandrange_desk.services.progress import Cancelled, Progress
from gandrange_desk.services.billing.tariffs import BracketInput, TariffInput, add_tariff
from tests.builders import load_example_settings, make_family, unit_id

NOV = date(2026, 11, 1)
# Open périscolaire days of November 2026 (Mon, Tue, Thu, Fri; 11/11 is a public holiday).
NOV_DAYS = [date(2026, 11, d) for d in (2, 3, 5, 6, 9, 10, 12, 13, 16, 17, 19, 20, 23, 24, 26, 27, 30)]


def book(desk, child_id, unit, days, state="R", late=False, at=None):
    at = at or desk.now()
    with desk.unit_of_work() as s:
        for d in days:
            s.add(Booking(child_id=child_id, unit_id=unit, day=d, state=state, late=late,
                          updated_at=at, updated_by="test"))


def set_price(desk, unit, cents, valid_from=date(2025, 1, 1), **kw):
    """Replace the example tariff of a unit by a single price (plus options)."""
    with desk.unit_of_work() as s:
        for t in s.execute(select(Tariff).where(Tariff.unit_id == unit)).scalars():
            s.delete(t)
    brackets = kw.pop("brackets", None) or [BracketInput(None, cents)]
    return add_tariff(desk, TariffInput(unit, valid_from, brackets, **kw))


@pytest.fixture
def setup(desk):
    load_example_settings(desk)
    with desk.unit_of_work() as s:
        st = s.execute(select(Structure)).scalar_one()
        st.issuer_name = "Marie Dupont"
        st.issuer_role = "Responsable du service Enfance-Jeunesse"
        st.sepa_ics = "FR12ZZZ123456"
    return desk


def lines_of(desk, family_id, month=NOV):
    with desk.read() as s:
        inv = s.execute(select(Invoice).where(Invoice.family_id == family_id, Invoice.month == month)
                        .order_by(Invoice.id.desc())).scalars().first()
        return inv, list(inv.lines) if inv else []


def test_seventeen_meals_at_4_15_is_70_55(setup):
    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    set_price(desk, repas, 415)
    fam = make_family(desk, "Martin")
    book(desk, fam.children[0].id, repas, NOV_DAYS)
    result = invoicing.prepare(desk, "2026-11")
    inv, lines = lines_of(desk, fam.id)
    assert result.invoices == 1
    assert [(l.quantity, l.unit_price_cents, l.amount_cents) for l in lines] == [(17, 415, 7055)]
    assert inv.total_cents == 7055 and inv.status == InvoiceStatus.DRAFT
    assert lines[0].dates.split(",")[0] == "2026-11-02" and lines[0].child_name == "Léa Martin"
    assert "70,55" in result.text()


def test_quotient_brackets_af_billed_excused_not_and_lines_per_child_unit_price(setup):
    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    soir = unit_id(desk, "PERISCOLAIRE", "Accueil soir")
    # Example prices: Repas 3.30 (QF ≤ 700) / 4.20 (≤ 1200) / 4.90; quotient 800 from 2025, 650 from 16/11.
    fam = make_family(desk, "Bernard", quotient=800,
                      children=[{"first_name": "Tom", "birth_date": date(2017, 1, 5)},
                                {"first_name": "Zoé", "birth_date": date(2019, 6, 1)}])
    with desk.unit_of_work() as s:
        from gandrange_desk.models import QuotientRecord
        s.add(QuotientRecord(family_id=fam.id, value=650, valid_from=date(2026, 11, 16)))
    tom, zoe = fam.children
    book(desk, tom.id, repas, NOV_DAYS[:8])             # 2/11..13/11 at 4,20
    book(desk, tom.id, repas, NOV_DAYS[8:10])           # 16/11, 17/11 at 3,30
    book(desk, tom.id, repas, [NOV_DAYS[10]], state="AF")  # late cancellation: billed
    book(desk, tom.id, repas, [NOV_DAYS[11]], state="DR")  # asked, not reserved: not billed
    book(desk, zoe.id, soir, NOV_DAYS[:3])
    invoicing.prepare(desk, NOV)
    inv, lines = lines_of(desk, fam.id)
    got = [(l.child_name, l.label, l.quantity, l.unit_price_cents, l.amount_cents) for l in lines]
    assert got == [
        ("Tom Bernard", "Périscolaire — Repas", 8, 420, 3360),
        ("Tom Bernard", "Périscolaire — Repas", 2, 330, 660),
        # The late cancellation is billed on its own line, marked.
        ("Tom Bernard", "Périscolaire — Repas (annulation hors délai)", 1, 330, 330),
        ("Zoé Bernard", "Périscolaire — Accueil soir", 3, 260, 780),
    ]
    assert lines[2].dates == NOV_DAYS[10].isoformat()
    assert inv.total_cents == 3360 + 990 + 780
    assert inv.anomalies == ""


def test_no_quotient_top_bracket_flagged_and_anomalies(setup):
    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    fam = make_family(desk, "Sansqf", quotient=None, payment_mode=PaymentMode.PRELEVEMENT, street="", city="")
    with desk.unit_of_work() as s:
        from gandrange_desk.models import Mandate
        s.execute(update(Mandate).where(Mandate.family_id == fam.id).values(state="revoked"))
    book(desk, fam.children[0].id, repas, NOV_DAYS[:2])
    with desk.unit_of_work() as s:
        s.execute(update(Structure).values(siret=""))
    result = invoicing.prepare(desk, NOV)
    inv, lines = lines_of(desk, fam.id)
    assert lines[0].unit_price_cents == 490
    assert "tranche la plus haute" in lines[0].label
    assert inv.anomalies.splitlines() == [
        "Aucun quotient familial en vigueur : tranche la plus haute appliquée.",
        "Prélèvement sans mandat SEPA actif.",
        "Adresse de la famille incomplète.",
    ]
    assert result.with_anomalies == 1
    assert any("SIRET" in p for p in result.structure_problems)


def test_sibling_rank_pai_and_late_surcharge(setup):
    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    set_price(desk, repas, 0, brackets=[BracketInput(None, 400, 1), BracketInput(None, 300, 2)],
              pai_price_cents=150, late_surcharge_cents=100)
    fam = make_family(desk, "Rang", children=[
        {"first_name": "Aîné", "birth_date": date(2016, 1, 1)},
        {"first_name": "Cadet", "birth_date": date(2018, 1, 1)},
        {"first_name": "Benjamin", "birth_date": date(2020, 1, 1), "pai": True}])
    a, b, c = fam.children
    book(desk, a.id, repas, NOV_DAYS[:2])
    book(desk, b.id, repas, NOV_DAYS[:2], late=True)
    book(desk, c.id, repas, NOV_DAYS[:1])
    invoicing.prepare(desk, NOV)
    _, lines = lines_of(desk, fam.id)
    got = [(l.child_name.split()[0], l.kind, l.quantity, l.unit_price_cents) for l in lines]
    assert got == [("Aîné", "normal", 2, 400), ("Cadet", "normal", 2, 300),
                   ("Cadet", "surcharge", 2, 100), ("Benjamin", "normal", 1, 150)]
    assert "2e enfant" in lines[1].label and "PAI" in lines[3].label


def test_prepare_is_rerunnable_and_replaces_drafts(setup):
    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    fam = make_family(desk, "Rerun")
    book(desk, fam.children[0].id, repas, NOV_DAYS[:3])
    first = invoicing.prepare(desk, NOV)
    second = invoicing.prepare(desk, NOV)
    with desk.read() as s:
        assert s.execute(select(func.count()).select_from(Invoice)).scalar_one() == 1
        assert s.execute(select(func.count()).select_from(InvoiceLine)).scalar_one() == 1
    assert (first.invoices, first.total_cents) == (second.invoices, second.total_cents) == (1, 3 * 420)
    book(desk, fam.children[0].id, repas, NOV_DAYS[3:4])
    invoicing.prepare(desk, NOV)
    inv, lines = lines_of(desk, fam.id)
    assert inv.total_cents == 4 * 420 and lines[0].quantity == 4


def test_issue_numbers_pdf_and_immutability(setup, clock):
    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    fams = [make_family(desk, name) for name in ("Zola", "Arnaud", "Morel")]
    for f in fams:
        book(desk, f.children[0].id, repas, NOV_DAYS[:2])
    clock.set(2026, 12, 2, 10, 0)
    invoicing.prepare(desk, NOV)
    result = invoicing.issue(desk.as_actor(_resp()), NOV)
    assert (result.first_number, result.last_number, result.invoices) == ("2026-000001", "2026-000003", 3)
    with desk.read() as s:
        rows = s.execute(select(Invoice).order_by(Invoice.number)).scalars().all()
        assert [r.billed_name for r in rows] == ["Claire Arnaud", "Claire Morel", "Claire Zola"]
        assert all(r.status == InvoiceStatus.ISSUED and r.issue_date == date(2026, 12, 2) for r in rows)
        assert rows[0].due_date == date(2027, 1, 4)  # 30 days: 01/01 is a public holiday, then a weekend
        assert rows[0].pdf[:5] == b"%PDF-"
        assert s.execute(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.action == "invoice.issue")).scalar_one() == 3
        first_id = rows[0].id
    # An issued invoice never changes.
    with pytest.raises(DeskError, match="émise"):
        with desk.unit_of_work() as s:
            s.get(Invoice, first_id).total_cents = 1
    with pytest.raises(DeskError, match="émise"):
        with desk.unit_of_work() as s:
            s.get(Invoice, first_id).lines[0].amount_cents = 1
    with pytest.raises(DeskError, match="émise"):
        with desk.unit_of_work() as s:
            s.delete(s.get(Invoice, first_id))
    with desk.unit_of_work() as s:  # marking it sent is allowed
        s.get(Invoice, first_id).sent_at = desk.now()
    # Preparing an issued month is refused; nothing issued is touched.
    with pytest.raises(DeskError, match="déjà émises"):
        invoicing.prepare(desk, NOV)
    with pytest.raises(DeskError, match="Aucune facture en préparation"):
        invoicing.issue(desk, NOV)


def _resp():
    from tests.conftest import RESPONSABLE
    return RESPONSABLE


def test_agent_cannot_issue(setup, agent_desk):
    repas = unit_id(setup, "PERISCOLAIRE", "Repas")
    fam = make_family(setup, "Agent")
    book(setup, fam.children[0].id, repas, NOV_DAYS[:2])
    invoicing.prepare(agent_desk, NOV)  # the clerk may prepare drafts
    with pytest.raises(PermissionDenied, match="responsable"):
        invoicing.issue(agent_desk, NOV)
    with setup.read() as s:
        assert s.execute(select(func.count()).select_from(Invoice)
                         .where(Invoice.status == InvoiceStatus.ISSUED)).scalar_one() == 0


def test_issue_refused_without_legal_details(setup):
    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    fam = make_family(desk, "Legal")
    book(desk, fam.children[0].id, repas, NOV_DAYS[:2])
    invoicing.prepare(desk, NOV)
    with desk.unit_of_work() as s:
        s.execute(update(Structure).values(address=""))
    with pytest.raises(ValidationFailed, match="Adresse de la structure"):
        invoicing.issue(desk, NOV)


def test_stale_drafts_refused(setup, clock):
    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    fam = make_family(desk, "Stale")
    book(desk, fam.children[0].id, repas, NOV_DAYS[:2])
    invoicing.prepare(desk, NOV)
    clock.set(2026, 11, 26, 9, 30)
    book(desk, fam.children[0].id, repas, NOV_DAYS[2:3])
    with pytest.raises(DeskError, match="relancez « Préparer »"):
        invoicing.issue(desk, NOV)


@pytest.mark.parametrize("where", ["middle", "cancel"])
def test_crash_midway_leaves_nothing_issued(setup, where):
    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    for name in ("Un", "Deux", "Trois", "Quatre"):
        f = make_family(desk, name)
        book(desk, f.children[0].id, repas, NOV_DAYS[:2])
    invoicing.prepare(desk, NOV)

    class Boom(Exception):
        pass

    progress = Progress()

    def report(done, total, label):
        if done == 2 and label.startswith("PDF des factures"):
            if where == "middle":
                raise Boom()
            progress.cancel()

    progress._report = report
    with pytest.raises(Boom if where == "middle" else Cancelled):
        invoicing.issue(desk, NOV, progress=progress)
    with desk.read() as s:
        statuses = s.execute(select(Invoice.status, Invoice.number, Invoice.pdf)).all()
        assert [st for st, _, _ in statuses] == ["draft"] * 4
        assert all(n is None and p is None for _, n, p in statuses)
        assert s.execute(select(func.coalesce(func.max(NumberSequence.last_value), 0))).scalar_one() == 0
    # And the next run numbers from 1: no gap left by the crash.
    result = invoicing.issue(desk, NOV)
    assert (result.first_number, result.last_number) == ("2026-000001", "2026-000004")


def test_numbering_continues_and_restarts_each_year(setup, clock):
    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    fam = make_family(desk, "Annuel")
    fam2 = make_family(desk, "Deuxieme")
    book(desk, fam.children[0].id, repas, NOV_DAYS[:1])
    book(desk, fam.children[0].id, repas, [date(2026, 12, 1)])
    book(desk, fam2.children[0].id, repas, [date(2026, 12, 3)])
    clock.set(2026, 12, 2, 9, 0)
    invoicing.prepare(desk, NOV)
    assert invoicing.issue(desk, NOV).first_number == "2026-000001"
    clock.set(2027, 1, 4, 9, 0)
    invoicing.prepare(desk, date(2026, 12, 1))
    res = invoicing.issue(desk, date(2026, 12, 1))
    assert (res.first_number, res.last_number) == ("2027-000001", "2027-000002")
    with desk.unit_of_work() as s:
        assert invoicing.next_number(s, "credit_note", 2027) == 1
        assert invoicing.next_number(s, "credit_note", 2027) == 2


def test_changes_after_issue_become_regularisation_lines(setup, clock):
    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    fam = make_family(desk, "Regul")
    child = fam.children[0].id
    book(desk, child, repas, NOV_DAYS[:4], at=datetime(2026, 11, 20, 9, 0, tzinfo=PARIS))
    clock.set(2026, 12, 1, 9, 0)
    invoicing.prepare(desk, NOV)
    invoicing.issue(desk, NOV)
    # After issue: one November booking added, one cancelled as excused (row gone).
    clock.set(2026, 12, 3, 9, 0)
    book(desk, child, repas, [NOV_DAYS[5]])
    from gandrange_desk.models import Request
    with desk.unit_of_work() as s:
        gone = s.execute(select(Booking).where(Booking.child_id == child, Booking.day == NOV_DAYS[0])).scalar_one()
        s.delete(gone)
        s.add(Request(kind="cancellation", source="desk_office", family_id=fam.id, child_id=child, unit_id=repas,
                      day=NOV_DAYS[0], from_state="R", to_state=None, submitted_at=desk.now(),
                      status="accepted", decided_at=desk.now(), decided_by="test", billing="excused"))
    book(desk, child, repas, [date(2026, 12, 1)])
    clock.set(2027, 1, 5, 9, 0)
    invoicing.prepare(desk, date(2026, 12, 1))
    inv, lines = lines_of(desk, fam.id, date(2026, 12, 1))
    got = [(l.kind, l.quantity, l.unit_price_cents, l.amount_cents, l.dates) for l in lines]
    assert got == [
        ("normal", 1, 420, 420, "2026-12-01"),
        ("regularisation", 1, 420, 420, NOV_DAYS[5].isoformat()),
        ("regularisation", -1, 420, -420, NOV_DAYS[0].isoformat()),
    ]
    assert "Régularisation novembre 2026" in lines[1].label
    assert inv.total_cents == 420
    # Once billed by an issued regularisation, the change is not billed again.
    invoicing.issue(desk, date(2026, 12, 1))
    book(desk, child, repas, [date(2027, 1, 4)])
    clock.set(2027, 2, 2, 9, 0)
    invoicing.prepare(desk, date(2027, 1, 1))
    _, lines = lines_of(desk, fam.id, date(2027, 1, 1))
    assert [l.kind for l in lines] == ["normal"]


def test_send_queues_invoice_mail_with_pdf_and_names_families_without_email(setup, clock):
    from gandrange_desk.models import OutboxMessage
    from gandrange_desk.services.billing import invoice_views

    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    mail = make_family(desk, "Courriel")
    paper = make_family(desk, "Papier", guardians=[{"first_name": "Jean", "last_name": "Papier", "email": ""}])
    for f in (mail, paper):
        book(desk, f.children[0].id, repas, NOV_DAYS[:2])
    clock.set(2026, 12, 2, 10, 0)
    invoicing.prepare(desk, NOV)
    drafts = [r.id for r in invoice_views.list_month(desk, NOV)]
    assert invoice_views.send_invoices(desk, drafts).not_issued == 2  # drafts are never sent
    invoicing.issue(desk, NOV)
    result = invoice_views.send_invoices(desk, [r.id for r in invoice_views.list_month(desk, NOV)])
    assert (result.queued, result.without_email) == (1, ["Papier"])
    with desk.read() as s:
        msg = s.execute(select(OutboxMessage)).scalar_one()
        assert msg.subject == "Votre facture est disponible" and msg.kind == "invoice"
        assert msg.recipients.startswith("claire.courriel")
        assert "Votre facture n° 2026-000001" in msg.body_text and "novembre 2026" in msg.body_text
        assert "à régler avant le 04/01/2027" in msg.body_text
        assert msg.attachments[0].content[:5] == b"%PDF-"
        sent = s.execute(select(Invoice.sent_at).where(Invoice.number == "2026-000001")).scalar_one()
        assert sent is not None


def test_pending_cancellation_not_billed_then_regularised_when_billed(setup, clock):
    desk = setup
    repas = unit_id(desk, "PERISCOLAIRE", "Repas")
    fam = make_family(desk, "Attente")
    child = fam.children[0].id
    book(desk, child, repas, NOV_DAYS[:2], at=datetime(2026, 11, 20, 9, 0, tzinfo=PARIS))
    book(desk, child, repas, NOV_DAYS[2:3], state="DA", at=datetime(2026, 11, 20, 9, 0, tzinfo=PARIS))
    clock.set(2026, 12, 1, 9, 0)
    invoicing.prepare(desk, NOV)
    inv, lines = lines_of(desk, fam.id)
    assert [l.quantity for l in lines] == [2]
    assert inv.anomalies == "1 demande d'annulation en attente (non facturée)."
    invoicing.issue(desk, NOV)
    # The office decides the late cancellation after issue: billed (AF) → added on December.
    clock.set(2026, 12, 2, 9, 0)
    with desk.unit_of_work() as s:
        cell = s.execute(select(Booking).where(Booking.child_id == child, Booking.day == NOV_DAYS[2])).scalar_one()
        cell.state, cell.updated_at = "AF", desk.now()
    clock.set(2027, 1, 4, 9, 0)
    invoicing.prepare(desk, date(2026, 12, 1))
    inv, lines = lines_of(desk, fam.id, date(2026, 12, 1))
    assert [(l.kind, l.quantity, l.amount_cents, l.dates) for l in lines] == [
        ("regularisation", 1, 420, NOV_DAYS[2].isoformat())]
