"""Attestations: fiscal (under 6 on 1 January, meals out, paid in the year), period, combined PDF."""

from __future__ import annotations

import io
from datetime import date

import pytest
from pypdf import PdfReader

from gandrange_desk.cli import main
from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.services.billing import attestations
from gandrange_desk.services.billing import credit_notes
from gandrange_desk.services.billing import payments
from tests import payments_builders as b

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")


def _text(pdf: bytes) -> str:
    return b.plain("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def _pages(pdf: bytes) -> int:
    return len(PdfReader(io.BytesIO(pdf)).pages)


def _days(month: int, n: int) -> list[date]:
    return [date(2026, month, d) for d in range(1, n + 1)]


@pytest.fixture
def year(desk):
    b.structure(desk)
    u = b.units(desk)
    # Léa is 5 on 1 January 2026; Hugo turned 6 on 1 January 2026 exactly: not eligible.
    fam = b.family(desk, "Muller", children=[("Hugo", date(2020, 1, 1)), ("Léa", date(2021, 5, 4))])
    hugo, lea = b.child_ids(desk, fam)
    sept = b.invoice(desk, fam, date(2026, 9, 1), [
        (u["Soir"], lea, "Soir", 10, 300, _days(9, 10)),     # care 30,00 €
        (u["Midi"], lea, "Midi", 10, 380, _days(9, 10)),     # meal 38,00 € (left out)
        (u["Matin"], hugo, "Matin", 4, 250, _days(9, 4)),    # Hugo: 10,00 € (not under 6)
    ], due=date(2026, 10, 31))
    octo = b.invoice(desk, fam, date(2026, 10, 1), [
        (u["Soir"], lea, "Soir", 10, 300, _days(10, 10)),    # 30,00 €
        (u["Midi"], lea, "Midi", 10, 300, _days(10, 10)),    # 30,00 €
    ], due=date(2026, 11, 30))
    other = b.family(desk, "Weber", children=[("Tom", date(2022, 3, 3))])
    tom = b.child_ids(desk, other)[0]
    b.invoice(desk, other, date(2026, 9, 1), [(u["Soir"], tom, "Soir", 5, 300, _days(9, 5))])
    return {"fam": fam, "other": other, "sept": sept, "oct": octo, "lea": lea}


def test_fiscal_leaves_meals_and_over_six_out(desk, year):
    # September paid in full (78,00 €), October half paid (30,00 € of 60,00 €).
    payments.record_payment(desk, year["fam"], mode="especes", received_on=date(2026, 10, 5), amount_cents=7800)
    payments.record_payment(desk, year["fam"], mode="especes", received_on=date(2026, 11, 5), amount_cents=3000)
    items = attestations.fiscal_attestations(desk, 2026, year["fam"])
    assert len(items) == 1
    assert [(c.name, c.amount_cents) for c in items[0].children] == [("Léa Muller", 3000 + 1500)]
    result = attestations.fiscal_pdf(desk, 2026, year["fam"])
    text = _text(result.pdf)
    assert "ATTESTATION FISCALE" in text and "45,00 €" in text and "Léa Muller" in text
    assert "04/05/2021" in text and "Hugo" not in text
    assert "moins de 6 ans au 1er janvier 2026" in text and "repas" in text
    assert "Commune de Gandrange" in text and "21570242500018" in text
    assert "Marie Lefèvre" in text and "Signature et cachet" in text
    assert "Muller" in text and "12 rue des Écoles" in text
    # Payments of another year do not count.
    assert attestations.fiscal_attestations(desk, 2025, year["fam"]) == []


def test_credit_notes_and_cesu(desk, year):
    credit_notes.issue_credit_note(desk, year["sept"], reason="Absences justifiées",
                                   quantities={_line(desk, year["sept"], 0): 2})  # Soir −6,00 €
    payments.record_payment(desk, year["fam"], mode="cesu", received_on=date(2026, 10, 5), amount_cents=7200,
                            allocations=[(year["sept"], 7200)])
    items = attestations.fiscal_attestations(desk, 2026, year["fam"])
    # Nothing paid by the family itself: CESU préfinancés are employer aid.
    assert items == []
    payments.record_payment(desk, year["fam"], mode="cheque", received_on=date(2026, 11, 5), amount_cents=6000,
                            reference="Chèque 1", allocations=[(year["oct"], 6000)])
    att = attestations.fiscal_attestations(desk, 2026, year["fam"])[0]
    assert att.total_cents == 3000 and att.excluded_cesu_cents == 2400
    assert "CESU préfinancés (24,00 €)" in _text(attestations.fiscal_pdf(desk, 2026, year["fam"]).pdf)


def _line(desk, invoice_id, index):
    from gandrange_desk.models import Invoice

    with desk.read() as s:
        return s.get(Invoice, invoice_id).lines[index].id


def test_all_families_in_one_pdf(desk, year, db_url, tmp_path, capsys):
    payments.record_payment(desk, year["fam"], mode="especes", received_on=date(2026, 10, 5), amount_cents=7800)
    payments.record_payment(desk, year["other"], mode="especes", received_on=date(2026, 10, 6), amount_cents=1500)
    result = attestations.fiscal_pdf(desk, 2026)
    assert result.count == 2 and result.total_cents == 3000 + 1500 and _pages(result.pdf) == 2
    text = _text(result.pdf)
    assert "Muller" in text and "Tom Weber" in text
    out = tmp_path / "fiscales.pdf"
    assert main(["--db", db_url, "attestations", "fiscal", "--year", "2026", "--out", str(out)]) == 0
    assert "2 attestations fiscales, 45,00 € au total" in b.plain(capsys.readouterr().out)
    assert _pages(out.read_bytes()) == 2
    ref = b.family_ref(desk, year["other"])
    assert main(["--db", db_url, "attestations", "fiscal", "--year", "2026", "--out", str(out), "--family", ref]) == 0
    assert "Tom Weber" in _text(out.read_bytes()) and "Muller" not in _text(out.read_bytes())


def test_nothing_to_attest(desk, year):
    with pytest.raises(DeskError) as exc:
        attestations.fiscal_pdf(desk, 2026, year["fam"])
    assert "aucun paiement de garde reçu en 2026" in str(exc.value)
    with pytest.raises(ValidationFailed):
        attestations.fiscal_pdf(desk, 2031)


def test_period_attestation(desk, year, db_url, tmp_path, capsys):
    from gandrange_desk.models import Attendance, Booking

    u = b.units(desk)
    with desk.unit_of_work() as s:
        # Booked on 3, 4 and 7 September; the 8th was cancelled late (AF): billed, not present;
        # a booking of December (after "today") is not a presence yet.
        for day, state in ((3, "R"), (4, "R"), (7, "R"), (8, "AF")):
            s.add(Booking(child_id=year["lea"], unit_id=u["Soir"], day=date(2026, 9, day), state=state))
        s.add(Booking(child_id=year["lea"], unit_id=u["Soir"], day=date(2026, 12, 1), state="R"))
        # The door: there on the 3rd, absent on the 4th, nobody marked the 7th (counted from the
        # reservation, starred), came without a reservation on the 10th.
        for day, presence in ((3, "present"), (4, "absent"), (10, "walk_in")):
            s.add(Attendance(child_id=year["lea"], unit_id=u["Soir"], day=date(2026, 9, day), presence=presence,
                             recorded_at=desk.now(), recorded_by="sfoncin"))
    payments.record_payment(desk, year["fam"], mode="cheque", received_on=date(2026, 10, 5), amount_cents=7800,
                            reference="Chèque 0042")
    result = attestations.period_pdf(desk, year["fam"], date(2026, 9, 3), date(2026, 12, 31))
    text = _text(result.pdf)
    assert "Attestation de présence et de paiement" in text
    att = attestations.period_attestation(desk, year["fam"], date(2026, 9, 3), date(2026, 12, 31))
    assert [(a.child_name, a.unit_label, a.days) for a in att.attendance] == [
        ("Léa Muller", "PÉRISCOLAIRE — Soir", [date(2026, 9, 3), date(2026, 9, 7), date(2026, 9, 10)])]
    assert att.attendance[0].presumed == [date(2026, 9, 7)]
    assert "03/09, 07/09*, 10/09" in text and "Jours de présence" in text
    assert "* Présence d'après la réservation : le pointage de ce jour n'a pas été saisi." in text
    # Billed: Soir from 3 September (8 days) and 1-10 October at 3,00 €.
    soir = [a for a in att.billed if a.child_name == "Léa Muller" and a.unit_label == "Soir"][0]
    assert len(soir.days) == 18 and soir.amount_cents == 5400
    assert "Hugo Muller" in text and "Chèque 0042" in text and "78,00 €" in text
    with pytest.raises(ValidationFailed):
        attestations.period_pdf(desk, year["fam"], date(2026, 10, 2), date(2026, 9, 3))
    out = tmp_path / "p.pdf"
    ref = b.family_ref(desk, year["fam"])
    assert main(["--db", db_url, "attestations", "period", "--family", ref, "--from", "2026-09-01",
                 "--to", "2026-09-30", "--out", str(out)]) == 0
    assert "Léa Muller" in _text(out.read_bytes())


def test_combined_attestation_footers_name_their_own_family(desk, year):
    payments.record_payment(desk, year["fam"], mode="especes", received_on=date(2026, 10, 5), amount_cents=7800)
    payments.record_payment(desk, year["other"], mode="especes", received_on=date(2026, 10, 6), amount_cents=1500)
    pdf = attestations.fiscal_pdf(desk, 2026).pdf
    refs = {"Muller": b.family_ref(desk, year["fam"]), "Weber": b.family_ref(desk, year["other"])}
    pages = [b.plain(p.extract_text()) for p in PdfReader(io.BytesIO(pdf)).pages]
    assert len(pages) == 2
    for text in pages:
        [name] = [n for n in refs if f"Claire {n}" in text]  # the family the page attests
        footers = [ref for ref in refs.values() if f"Attestation fiscale 2026 — famille {ref}" in text]
        assert footers == [refs[name]], text
