"""Builders for the payments, credit notes, SEPA and attestation tests: issued invoices via the ORM."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from gandrange_desk.models import (
    Activity,
    Child,
    Family,
    Guardian,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    Mandate,
    Structure,
    Unit,
)

_seq = {"n": 0}


def structure(desk, **overrides) -> int:
    values = dict(name="Commune de Gandrange — Service périscolaire",
                  address="Place de la Mairie\n57175 Gandrange", siret="21570242500018",
                  email="periscolaire@gandrange.fr", phone="03 87 67 00 00",
                  issuer_name="Marie Lefèvre", issuer_role="Responsable du service périscolaire",
                  sepa_ics="FR44ZZZ123456", sepa_iban="FR7630006000011234567890189",
                  sepa_bic="AGRIFRPP", collection_day=10, payment_terms_days=30)
    values.update(overrides)
    with desk.unit_of_work() as s:
        existing = s.scalar(select(Structure).limit(1))
        if existing:
            for k, v in values.items():
                setattr(existing, k, v)
            return existing.id
        row = Structure(**values)
        s.add(row)
        s.flush()
        return row.id


def units(desk) -> dict[str, int]:
    """PÉRISCOLAIRE with Matin, Midi (meal) and Soir."""
    with desk.unit_of_work() as s:
        existing = s.scalar(select(Activity).where(Activity.code == "PERI"))
        if existing:
            return {u.name: u.id for u in existing.units}
        act = Activity(code="PERI", name="PÉRISCOLAIRE")
        act.units = [Unit(name="Matin", position=0), Unit(name="Midi", meal=True, position=1),
                     Unit(name="Soir", position=2)]
        s.add(act)
        s.flush()
        return {u.name: u.id for u in act.units}


def family(desk, name="Muller", *, email: str | None = "claire.muller@example.fr", mode="cheque",
           children: list[tuple[str, date]] = (("Léa", date(2021, 5, 4)),)) -> int:
    _seq["n"] += 1
    n = _seq["n"]
    with desk.unit_of_work() as s:
        fam = Family(ref=f"F{n:04d}", name=name, street="12 rue des Écoles", postcode="57175",
                     city="Gandrange", payment_mode=mode)
        fam.guardians = [Guardian(first_name="Claire", last_name=name, email=email or "", position=0)]
        fam.children = [Child(ref=f"E{n:04d}{i}", first_name=first, last_name=name, birth_date=born)
                        for i, (first, born) in enumerate(children)]
        s.add(fam)
        s.flush()
        return fam.id


def family_ref(desk, family_id: int) -> str:
    with desk.read() as s:
        return s.get(Family, family_id).ref


def child_ids(desk, family_id: int) -> list[int]:
    with desk.read() as s:
        return [c.id for c in s.get(Family, family_id).children]


def invoice(desk, family_id: int, month: date, lines: list[tuple], *, number: str | None = None,
            due: date | None = None, issue: date | None = None, status=InvoiceStatus.ISSUED) -> int:
    """lines: (unit_id, child_id, label, quantity, unit_price_cents[, dates list]).

    Issued on the 2nd of the next month, due on the 28th; a prélèvement invoice is due on the
    debit date it announces (collection day 10, at least 14 days after the invoice)."""
    from types import SimpleNamespace

    from gandrange_desk.services.billing.dates import debit_date

    _seq["n"] += 1
    with desk.unit_of_work() as s:
        fam = s.get(Family, family_id)
        issue = issue or date(month.year + (month.month == 12), month.month % 12 + 1, 2)
        if due is None and fam.payment_mode == "prelevement":
            due = debit_date(SimpleNamespace(collection_day=10, prenotification_days=14), month, issue)
        if number is None and status == InvoiceStatus.ISSUED:
            # The counter is shared by the whole session; a test may also have fixed a number.
            while s.scalar(select(Invoice.id).where(Invoice.number == f"{month.year}-{_seq['n']:06d}")):
                _seq["n"] += 1
            number = f"{month.year}-{_seq['n']:06d}"
        inv = Invoice(family_id=family_id, month=month, status=status, number=number,
                      issue_date=issue,
                      due_date=due or date(month.year + (month.month == 12), month.month % 12 + 1, 28),
                      billed_name=fam.name, billed_address="12 rue des Écoles\n57175 Gandrange",
                      payment_mode=fam.payment_mode)
        total = 0
        for pos, line in enumerate(lines):
            unit_id, child_id, label, qty, price = line[:5]
            days = line[5] if len(line) > 5 else []
            child = s.get(Child, child_id) if child_id else None
            inv.lines.append(InvoiceLine(unit_id=unit_id, child_id=child_id, label=label,
                                         child_name=child.full_name if child else "",
                                         dates=",".join(d.isoformat() for d in days), quantity=qty,
                                         unit_price_cents=price, amount_cents=qty * price, position=pos))
            total += qty * price
        inv.total_cents = total
        s.add(inv)
        s.flush()
        return inv.id


def mandate(desk, family_id: int, *, rum="RUM-0001", iban="FR7630001007941234567890185", bic="BDFEFRPP",
            signed_on=date(2025, 9, 1), first_collected_on=None) -> int:
    with desk.unit_of_work() as s:
        fam = s.get(Family, family_id)
        m = Mandate(family_id=family_id, rum=rum, iban=iban, bic=bic, holder=f"Claire {fam.name}",
                    signed_on=signed_on, sequence_type="RCUR" if first_collected_on else "FRST",
                    first_collected_on=first_collected_on)
        s.add(m)
        s.flush()
        return m.id


def plain(text: str) -> str:
    """Babel writes French amounts with no-break spaces; tests compare with plain ones."""
    return text.replace("\xa0", " ").replace("\u202f", " ")
