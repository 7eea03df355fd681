"""The monthly run: prepare drafts, issue them with gap-free numbers and their PDFs.

- `prepare(desk, month)`: one draft per family from the month's R and AF cells (an excused
  cancellation has no booking row, so it is never billed), priced by the tariff in force each
  day for the family's quotient; changes to already issued months become regularisation lines.
  Re-runnable: drafts of the month are replaced, issued invoices are never touched.
- `issue(desk, month)`: supervisor only; numbers YYYY-NNNNNN from a counter row locked in the
  same transaction, the PDF made and stored; all or nothing.
- `next_number(s, name, year)`: the gap-free counter (credit notes use it too).

One family's draft lines (pricing, attendance, bulk writes) are built in `billing.drafts`.

An issued invoice never changes: the models refuse a flush that would alter or delete one
(models/billing.py).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, selectinload

from gandrange_desk import formats
from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.models import (
    Attendance, BilledDay, Booking, Family, Guardian, Invoice, InvoiceStatus, Mandate,
    MandateState, NumberSequence, PaymentAllocation, PaymentMode, RegularisationCheck, Request, RequestStatus,
    Role, Structure,
)
from gandrange_desk.services.attendance.settings import load_rules
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.progress import Progress
from gandrange_desk.services.billing import checked_months, dates, draft_days, draft_keys, regularisation
from gandrange_desk.services.billing.drafts import (
    Labels, MonthSeen, family_draft, write_drafts, load_units, month_cells, no_cycle_collection, unit_label,
)
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.billing.tariffs import PriceBook, QuotientBook

INVOICE_SEQUENCE = "invoice"


# --------------------------------------------------------------------------- months
def month_start(value: date | str) -> date:
    if isinstance(value, str):
        from gandrange_desk.services import validation as v

        try:
            return v.month_text(value)
        except v.Invalid as exc:
            raise ValidationFailed([f"Mois invalide : {exc.reason}."]) from None
    return date(value.year, value.month, 1)


def month_end(month: date) -> date:
    nxt = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def format_number(year: int, value: int) -> str:
    return f"{year}-{value:06d}"


# --------------------------------------------------------------------------- numbering
def next_number(s: Session, name: str, year: int) -> int:
    """The next value of a gap-free yearly counter, inside the caller's transaction.

    PostgreSQL: the counter row is locked (SELECT … FOR UPDATE) until the caller commits, so two
    workstations issuing at once take turns and a rollback gives the numbers back. SQLite: the
    engine opens every unit of work with BEGIN IMMEDIATE, which already serialises writers.
    """
    return reserve_numbers(s, name, year, 1)[0]


def reserve_numbers(s: Session, name: str, year: int, count: int) -> range:
    dialect = s.get_bind().dialect.name
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        s.execute(pg_insert(NumberSequence).values(name=name, year=year, last_value=0)
                  .on_conflict_do_nothing(index_elements=["name", "year"]))
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        s.execute(sqlite_insert(NumberSequence).values(name=name, year=year, last_value=0)
                  .on_conflict_do_nothing(index_elements=["name", "year"]))
    row = s.execute(
        select(NumberSequence.id, NumberSequence.last_value)
        .where(NumberSequence.name == name, NumberSequence.year == year)
        .with_for_update()
    ).one()
    first = row.last_value + 1
    s.execute(update(NumberSequence).where(NumberSequence.id == row.id)
              .values(last_value=row.last_value + count))
    return range(first, first + count)


# --------------------------------------------------------------------------- prepare
@dataclass
class PrepareResult:
    month: date
    invoices: int = 0
    total_cents: int = 0
    with_anomalies: int = 0
    regularisations: int = 0
    structure_problems: list[str] = field(default_factory=list)
    # Days that could not be priced (no tariff for that unit): listed, never billed silently at 0.
    unpriced: list[str] = field(default_factory=list)
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    def text(self, shown: int = 5) -> str:
        out = (f"{formats.month_year(self.month).capitalize()} : "
               f"{formats.count(self.invoices, 'facture préparée', 'factures préparées')}, "
               f"total {formats.euros(self.total_cents)}")
        if self.with_anomalies:
            out += f", {formats.count(self.with_anomalies, 'avec anomalie', 'avec anomalies')}"
        if self.regularisations:
            out += f", {formats.count(self.regularisations, 'ligne de régularisation', 'lignes de régularisation')}"
        out += "."
        if self.unpriced:
            n = len(self.unpriced)
            out += (f"\n{formats.count(n, 'jour sans tarif', 'jours sans tarif')} "
                    f"({formats.plural(n, 'non facturé', 'non facturés')}) :")
            out += "".join(f"\n  {line}" for line in self.unpriced[:shown])
            if n > shown:
                out += f"\n  … et {n - shown} autres."
        for problem in self.structure_problems:
            out += "\n" + problem
        return out


def structure_problems(s: Session) -> list[str]:
    st = s.execute(select(Structure).order_by(Structure.id).limit(1)).scalar_one_or_none()
    if st is None:
        return ["Structure non renseignée : importez les réglages avant de facturer."]
    problems = []
    if not (st.siret or "").strip():
        problems.append("SIRET de la structure manquant : il doit figurer sur les factures (Réglages).")
    if not (st.address or "").strip():
        problems.append("Adresse de la structure manquante : elle doit figurer sur les factures (Réglages).")
    return problems


def _month_issued(s: Session, month: date) -> bool:
    return s.execute(select(Invoice.id).where(Invoice.month == month,
                                              Invoice.status == InvoiceStatus.ISSUED).limit(1)).first() is not None


def prepare(desk: Desk, month: date | str, progress: Progress | None = None) -> PrepareResult:
    """Drafts of every family with billable cells (or regularisations) in `month`."""
    desk.require(Role.AGENT, "Préparer les factures")
    # The cycle collector resumes once the run's million tuples are freed with its frame
    # (`no_cycle_collection`).
    with no_cycle_collection():
        return _prepare(desk, month_start(month), progress)


def _prepare(desk: Desk, month: date, progress: Progress | None) -> PrepareResult:
    last = month_end(month)
    result = PrepareResult(month)
    with desk.unit_of_work() as s:
        if _month_issued(s, month):
            raise DeskError(f"Les factures {formats.of_month(month)} sont déjà émises : les "
                            "changements de ce mois iront en régularisation sur la facture suivante.")
        result.structure_problems = structure_problems(s)
        units = load_units(s)
        book = PriceBook.load(s)
        quotients = QuotientBook.load(s)
        rules = load_rules(s)
        # unit_id IN (…) lets the (unit_id, day) index serve the day range.
        unit_ids = sorted(units) or [0]
        # The inputs of this month's comparison once issued, read before its cells: a change made
        # meanwhile shows as a different fingerprint at the next prepare (see `checked_months`).
        fingerprints = checked_months.Fingerprints(s, units, quotients, rules, unit_ids)
        inputs = fingerprints.inputs(month)
        cells_by_child, free_by_child, pending_by_child, seen = month_cells(s, month, last, unit_ids, rules)
        regul = regularisation.compute(s, month, units, book, quotients, lambda u: unit_label(units, u), rules,
                                       fingerprints)
        child_ids = set(cells_by_child) | set(free_by_child) | {c for reg in regul.values() for c in reg.lines}
        children = regularisation._children(s, child_ids)
        family_children: dict[int, list] = defaultdict(list)
        for child in children.values():
            family_children[child.family_id].append(child)
        for family_id, reg in regul.items():
            if reg.anomalies and family_id not in family_children:
                result.unpriced += reg.anomalies  # nothing else to bill: said here, not lost
        family_ids = sorted(family_children)
        families = {f.id: f for f in s.execute(
            select(Family.id, Family.ref, Family.name, Family.street, Family.postcode, Family.city,
                   Family.payment_mode).where(Family.id.in_(family_ids))).all()} if family_ids else {}
        first_guardian: dict[int, str] = {}
        for g in s.execute(select(Guardian.family_id, Guardian.first_name, Guardian.last_name)
                           .where(Guardian.family_id.in_(family_ids))
                           .order_by(Guardian.family_id, Guardian.position, Guardian.id)).all():
            first_guardian.setdefault(g.family_id, f"{g.first_name} {g.last_name}".strip())
        mandated = set(s.execute(select(Mandate.family_id).where(
            Mandate.state == MandateState.ACTIVE, Mandate.family_id.in_(family_ids))).scalars())
        pending_da: dict[int, int] = defaultdict(int)
        for child_id, n in pending_by_child.items():
            if child_id in children:
                pending_da[children[child_id].family_id] += n

        # The month's previous drafts are rewritten in place (`write_drafts`): a family's draft
        # keeps its row, its lines and billed days that did not change stay.
        previous_rows = {r.family_id: r for r in s.execute(
            select(Invoice.family_id, Invoice.id, Invoice.draft_key, Invoice.total_cents, Invoice.payment_mode,
                   Invoice.anomalies, Invoice.billed_name, Invoice.billed_address)
            .where(Invoice.month == month, Invoice.status == InvoiceStatus.DRAFT)).all()}
        previous = {family_id: r.id for family_id, r in previous_rows.items()}
        result.changes.invoices.update(previous.values())  # rewritten below, or gone
        # A family whose draft's inputs and rows are as the last run left them is not built again
        # (`draft_keys`), provided that run proved the month's drafts and they are still those.
        inputs_of = _family_inputs(fingerprints.shared, month, seen, families, first_guardian, mandated,
                                   pending_da, family_children, regul, quotients)
        key_of = {family_id: inputs_of(family_id) for family_id in family_ids}
        # The drafts' rows are read back only when some family's inputs are those of its draft.
        rows_now = _unchanged_rows(s, month, previous_rows) if any(
            r.draft_key and r.draft_key.startswith(f"{key_of.get(f)}|") for f, r in previous_rows.items()) else None

        now = desk.now()
        invoice_rows, drafts = [], []
        billed_totals = [0, 0, 0]  # the drafts' billed days: count, prices, surcharges (the proof's tag)
        pricing = regularisation._Truth(book, quotients)
        labels = Labels(units)
        total = len(family_ids)
        for done, family_id in enumerate(family_ids):
            if progress:
                progress.check()
                if done % 50 == 0:
                    progress.step(done, total, f"Préparation : {done} / {total} familles")
            fam = families[family_id]
            reg = regul.get(family_id)
            key = key_of[family_id]
            before = previous_rows.get(family_id)
            if rows_now is not None and before is not None and before.draft_key == f"{key}|{rows_now.get(before.id)}":
                # Unchanged since the last run: the same draft, its row only stamped.
                result.unpriced += [a for a in before.anomalies.split("\n") if a.startswith("Pas de tarif")]
                if reg:
                    result.regularisations += sum(len(lines) for lines in reg.lines.values())
                invoice_rows.append(dict(
                    family_id=family_id, month=month, status=InvoiceStatus.DRAFT.value, prepared_at=now,
                    total_cents=before.total_cents, payment_mode=before.payment_mode, anomalies=before.anomalies,
                    billed_name=before.billed_name, billed_address=before.billed_address,
                    version=1, updated_at=now, updated_by=desk.actor.login,
                ))
                drafts.append(None)
                for i, x in enumerate(draft_keys.billed_totals(rows_now[before.id])):
                    billed_totals[i] += x
                result.total_cents += before.total_cents
                result.with_anomalies += bool(before.anomalies)
                continue
            draft = family_draft(family_id, month, family_children[family_id], cells_by_child, free_by_child, reg,
                                  pricing, labels, rules)
            if draft.anomalies:
                result.unpriced += [a for a in draft.anomalies if a.startswith("Pas de tarif")]
            if reg:
                result.regularisations += sum(len(lines) for lines in reg.lines.values())
            if len(draft.lines) == draft.free_lines:
                continue  # nothing billed (at most days said "non facturé"): no invoice
            anomalies = draft.anomalies
            if draft.no_quotient_days:
                anomalies.insert(0, "Aucun quotient familial en vigueur : tranche la plus haute appliquée.")
            if fam.payment_mode == PaymentMode.PRELEVEMENT and family_id not in mandated:
                anomalies.append("Prélèvement sans mandat SEPA actif.")
            if not (fam.street or "").strip() or not (fam.city or "").strip():
                anomalies.append("Adresse de la famille incomplète.")
            if pending_da.get(family_id):
                n = pending_da[family_id]
                anomalies.append(f"{formats.count(n, 'demande', 'demandes')} d'annulation en attente "
                                 f"(non {formats.plural(n, 'facturée', 'facturées')}).")
            total_cents = sum(line["amount_cents"] for line in draft.lines)
            # Its key: its inputs, and the sums of its rows as the next run reads them back once
            # written, made here from the values to write (`draft_keys.content_of_rows`).
            rows = draft_keys.content_of_rows(draft.day_rows, draft.lines)
            for i, x in enumerate(draft_keys.billed_totals(rows)):
                billed_totals[i] += x
            invoice_rows.append(dict(
                family_id=family_id, month=month, status=InvoiceStatus.DRAFT.value, prepared_at=now,
                total_cents=total_cents, payment_mode=fam.payment_mode, anomalies="\n".join(anomalies),
                billed_name=first_guardian.get(family_id) or f"Famille {fam.name}",
                billed_address="\n".join(x for x in (fam.street, f"{fam.postcode} {fam.city}".strip()) if x),
                version=1, updated_at=now, updated_by=desk.actor.login, draft_key=f"{key}|{rows}",
            ))
            drafts.append(draft)
            result.total_cents += total_cents
            result.with_anomalies += bool(anomalies)
        if progress:
            progress.check()
            progress.step(total, total, "Enregistrement des brouillons…")
        # The drafts bill exactly what the comparison of the month will find once they are
        # issued: proved here, on what this run read, so that the issue records the month as right.
        # The unchanged drafts were proved by the last run (the proof holds family by family).
        built = [draft for draft in drafts if draft is not None]
        day_rows = [row for draft in built for row in draft.day_rows]

        def children_of(ids):
            found = {c: children[c] for c in ids if c in children}
            missing = set(ids) - set(found)
            return found | (regularisation._children(s, missing) if missing else {})

        month_seen = seen
        if len(built) < len(drafts):
            kept_kids = {kid.id for row, draft in zip(invoice_rows, drafts) if draft is None
                         for kid in family_children[row["family_id"]]}
            month_seen = MonthSeen({k: v for k, v in seen.booked.items() if k[0] not in kept_kids},
                                   [m for m in seen.others if m[0] not in kept_kids],
                                   {k: v for k, v in seen.present.items() if k[0] not in kept_kids})
        proved = regularisation.prove_draft(month, month_seen, day_rows, children_of, units, pricing, labels.unit,
                                            rules)
        ids = write_drafts(s, month, invoice_rows, drafts, previous)
        result.changes.invoices.update(ids)
        checked_months.record_proof(s, month, inputs if proved else None, ids, tuple(billed_totals))
        result.invoices = len(invoice_rows)
        desk.audit(s, "invoice.prepare", "invoice_month", None,
                   after={"month": month.isoformat(), "invoices": result.invoices, "total_cents": result.total_cents,
                          "regularisations": result.regularisations, "unpriced": len(result.unpriced)})
    return result


def _unchanged_rows(s: Session, month: date, previous_rows: dict) -> dict[int, str] | None:
    """The previous drafts' rows as they are now (`draft_keys.content_of_drafts`), when the
    last run proved the month's drafts and they are still the ones it proved; otherwise None:
    every family is built again."""
    if not any(r.draft_key for r in previous_rows.values()):
        return None
    proof = s.execute(select(RegularisationCheck.fingerprint).where(RegularisationCheck.month == month)).scalar()
    if proof is None:
        return None
    rows_now = draft_keys.content_of_drafts(s.connection(), month)
    ids = [r.id for r in previous_rows.values()]
    totals = [0, 0, 0]
    for invoice_id in ids:
        rows_now.setdefault(invoice_id, draft_keys.content(None, None))
        for i, x in enumerate(draft_keys.billed_totals(rows_now[invoice_id])):
            totals[i] += x
    if proof[checked_months.INPUTS:] != checked_months.drafts_tag(month, ids, tuple(totals)):
        return None  # the drafts proved are no longer those: a draft deleted, a row changed
    return rows_now


def _family_inputs(common: bytes, month: date, seen, families: dict, first_guardian: dict, mandated: set,
                   pending_da: dict, family_children: dict, regul: dict, quotients):
    """family -> the key of everything its draft is built from (`draft_keys`), from the rows
    this run has read: its children's cells (day masks) and marks of the month, its children,
    family row and quotients, first guardian, mandate, pending cancellations and regularisation."""
    booked: dict[int, list] = defaultdict(list)
    for (c, u), masks in seen.booked.items():
        booked[c].append((u, *masks))
    marked: dict[int, list] = defaultdict(list)
    for c, u, d, presence in seen.others:
        marked[c].append((u, d.isoformat(), presence))
    present: dict[int, list] = defaultdict(list)
    for (c, u), mask in seen.present.items():
        present[c].append((u, mask))
    month_text = month.isoformat()

    def key(family_id: int) -> str:
        kids = sorted(family_children[family_id], key=lambda k: k.id)
        reg = regul.get(family_id)
        return draft_keys.inputs_key(
            common, month_text, tuple(families[family_id]), first_guardian.get(family_id), family_id in mandated,
            pending_da.get(family_id, 0), quotients.of(family_id),
            [(kid.id, kid.family_id, kid.name, kid.birth_date.isoformat() if kid.birth_date else None, kid.pai,
              sorted(booked.get(kid.id, ())), sorted(marked.get(kid.id, ())), sorted(present.get(kid.id, ())))
             for kid in kids],
            (sorted(reg.lines.items()), reg.records, reg.anomalies) if reg else None)

    return key


# --------------------------------------------------------------------------- issue
@dataclass
class IssueResult:
    month: date
    invoices: int = 0
    first_number: str | None = None
    last_number: str | None = None
    total_cents: int = 0
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    def text(self) -> str:
        if not self.invoices:
            return "Aucune facture émise."
        span = self.first_number if self.invoices == 1 else f"{self.first_number} à {self.last_number}"
        return (f"{formats.month_year(self.month).capitalize()} : "
                f"{formats.count(self.invoices, 'facture émise', 'factures émises')} ({span}), "
                f"total {formats.euros(self.total_cents)}.")


def debit_date(structure: Structure, month: date, issue_date: date) -> date:
    """The debit date printed on `month`'s prélèvement invoices issued on `issue_date`
    (at least the pre-notification delay after it: see `billing.dates`)."""
    return dates.debit_date(structure, month, issue_date)


def issue(desk: Desk, month: date | str, progress: Progress | None = None) -> IssueResult:
    """Number, date and render every draft of the month in one transaction."""
    from gandrange_desk.services.pdf.base import StructureInfo
    from gandrange_desk.services.billing.payments import credit_new_invoices
    from gandrange_desk.services.pdf.invoice import document_for, render_invoices

    desk.require(Role.RESPONSABLE, "Émettre les factures")
    month = month_start(month)
    result = IssueResult(month)
    with desk.unit_of_work() as s:
        # Take the counter's lock before reading the drafts: a second workstation issuing the
        # same month waits here, then finds the drafts already issued instead of racing for them.
        reserve_numbers(s, INVOICE_SEQUENCE, desk.today().year, 0)
        problems = structure_problems(s)
        if problems:
            raise ValidationFailed(problems, headline="Émission impossible :")
        drafts = s.execute(
            select(Invoice).join(Family, Family.id == Invoice.family_id)
            .where(Invoice.month == month, Invoice.status == InvoiceStatus.DRAFT)
            .order_by(Family.name, Family.ref, Invoice.id)
            .options(selectinload(Invoice.lines))
        ).scalars().all()
        if not drafts:
            raise DeskError(f"Aucune facture en préparation pour {formats.month_year(month)} : "
                            "lancez d'abord « Préparer ».")
        _refuse_stale(s, month, drafts)
        checks = checked_months.before_issue(s, month, [d.id for d in drafts])
        structure_row = s.execute(select(Structure).order_by(Structure.id).limit(1)).scalar_one()
        structure = StructureInfo.from_structure(structure_row)
        family_ids = [d.family_id for d in drafts]
        families = {f.id: f for f in s.execute(select(Family).where(Family.id.in_(family_ids))).scalars()}
        mandates: dict[int, Mandate] = {}
        for m in s.execute(select(Mandate).where(Mandate.family_id.in_(family_ids),
                                                 Mandate.state == MandateState.ACTIVE)
                           .order_by(Mandate.signed_on)).scalars():
            mandates[m.family_id] = m
        today = desk.today()
        now = desk.now()
        numbers = reserve_numbers(s, INVOICE_SEQUENCE, today.year, len(drafts))
        due = dates.due_date(Calendar.load(s), today, structure.payment_terms_days or 30)
        debit = debit_date(structure_row, month, today)
        total = len(drafts)
        docs = []
        paid = credit_new_invoices(s, desk, drafts)
        for i, (invoice, value) in enumerate(zip(drafts, numbers)):
            if progress and i % 50 == 0:
                progress.check()
                progress.step(i, total, f"Numérotation : {i} / {total} factures")
            family = families[invoice.family_id]
            invoice.number = format_number(today.year, value)
            invoice.status = InvoiceStatus.ISSUED
            invoice.issued_at = now
            invoice.issued_by = desk.actor.login
            invoice.issue_date = today
            invoice.due_date = debit if family.payment_mode == PaymentMode.PRELEVEMENT else due
            invoice.payment_mode = family.payment_mode
            docs.append(document_for(invoice, family, structure, mandates.get(family.id),
                                     paid_cents=paid.get(invoice.id, 0), debit_date=debit))
            result.total_cents += invoice.total_cents
            desk.audit(s, "invoice.issue", "invoice", invoice.id, family_id=family.id,
                       after={"number": invoice.number, "month": month.isoformat(),
                              "total_cents": invoice.total_cents})
        for invoice, pdf in zip(drafts, render_invoices(docs, progress)):
            invoice.pdf = pdf
        s.flush()
        regularisation.make_current(s, month)
        checked_months.after_issue(s, month, checks)
        if progress:
            progress.check()
            progress.step(total, total, "Enregistrement…")
        s.flush()
        result.invoices = total
        result.first_number = format_number(today.year, numbers[0])
        result.last_number = format_number(today.year, numbers[-1])
        result.changes = Changes(invoices={d.id for d in drafts}, payments=set(family_ids))  # balances moved
    return result


def _refuse_stale(s: Session, month: date, drafts: list[Invoice]) -> None:
    """Cells changed since the drafts were prepared: issuing them would bill yesterday's grid.
    Another month issued since that regularised the same days: the drafts' regularisations were
    measured against what was billed before it, and would bill a difference twice."""
    prepared = min((d.prepared_at for d in drafts if d.prepared_at), default=None)
    if prepared is None:
        return
    # The same earlier day regularised by an invoice of another month issued since: this draft
    # would bill the difference a second time. Read from the drafts' few days of earlier months,
    # then the days of the invoices issued since (usually none).
    earlier = draft_days.earlier_cells(s.connection(), [d.id for d in drafts], month)
    if earlier:
        first = min(d for _c, _u, d in earlier)
        for child_id, unit_id, day, other in s.execute(
                select(BilledDay.child_id, BilledDay.unit_id, BilledDay.day, Invoice.month)
                .join(Invoice, Invoice.id == BilledDay.invoice_id)
                .where(Invoice.status == InvoiceStatus.ISSUED, Invoice.month != month, Invoice.issued_at > prepared,
                       BilledDay.day >= first, BilledDay.day < month)).tuples():
            if (child_id, unit_id, day) in earlier:
                raise DeskError(f"Les factures {formats.of_month(other)} ont été émises depuis la "
                                "préparation : relancez « Préparer » (les régularisations en dépendent), "
                                "vérifiez, puis émettez.")
    # Found through the rows written since (indexes on updated_at and decided_at); the day range
    # is kept out of the (unit, day) index's reach, which SQLite would otherwise walk whole.
    booked_day, asked_day = func.coalesce(Booking.day, Booking.day), func.coalesce(Request.day, Request.day)
    changed = s.execute(select(func.count()).select_from(Booking).where(
        booked_day >= month, booked_day <= month_end(month), Booking.updated_at > prepared)).scalar_one()
    # A mark at the door changes what the month bills (as the attendance settings say).
    changed += s.execute(select(func.count()).select_from(Attendance).where(
        Attendance.day >= month, Attendance.day <= month_end(month), Attendance.recorded_at > prepared)).scalar_one()
    changed += s.execute(select(func.count()).select_from(Request).where(
        asked_day >= month, asked_day <= month_end(month), Request.decided_at > prepared,
        Request.status == RequestStatus.ACCEPTED)).scalar_one()
    if changed:
        raise DeskError(f"Des cases {formats.of_month(month)} ont changé depuis la préparation "
                        f"({formats.count(changed, 'changement', 'changements')}) : relancez « Préparer », "
                        "vérifiez, puis émettez.")


def paid_cents(s: Session, invoice_id: int) -> int:
    return s.execute(select(func.coalesce(func.sum(PaymentAllocation.amount_cents), 0))
                     .where(PaymentAllocation.invoice_id == invoice_id)).scalar_one()


