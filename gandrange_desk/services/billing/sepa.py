"""SEPA direct debit: the month's pain.008.001.02 file for the families paying by prélèvement.

Built with sepaxml and validated against the pain.008.001.02 schema (xmlschema) before anything
is kept. FRST for a mandate's first collection, RCUR after: a final export records the mandate's
first collection, so the next month is RCUR. Amounts are what remains due on the month's issued
invoices. Pre-notification e-mails tell each family the amount, the date, the masked account,
the RUM and the creditor's ICS.
"""

from __future__ import annotations

import calendar
import functools
import os
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from gandrange_desk import formats
from gandrange_desk.errors import AlreadyDecided, DeskError, ValidationFailed
from gandrange_desk.models import (
    Family,
    Invoice,
    InvoiceStatus,
    Mandate,
    MandateState,
    Payment,
    PaymentAllocation,
    PaymentMode,
    Role,
    SepaExport,
    Structure,
)
from gandrange_desk.services.mail import outbox
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.billing.payments import family_invoices, of_month, settled_subqueries

SCHEMA = "pain.008.001.02"


def mask_iban(iban: str) -> str:
    """'FR7630001007941234567890185' -> 'FR76 **** 0185' (what a notice may show of an account)."""
    compact = re.sub(r"\s+", "", iban or "").upper()
    if len(compact) < 8:
        return "****"
    return f"{compact[:4]} **** {compact[-4:]}"


def iban_problem(iban: str) -> str | None:
    from schwifty import IBAN
    from schwifty.exceptions import SchwiftyException

    try:
        IBAN(iban)
    except (SchwiftyException, ValueError) as exc:
        return f"IBAN invalide ({exc})"
    return None


def bic_problem(bic: str) -> str | None:
    from schwifty import BIC
    from schwifty.exceptions import SchwiftyException

    try:
        BIC(bic)
    except (SchwiftyException, ValueError):
        return f"BIC invalide ({bic})"
    return None


def _business_day(day: date) -> date:
    # TARGET2 closing days that fall on weekdays: 1 January, 1 May, 25 and 26 December.
    while day.weekday() >= 5 or (day.month, day.day) in {(1, 1), (5, 1), (12, 25), (12, 26)}:
        day += timedelta(days=1)
    return day


def collection_date(structure: Structure, month: date) -> date:
    """The structure's collection day of the month after the billed month (next business day)."""
    year, mon = (month.year + 1, 1) if month.month == 12 else (month.year, month.month + 1)
    day = min(max(1, structure.collection_day or 10), calendar.monthrange(year, mon)[1])
    return _business_day(date(year, mon, day))


def creditor_problems(structure: Structure | None) -> list[str]:
    if structure is None:
        return ["la structure n'est pas paramétrée (nom, IBAN, BIC, ICS)"]
    missing = []
    if not (structure.name or "").strip():
        missing.append("le nom du créancier")
    if not (structure.sepa_iban or "").strip():
        missing.append("l'IBAN du créancier")
    elif problem := iban_problem(structure.sepa_iban):
        missing.append(f"l'IBAN du créancier : {problem}")
    if not (structure.sepa_bic or "").strip():
        missing.append("le BIC du créancier")
    elif problem := bic_problem(structure.sepa_bic):
        missing.append(f"le BIC du créancier : {problem}")
    if not (structure.sepa_ics or "").strip():
        missing.append("l'identifiant créancier SEPA (ICS)")
    return missing


@dataclass
class Debit:
    family_id: int
    family_ref: str
    family_name: str
    mandate_id: int
    rum: str
    iban: str
    bic: str
    holder: str
    signed_on: date
    sequence_type: str  # FRST | RCUR
    amount_cents: int
    invoice_ids: list[int]
    invoice_numbers: list[str]
    emails: list[str]


@dataclass
class SepaPlan:
    month: date
    collection_date: date | None
    debits: list[Debit] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # French lines: who is not debited and why
    creditor_missing: list[str] = field(default_factory=list)
    previous_final: str | None = None  # "le 05/11/2026 par mresp" when already exported

    @property
    def count(self) -> int:
        return len(self.debits)

    @property
    def total_cents(self) -> int:
        return sum(d.amount_cents for d in self.debits)

    def count_of(self, seq: str) -> int:
        return sum(1 for d in self.debits if d.sequence_type == seq)


def _month_start(month: date) -> date:
    return date(month.year, month.month, 1)


