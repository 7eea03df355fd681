"""Tariff lookup (brackets, ranks, PAI, dates in force) and the supervisor's editor operations."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from gandrange_desk.errors import PermissionDenied, StaleEdit, ValidationFailed
from gandrange_desk.models import AuditEntry, Tariff
from gandrange_desk.services.billing import invoicing
from gandrange_desk.services.billing.tariffs import (
    regularisation_note,
    Bracket, BracketInput, PriceBook, QuotientBook, TariffInput, TariffView, add_tariff, delete_tariff,
    list_tariffs, pick_price, price_of, update_tariff,
)
from tests.builders import load_example_settings, make_family, unit_id


def view(brackets, pai=None, late=None, valid_from=date(2026, 1, 1), unit=1):
    return TariffView(1, unit, valid_from, tuple(Bracket(*b) for b in brackets), pai, late)


EXAMPLE = [(700, 330, 1), (1200, 420, 1), (None, 490, 1), (700, 250, 2), (None, 400, 2)]


@pytest.mark.parametrize("quotient, rank, expected", [
    (0, 1, 330), (700, 1, 330), (701, 1, 420), (1200, 1, 420), (1201, 1, 490), (5000, 1, 490),
    (None, 1, 490),
    (600, 2, 250), (900, 2, 400), (600, 3, 250),  # 3rd child: 2nd-child prices (highest rank defined)
])
def test_bracket_and_rank(quotient, rank, expected):
    price = pick_price(view(EXAMPLE), quotient=quotient, sibling_rank=rank)
    assert price.cents == expected
    assert price.no_quotient == (quotient is None)


def test_pai_price_only_for_meals_and_only_when_defined():
    t = view(EXAMPLE, pai=150)
    assert pick_price(t, quotient=800, pai=True, meal=True).cents == 150
    assert pick_price(t, quotient=800, pai=True, meal=False).cents == 420
    assert pick_price(view(EXAMPLE), quotient=800, pai=True, meal=True).cents == 420


def test_tariff_in_force_on_the_day_and_quotient_in_force_on_the_day():
    old = TariffView(1, 7, date(2025, 9, 1), (Bracket(None, 400, 1),), None, None)
    new = TariffView(2, 7, date(2026, 1, 1), (Bracket(None, 415, 1),), None, 50)
    book = PriceBook([new, old])
    # A unit's first tariff applies from the start (a tariff imported without a date starts on
    # the import day: the months before must not go unbilled).
    assert book.tariff_for(7, date(2025, 8, 31)) is old and book.price(7, date(2024, 9, 2), quotient=None).cents == 400
    assert book.price(7, date(2025, 12, 31), quotient=None).cents == 400
    assert book.price(7, date(2026, 1, 1), quotient=None).cents == 415
    assert book.surcharge(7, date(2025, 12, 31)) is None and book.surcharge(7, date(2026, 1, 2)) == 50
    q = QuotientBook([(1, date(2025, 1, 1), 800), (1, date(2026, 3, 1), 600)])
    assert q.on(1, date(2024, 12, 31)) is None
    assert q.on(1, date(2026, 2, 28)) == 800 and q.on(1, date(2026, 3, 1)) == 600


def test_seventeen_times_4_15_in_integer_cents():
    assert 17 * pick_price(view([(None, 415, 1)]), quotient=None).cents == 7055


@pytest.fixture
def settings(desk):
    load_example_settings(desk)
    return desk


def test_add_tariff_audited_and_used_from_its_date(settings, responsable_desk):
    repas = unit_id(settings, "PERISCOLAIRE", "Repas")
    tid = add_tariff(responsable_desk, TariffInput(repas, date(2027, 1, 1), [
        BracketInput(700, 340), BracketInput(None, 500), BracketInput(None, 450, 2)],
        pai_price_cents=120, late_surcharge_cents=100))
    fam = make_family(settings, "Tarif", quotient=650)
    with settings.read() as s:
        assert price_of(s, repas, date(2026, 12, 31), fam.id).cents == 330  # example tariff
        assert price_of(s, repas, date(2027, 1, 4), fam.id).cents == 340
        audit = s.execute(select(AuditEntry).where(AuditEntry.action == "tariff.add")).scalar_one()
        assert audit.user_login == "mresp" and audit.entity_id == tid and '"pai_price_cents": 120' in audit.after
    units = {u.unit_name: u for u in list_tariffs(settings)}
    assert [t.valid_from for t in units["Repas"].tariffs] == [date(2025, 1, 1), date(2027, 1, 1)]


def test_agent_cannot_change_tariffs(settings, agent_desk):
    repas = unit_id(settings, "PERISCOLAIRE", "Repas")
    with pytest.raises(PermissionDenied, match="Modifier les tarifs"):
        add_tariff(agent_desk, TariffInput(repas, date(2027, 1, 1), [BracketInput(None, 500)]))


def test_validation_messages_in_french_and_nothing_written(settings):
    soir = unit_id(settings, "PERISCOLAIRE", "Accueil soir")
    with pytest.raises(ValidationFailed) as err:
        add_tariff(settings, TariffInput(soir, date(2027, 1, 1), [
            BracketInput(700, -5), BracketInput(700, 300), BracketInput(None, 200, 2), BracketInput(None, 250, 2)],
            pai_price_cents=100))
    text = str(err.value)
    assert "Un prix ne peut pas être négatif." in text
    assert "exactement une tranche « au-delà »" in text
    assert "deux tranches avec le même plafond" in text
    assert "Un prix PAI ne s'applique qu'à une unité repas." in text
    with pytest.raises(ValidationFailed, match="commence déjà le 01/01/2025"):
        add_tariff(settings, TariffInput(soir, date(2025, 1, 1), [BracketInput(None, 300)]))
    with settings.read() as s:
        assert s.execute(select(func.count()).select_from(Tariff).where(Tariff.unit_id == soir)).scalar_one() == 1


def test_update_with_stale_version_refused_and_corrections_of_issued_months_regularised(settings, clock):
    repas = unit_id(settings, "PERISCOLAIRE", "Repas")
    tid = add_tariff(settings, TariffInput(repas, date(2026, 11, 1), [BracketInput(None, 500)]))
    update_tariff(settings, tid, 1, TariffInput(repas, date(2026, 11, 1), [BracketInput(None, 510)]))
    with pytest.raises(StaleEdit, match="la fiche tarif a été modifiée par systeme"):
        update_tariff(settings, tid, 1, TariffInput(repas, date(2026, 11, 1), [BracketInput(None, 520)]))
    # November issued at 5,10 €, then the tariff corrected to 4,80 € (DESIGN §5: a tariff
    # correction is accepted and regularised on the next invoice, never an edit of an issued one).
    from tests.billing.test_invoicing import NOV_DAYS, book, lines_of
    fam = make_family(settings, "Correction")
    book(settings, fam.children[0].id, repas, NOV_DAYS[:3])
    clock.set(2026, 12, 1, 9, 0)
    invoicing.prepare(settings, "2026-11")
    invoicing.issue(settings, "2026-11")
    with settings.read() as s:
        assert "décembre" not in regularisation_note(s, date(2026, 12, 1))
        assert regularisation_note(s, date(2026, 12, 1)) == ""
        assert regularisation_note(s, date(2026, 11, 1)).startswith("Les factures de novembre 2026 sont déjà émises")
    update_tariff(settings, tid, 2, TariffInput(repas, date(2026, 11, 1), [BracketInput(None, 480)]))
    clock.set(2027, 1, 4, 9, 0)
    invoicing.prepare(settings, "2026-12")
    _, lines = lines_of(settings, fam.id, date(2026, 12, 1))
    assert [(l.kind, l.quantity, l.unit_price_cents, l.amount_cents) for l in lines] == [
        ("regularisation", 3, -30, -90)]
    assert lines[0].label.replace("\u00a0", " ") == (
        "Régularisation novembre 2026 — Périscolaire — Repas : prix corrigé (4,80 € au lieu de 5,10 €)")
    delete_tariff(settings, tid, 3)