def _plan(s: Session, month: date) -> SepaPlan:
    month = _month_start(month)
    structure = s.scalar(select(Structure).order_by(Structure.id).limit(1))
    plan = SepaPlan(month, collection_date(structure, month) if structure else None)
    plan.creditor_missing = creditor_problems(structure)
    prev = s.scalar(select(SepaExport).where(SepaExport.month == month, SepaExport.final.is_(True))
                    .order_by(SepaExport.id.desc()).limit(1))
    if prev:
        plan.previous_final = f"le {formats.instant(prev.created_at)} par {prev.created_by}"
    # A few grouped queries whatever the number of families (the dialog previews on every change).
    cn, pa, credited, paid = settled_subqueries()
    left = Invoice.total_cents - credited - paid
    due: dict[int, list[tuple[int, str, int]]] = {}
    for iid, number, fid, cents in s.execute(
            select(Invoice.id, Invoice.number, Invoice.family_id, left)
            .join(Family, Family.id == Invoice.family_id)
            .outerjoin(cn, cn.c.iid == Invoice.id).outerjoin(pa, pa.c.iid == Invoice.id)
            .where(Invoice.month == month, Invoice.status == InvoiceStatus.ISSUED,
                   Family.payment_mode == PaymentMode.PRELEVEMENT, left > 0)
            .order_by(Invoice.number)):
        due.setdefault(fid, []).append((iid, number or "", int(cents)))
    ids = sorted(due)
    families: list[Family] = []
    mandates: dict[int, Mandate] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        families += s.scalars(select(Family).where(Family.id.in_(chunk))
                              .options(selectinload(Family.guardians))).all()
        for m in s.scalars(select(Mandate).where(Mandate.family_id.in_(chunk), Mandate.state == MandateState.ACTIVE)
                           .order_by(Mandate.signed_on, Mandate.id)):
            mandates[m.family_id] = m  # the latest signed wins
    for family in sorted(families, key=lambda f: (f.name, f.ref)):
        rows = due[family.id]
        amount = sum(c for _, _, c in rows)
        mandate = mandates.get(family.id)
        label = f"{family.name} ({family.ref}), {formats.euros(amount)}"
        if mandate is None:
            plan.skipped.append(f"{label} : aucun mandat actif — à régler par un autre moyen.")
            continue
        problem = iban_problem(mandate.iban)
        if problem:
            plan.skipped.append(f"{label} : mandat {mandate.rum}, {problem}.")
            continue
        if mandate.bic and bic_problem(mandate.bic):
            plan.skipped.append(f"{label} : mandat {mandate.rum}, BIC invalide ({mandate.bic}).")
            continue
        seq = "RCUR" if mandate.first_collected_on else "FRST"
        plan.debits.append(Debit(
            family.id, family.ref, family.name, mandate.id, mandate.rum, re.sub(r"\s+", "", mandate.iban).upper(),
            (mandate.bic or "").strip().upper(), mandate.holder or family.name, mandate.signed_on, seq, amount,
            [r[0] for r in rows], [r[1] for r in rows], outbox.family_recipients(family)))
    return plan


def plan_month(desk: Desk, month: date) -> SepaPlan:
    """What the month's file would contain (the dialog's preview)."""
    with desk.read() as s:
        return _plan(s, month)


def _end_to_end(numbers: list[str]) -> str:
    text = re.sub(r"[^A-Za-z0-9\-]", "", "-".join(numbers))
    return text[:35] or "GANDRANGE"


def build_xml(structure: Structure, plan: SepaPlan) -> bytes:
    """The pain.008.001.02 document, validated against its XSD (raises DeskError if not valid)."""
    from sepaxml import SepaDD

    sepa = SepaDD({
        "name": structure.name, "IBAN": re.sub(r"\s+", "", structure.sepa_iban).upper(),
        "BIC": structure.sepa_bic.strip().upper(), "batch": True,
        "creditor_id": structure.sepa_ics.strip(), "currency": "EUR",
    }, schema=SCHEMA)
    for debit in plan.debits:
        payment = {
            "name": debit.holder, "IBAN": debit.iban, "amount": debit.amount_cents, "type": debit.sequence_type,
            "collection_date": plan.collection_date, "mandate_id": debit.rum, "mandate_date": debit.signed_on,
            "description": f"Periscolaire {formats.month_year(plan.month)} factures {', '.join(debit.invoice_numbers)}",
            "endtoend_id": _end_to_end(debit.invoice_numbers),
        }
        if debit.bic:
            payment["BIC"] = debit.bic
        sepa.add_payment(payment)
    # sepaxml would rebuild the XSD on every export (about a second); we validate with a cached one.
    xml = sepa.export(validate=False, pretty_print=True)
    validate_xml(xml)
    return xml


@functools.lru_cache(maxsize=1)
def _schema():
    import sepaxml
    import xmlschema  # a hard dependency: a file is never written unchecked

    return xmlschema.XMLSchema(os.path.join(os.path.dirname(sepaxml.__file__), "schemas", SCHEMA + ".xsd"))


def validate_xml(xml: bytes) -> None:
    """Validate against the pain.008.001.02 XSD shipped with sepaxml; DeskError in French if not."""
    errors = list(_schema().iter_errors(xml.decode("utf-8")))
    if errors:
        raise DeskError(f"Le fichier de prélèvement n'est pas conforme au schéma {SCHEMA} : "
                        f"{str(errors[0].reason or errors[0])[:300]}")


def prenotification_text(structure: Structure, plan: SepaPlan, debit: Debit) -> tuple[str, str]:
    invoices = ", ".join(debit.invoice_numbers)
    subject = f"Prélèvement du {formats.ddmmyyyy(plan.collection_date)} : {formats.euros(debit.amount_cents)}"
    word = "la facture" if len(debit.invoice_numbers) == 1 else "les factures"
    body = (
        f"Madame, Monsieur,\n\n"
        f"Conformément à votre mandat de prélèvement SEPA, nous vous informons que le montant de "
        f"{formats.euros(debit.amount_cents)} correspondant à {word} {invoices} "
        f"({formats.month_year(plan.month)}) sera prélevé le {formats.ddmmyyyy(plan.collection_date)} "
        f"sur le compte {mask_iban(debit.iban)}.\n\n"
        f"Référence unique du mandat (RUM) : {debit.rum}\n"
        f"Identifiant créancier SEPA (ICS) : {structure.sepa_ics}\n"
        f"Créancier : {structure.name}\n\n"
        f"Veillez à ce que votre compte soit approvisionné à cette date. Pour toute question, "
        f"contactez-nous"
        + (f" au {structure.phone}" if structure.phone else "")
        + (f" ou à {structure.email}" if structure.email else "")
        + f".\n\nCordialement,\n{structure.name}\n"
    )
    return subject, body


@dataclass
class ExportResult:
    export_id: int
    xml: bytes
    count: int
    total_cents: int
    collection_date: date
    frst: int
    rcur: int
    notified: int
    skipped: list[str]
    final: bool
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    def summary(self) -> str:
        text = (f"{formats.count(self.count, 'prélèvement', 'prélèvements')} pour "
                f"{formats.euros(self.total_cents)}, le {formats.ddmmyyyy(self.collection_date)} "
                f"({self.frst} FRST, {self.rcur} RCUR).")
        if not self.final:
            text += " Fichier d'essai : les mandats et les familles ne sont pas mis à jour."
        elif self.notified:
            text += f" {formats.count(self.notified, 'pré-notification', 'pré-notifications')} dans la boîte d'envoi."
        if self.skipped:
            text += f"\nNon prélevées ({len(self.skipped)}) :\n" + "\n".join(f"  {x}" for x in self.skipped)
        return text


def export_month(desk: Desk, month: date, *, final: bool = True, notify: bool = True) -> ExportResult:
    """Build, validate and keep the month's pain.008 file; a final export is done once per month."""
    desk.require(Role.RESPONSABLE, "Exporter les prélèvements SEPA")
    with desk.unit_of_work() as s:
        if s.get_bind().dialect.name == "postgresql":
            # Two workstations exporting the same month at once: the second waits, then sees the first.
            s.execute(select(Structure.id).with_for_update())
        plan = _plan(s, month)
        if plan.creditor_missing:
            raise ValidationFailed([f"– {x}" for x in plan.creditor_missing],
                                   "Paramètres SEPA de la structure incomplets, à compléter dans les réglages :")
        if final and plan.previous_final:
            raise AlreadyDecided(f"Les prélèvements {of_month(plan.month)} ont déjà été exportés "
                                 f"{plan.previous_final} : un second fichier débiterait les familles deux fois.")
        if not plan.debits:
            raise DeskError(f"Aucun prélèvement à faire pour {formats.month_year(plan.month)} : aucune facture émise "
                            f"restant due pour une famille en prélèvement avec un mandat actif.")
        structure = s.scalar(select(Structure).order_by(Structure.id).limit(1))
        xml = build_xml(structure, plan)
        export = SepaExport(month=plan.month, collection_date=plan.collection_date, created_at=desk.now(),
                            created_by=desk.actor.login, total_cents=plan.total_cents, count=plan.count,
                            xml=xml, final=final)
        s.add(export)
        s.flush()
        notified = 0
        if final:
            for debit in plan.debits:
                mandate = s.get(Mandate, debit.mandate_id)
                if mandate.first_collected_on is None:
                    mandate.first_collected_on = plan.collection_date
                    mandate.sequence_type = "RCUR"
                    mandate.updated_by = desk.actor.login
                    mandate.updated_at = desk.now()
                if notify and debit.emails:
                    subject, body = prenotification_text(structure, plan, debit)
                    outbox.enqueue(s, desk, recipients=debit.emails, subject=subject, body_text=body,
                                   family_id=debit.family_id, kind="prenotification",
                                   invoice_id=debit.invoice_ids[0])
                    notified += 1
        desk.audit(s, "sepa.export", "sepa_export", export.id,
                   after={"month": plan.month.strftime("%Y-%m"), "final": final, "count": plan.count,
                          "total_cents": plan.total_cents, "collection_date": plan.collection_date,
                          "frst": plan.count_of("FRST"), "rcur": plan.count_of("RCUR"), "notified": notified})
        # A final export moves the mandates to RCUR (the family file shows it) and queues e-mails.
        changes = Changes(families={d.family_id for d in plan.debits} if final else set(), outbox=notified)
        return ExportResult(export.id, xml, plan.count, plan.total_cents, plan.collection_date,
                            plan.count_of("FRST"), plan.count_of("RCUR"), notified, plan.skipped, final, changes)


def record_collection(desk: Desk, export_id: int) -> int:
    """Once the bank has collected a final export, record each debit as a prélèvement payment.

    Returns how many payments were recorded; a debit already recorded is not recorded twice.
    """
    desk.require(Role.RESPONSABLE, "Enregistrer les prélèvements encaissés")
    import xml.etree.ElementTree as ET

    with desk.unit_of_work() as s:
        export = s.get(SepaExport, export_id)
        if export is None or not export.final:
            raise DeskError("Seul un export définitif de prélèvements peut être enregistré comme encaissé.")
        if export.collection_date > desk.today():
            raise DeskError(f"La date de prélèvement ({formats.ddmmyyyy(export.collection_date)}) n'est pas "
                            f"encore passée.")
        ns = {"p": f"urn:iso:std:iso:20022:tech:xsd:{SCHEMA}"}
        root = ET.fromstring(export.xml)
        msg_id = root.findtext("p:CstmrDrctDbtInitn/p:GrpHdr/p:MsgId", namespaces=ns) or str(export.id)
        recorded = 0
        for tx in root.iterfind(".//p:DrctDbtTxInf", ns):
            rum = tx.findtext("p:DrctDbtTx/p:MndtRltdInf/p:MndtId", namespaces=ns)
            amount_text = tx.findtext("p:InstdAmt", namespaces=ns) or "0"
            euros_part, _, cents_part = amount_text.partition(".")
            amount = int(euros_part) * 100 + int((cents_part or "0").ljust(2, "0")[:2])
            mandate = s.scalar(select(Mandate).where(Mandate.rum == rum))
            if mandate is None:
                continue
            reference = f"SEPA {msg_id} {rum}"[:200]
            if s.scalar(select(Payment.id).where(Payment.reference == reference)):
                continue
            payment = Payment(family_id=mandate.family_id, mode=PaymentMode.PRELEVEMENT,
                              received_on=export.collection_date, amount_cents=amount, reference=reference,
                              recorded_at=desk.now(), recorded_by=desk.actor.login)
            s.add(payment)
            s.flush()
            desk.audit(s, "payment.record", "payment", payment.id, family_id=mandate.family_id,
                       after={"mode": "prelevement", "amount_cents": amount, "reference": reference})
            left = amount
            for row in family_invoices(s, mandate.family_id, open_only=True):
                if left <= 0:
                    break
                if row.month != export.month:
                    continue
                take = min(left, row.remaining_cents)
                payment.allocations.append(PaymentAllocation(invoice_id=row.invoice_id, amount_cents=take))
                left -= take
                desk.audit(s, "payment.allocate", "payment", payment.id, family_id=mandate.family_id,
                           after={"invoice": row.number, "amount_cents": take})
            recorded += 1
        return recorded


def final_export_id(desk: Desk, month: date) -> int | None:
    with desk.read() as s:
        return s.scalar(select(SepaExport.id).where(SepaExport.month == _month_start(month),
                                                    SepaExport.final.is_(True))
                        .order_by(SepaExport.id.desc()).limit(1))
