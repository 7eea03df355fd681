"""SEPA direct debit: the month's pain.008.001.02 file for the families paying by prélèvement.

Built with sepaxml and validated against the pain.008.001.02 schema (xmlschema) before anything
is kept. FRST for a mandate's first collection, RCUR after: a final export records the mandate's
first collection, so the next month is RCUR. Amounts are what remains due on the month's issued
invoices, plus earlier invoices whose debit was rejected (re-presented, unless the family was
switched to another payment mode). Pre-notification e-mails tell each family the amount, the
date, the masked account, the RUM and the creditor's ICS.

Timing (`billing.dates`): the debit date is the one the invoices announced, at least the
pre-notification delay (14 days by default) after them. A re-presented amount is announced by
this file's e-mail, so it is collected that delay after today; a file exported after the
announced day is pushed back the same way. The date moves later, the notice is never shortened.

Each transaction is kept (`SepaDebit`) with its end-to-end id and invoices: `record_collection`
records the collected ones as payments and the rejected ones (their end-to-end ids, with the
bank's reason code) as rejected.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import insert, select
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
    SEPA_REASON_CODES,
    SepaDebit,
    SepaDebitStatus,
    SepaExport,
    Structure,
)
from gandrange_desk.services.billing import dates
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.mail import outbox
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


def collection_date(structure: Structure, month: date) -> date:
    """The structure's collection day of the month after the billed month (next business day)."""
    return dates.collection_date(structure, month)


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
    collection_date: date | None = None
    represented: list[str] = field(default_factory=list)  # numbers of rejected invoices presented again

    @property
    def end_to_end(self) -> str:
        return _end_to_end(self.invoice_numbers)


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

    @property
    def represented(self) -> list[Debit]:
        return [d for d in self.debits if d.represented]

    @property
    def last_date(self) -> date | None:
        return max((d.collection_date for d in self.debits), default=self.collection_date)


def _month_start(month: date) -> date:
    return date(month.year, month.month, 1)


def _plan(s: Session, month: date, today: date) -> SepaPlan:
    month = _month_start(month)
    structure = s.scalar(select(Structure).order_by(Structure.id).limit(1))
    plan = SepaPlan(month, None)
    plan.creditor_missing = creditor_problems(structure)
    prev = s.scalar(select(SepaExport).where(SepaExport.month == month, SepaExport.final.is_(True))
                    .order_by(SepaExport.id.desc()).limit(1))
    if prev:
        plan.previous_final = f"le {formats.instant(prev.created_at)} par {prev.created_by}"
    # A few grouped queries whatever the number of families (the dialog previews on every change).
    cn, pa, credited, paid = settled_subqueries()
    left = Invoice.total_cents - credited - paid
    due: dict[int, list[tuple[int, str, int]]] = {}
    announced: list[date] = []
    for iid, number, fid, cents, due_date in s.execute(
            select(Invoice.id, Invoice.number, Invoice.family_id, left, Invoice.due_date)
            .join(Family, Family.id == Invoice.family_id)
            .outerjoin(cn, cn.c.iid == Invoice.id).outerjoin(pa, pa.c.iid == Invoice.id)
            .where(Invoice.month == month, Invoice.status == InvoiceStatus.ISSUED,
                   Family.payment_mode == PaymentMode.PRELEVEMENT, left > 0)
            .order_by(Invoice.number)):
        due.setdefault(fid, []).append((iid, number or "", int(cents)))
        if due_date:
            announced.append(due_date)
    later = None
    if structure is not None:
        planned = max(announced) if announced else dates.collection_date(structure, month)
        # Exported too late for the announced day: a new notice, the delay after today.
        plan.collection_date = planned if planned > today else dates.earliest_debit(structure, today)
        later = max(plan.collection_date, dates.earliest_debit(structure, today))
    represent = _to_represent(s, month)
    ids = sorted(set(due) | set(represent))
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
        again = represent.get(family.id, [])
        rows = again + due.get(family.id, [])
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
            [r[0] for r in rows], [r[1] for r in rows], outbox.family_recipients(family),
            later if again else plan.collection_date, [r[1] for r in again]))
    return plan


def _to_represent(s: Session, month: date) -> dict[int, list[tuple[int, str, int]]]:
    """family -> earlier invoices to present again: still due, family still on prélèvement, and
    the last final transaction that carried them was rejected."""
    last: dict[int, tuple[int, str]] = {}  # invoice -> (export id, status) of its latest final debit
    for export_id, status, invoice_ids in s.execute(
            select(SepaDebit.export_id, SepaDebit.status, SepaDebit.invoice_ids)
            .join(SepaExport, SepaExport.id == SepaDebit.export_id)
            .where(SepaExport.final.is_(True)).order_by(SepaDebit.export_id, SepaDebit.id)):
        for text in filter(None, (invoice_ids or "").split(",")):
            last[int(text)] = (export_id, status)
    rejected = sorted(i for i, (_, status) in last.items() if status == SepaDebitStatus.REJECTED)
    if not rejected:
        return {}
    cn, pa, credited, paid = settled_subqueries()
    left = Invoice.total_cents - credited - paid
    out: dict[int, list[tuple[int, str, int]]] = {}
    for start in range(0, len(rejected), 500):
        for iid, number, fid, cents in s.execute(
                select(Invoice.id, Invoice.number, Invoice.family_id, left)
                .join(Family, Family.id == Invoice.family_id)
                .outerjoin(cn, cn.c.iid == Invoice.id).outerjoin(pa, pa.c.iid == Invoice.id)
                .where(Invoice.id.in_(rejected[start:start + 500]), Invoice.month < month,
                       Invoice.status == InvoiceStatus.ISSUED, Family.payment_mode == PaymentMode.PRELEVEMENT,
                       left > 0).order_by(Invoice.number)):
            out.setdefault(fid, []).append((iid, number or "", int(cents)))
    return out


def plan_month(desk: Desk, month: date) -> SepaPlan:
    """What the month's file would contain (the dialog's preview)."""
    with desk.read() as s:
        return _plan(s, month, desk.today())


def _end_to_end(numbers: list[str]) -> str:
    text = re.sub(r"[^A-Za-z0-9\-]", "", "-".join(numbers))
    return text[:35] or "GANDRANGE"


def build_xml(structure: Structure, plan: SepaPlan) -> bytes:
    """The pain.008.001.02 document, validated against its XSD (raises DeskError if not valid)."""
    from sepaxml import SepaDD

    from gandrange_desk.services.validation import sepa_latin

    sepa = SepaDD({
        "name": sepa_latin(structure.name, 70, "Gandrange"), "IBAN": re.sub(r"\s+", "", structure.sepa_iban).upper(),
        "BIC": structure.sepa_bic.strip().upper(), "batch": True,
        "creditor_id": structure.sepa_ics.strip(), "currency": "EUR",
    }, schema=SCHEMA)
    for debit in plan.debits:
        payment = {
            "name": sepa_latin(debit.holder, 70, debit.family_name or debit.family_ref), "IBAN": debit.iban, "amount": debit.amount_cents, "type": debit.sequence_type,
            "collection_date": debit.collection_date or plan.collection_date, "mandate_id": debit.rum,
            "mandate_date": debit.signed_on,
            "description": sepa_latin(f"Periscolaire {formats.month_year(plan.month)} factures "
                                      f"{', '.join(debit.invoice_numbers)}", 140),
            "endtoend_id": debit.end_to_end,
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
    when = debit.collection_date or plan.collection_date
    subject = f"Prélèvement du {formats.ddmmyyyy(when)} : {formats.euros(debit.amount_cents)}"
    word = "la facture" if len(debit.invoice_numbers) == 1 else "les factures"
    again = ""
    if debit.represented:
        n = len(debit.represented)
        again = (f" Ce montant comprend {formats.plural(n, 'la facture', 'les factures')} "
                 f"{', '.join(debit.represented)}, dont le prélèvement précédent a été rejeté par votre banque "
                 f"et qui {formats.plural(n, 'est représentée', 'sont représentées')}.")
    body = (
        f"Madame, Monsieur,\n\n"
        f"Conformément à votre mandat de prélèvement SEPA, nous vous informons que le montant de "
        f"{formats.euros(debit.amount_cents)} correspondant à {word} {invoices} "
        f"({formats.month_year(plan.month)}) sera prélevé le {formats.ddmmyyyy(when)} "
        f"sur le compte {mask_iban(debit.iban)}.{again}\n\n"
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
    represented: int = 0  # debits carrying rejected invoices presented again
    represented_date: date | None = None
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    def summary(self) -> str:
        text = (f"{formats.count(self.count, 'prélèvement', 'prélèvements')} pour "
                f"{formats.euros(self.total_cents)}, le {formats.ddmmyyyy(self.collection_date)} "
                f"({self.frst} FRST, {self.rcur} RCUR).")
        if self.represented:
            text += (f" Dont {formats.count(self.represented, 'prélèvement rejeté représenté', 'prélèvements rejetés représentés')}"
                     + (f", le {formats.ddmmyyyy(self.represented_date)}" if self.represented_date
                        and self.represented_date != self.collection_date else "") + ".")
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
        plan = _plan(s, month, desk.today())
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
        export = SepaExport(month=plan.month, collection_date=plan.last_date, created_at=desk.now(),
                            created_by=desk.actor.login, total_cents=plan.total_cents, count=plan.count,
                            xml=xml, final=final)
        s.add(export)
        s.flush()
        notified = 0
        if final:
            s.execute(insert(SepaDebit.__table__), [
                {"export_id": export.id, "family_id": d.family_id, "end_to_end": d.end_to_end,
                 "amount_cents": d.amount_cents, "collection_date": d.collection_date,
                 "invoice_ids": ",".join(map(str, d.invoice_ids)), "status": SepaDebitStatus.SENT,
                 "reason_code": "", "payment_id": None} for d in plan.debits])
            for debit in plan.debits:
                mandate = s.get(Mandate, debit.mandate_id)
                if mandate.first_collected_on is None:
                    mandate.first_collected_on = debit.collection_date
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
                          "frst": plan.count_of("FRST"), "rcur": plan.count_of("RCUR"), "notified": notified,
                          "represented": len(plan.represented)})
        represented = plan.represented
        # A final export moves the mandates to RCUR (the family file shows it) and queues e-mails.
        return ExportResult(export.id, xml, plan.count, plan.total_cents, plan.collection_date,
                            plan.count_of("FRST"), plan.count_of("RCUR"), notified, plan.skipped, final,
                            len(represented), max((d.collection_date for d in represented), default=None),
                            Changes(outbox=notified, families={d.family_id for d in plan.debits} if final else set()))


@dataclass
class CollectionResult:
    recorded: int = 0  # payments recorded for the collected debits
    recorded_cents: int = 0
    rejected: list[str] = field(default_factory=list)  # "Famille (F-1), 21,00 € : AM04 provision insuffisante"
    already: int = 0  # debits recorded by an earlier run
    changes: Changes = field(default_factory=Changes)

    def summary(self, month: date | None = None) -> str:
        what = f" (prélèvements {of_month(month)})" if month else ""
        if not self.recorded and not self.rejected:
            return f"Ces prélèvements étaient déjà enregistrés{what}."
        text = (f"{formats.count(self.recorded, 'paiement enregistré', 'paiements enregistrés')} pour "
                f"{formats.euros(self.recorded_cents)}{what}.")
        if self.rejected:
            text += (f"\n{formats.count(len(self.rejected), 'prélèvement rejeté', 'prélèvements rejetés')}, "
                     "à représenter au prochain fichier ou à régler autrement :")
            text += "".join(f"\n  {line}" for line in self.rejected)
        return text


def parse_rejections(items) -> dict[str, str]:
    """["E2E-ID", "E2E-ID:AM04", …] -> {end-to-end id: reason code}."""
    out: dict[str, str] = {}
    for item in items or ():
        e2e, _, code = str(item).strip().partition(":")
        if e2e:
            out[e2e.strip()] = code.strip().upper()
    return out


def record_collection(desk: Desk, export_id: int, rejected: dict[str, str] | None = None) -> CollectionResult:
    """Once the bank has collected a final export, record each debit as a prélèvement payment,
    except the rejected ones (their end-to-end ids, with the bank's reason code when known),
    which stay due and are presented again in the next file.

    A debit already recorded is not recorded twice; an unknown end-to-end id writes nothing."""
    desk.require(Role.RESPONSABLE, "Enregistrer les prélèvements encaissés")
    rejected = dict(rejected or {})
    bad_codes = [f"Code motif illisible « {c} » pour {e} (par exemple AM04)." for e, c in rejected.items()
                 if c and not re.match(r"^[A-Z]{2}[0-9]{2}$", c)]
    if bad_codes:
        raise ValidationFailed(bad_codes, "Rien n'a été enregistré :")
    result = CollectionResult()
    with desk.unit_of_work() as s:
        export = s.get(SepaExport, export_id)
        if export is None or not export.final:
            raise DeskError("Seul un export définitif de prélèvements peut être enregistré comme encaissé.")
        if export.collection_date > desk.today():
            raise DeskError(f"La date de prélèvement ({formats.ddmmyyyy(export.collection_date)}) n'est pas "
                            f"encore passée.")
        debits = s.scalars(select(SepaDebit).where(SepaDebit.export_id == export.id).order_by(SepaDebit.id)).all()
        known = {d.end_to_end for d in debits}
        unknown = [e for e in rejected if e not in known]
        if unknown:
            raise ValidationFailed([f"Référence de bout en bout inconnue dans ce fichier : {e}." for e in unknown],
                                   "Rien n'a été enregistré :")
        families = {f.id: f for f in s.scalars(select(Family).where(Family.id.in_({d.family_id for d in debits})))}
        for debit in debits:
            family = families[debit.family_id]
            label = f"{family.name} ({family.ref}), {formats.euros(debit.amount_cents)}"
            if debit.end_to_end in rejected:
                if debit.status == SepaDebitStatus.COLLECTED:
                    raise ValidationFailed([f"{label} : déjà enregistré comme encaissé ; un rejet après "
                                            "encaissement s'enregistre en annulant le paiement."],
                                           "Rien n'a été enregistré :")
                code = rejected[debit.end_to_end]
                if debit.status != SepaDebitStatus.REJECTED:
                    debit.status, debit.reason_code = SepaDebitStatus.REJECTED, code
                    desk.audit(s, "sepa.rejected", "sepa_debit", debit.id, family_id=debit.family_id,
                               after={"end_to_end": debit.end_to_end, "amount_cents": debit.amount_cents,
                                      "code": code})
                    result.changes.payments.add(debit.family_id)
                meaning = SEPA_REASON_CODES.get(code, "")
                result.rejected.append(f"{label} : {debit.end_to_end}" + (f", {code}" if code else "")
                                       + (f" {meaning}" if meaning else ""))
                continue
            if debit.status != SepaDebitStatus.SENT:
                result.already += 1
                continue
            payment = _collected_payment(s, desk, export, debit)
            debit.status, debit.payment_id = SepaDebitStatus.COLLECTED, payment.id
            result.recorded += 1
            result.recorded_cents += debit.amount_cents
            result.changes.payments.add(debit.family_id)
        return result


def _collected_payment(s: Session, desk: Desk, export: SepaExport, debit: SepaDebit) -> Payment:
    """The prélèvement payment of one collected debit, allocated to the invoices it carried."""
    payment = Payment(family_id=debit.family_id, mode=PaymentMode.PRELEVEMENT, received_on=debit.collection_date,
                      amount_cents=debit.amount_cents, reference=f"SEPA {debit.end_to_end} (export {export.id})"[:200],
                      recorded_at=desk.now(), recorded_by=desk.actor.login)
    s.add(payment)
    s.flush()
    desk.audit(s, "payment.record", "payment", payment.id, family_id=debit.family_id,
               after={"mode": "prelevement", "amount_cents": debit.amount_cents, "reference": payment.reference})
    wanted = [int(x) for x in (debit.invoice_ids or "").split(",") if x]
    open_rows = {r.invoice_id: r for r in family_invoices(s, debit.family_id, open_only=True)}
    left = debit.amount_cents
    for invoice_id in wanted:
        row = open_rows.get(invoice_id)
        if row is None or left <= 0:
            continue
        take = min(left, row.remaining_cents)
        payment.allocations.append(PaymentAllocation(invoice_id=invoice_id, amount_cents=take))
        left -= take
        desk.audit(s, "payment.allocate", "payment", payment.id, family_id=debit.family_id,
                   after={"invoice": row.number, "amount_cents": take})
    s.flush()
    return payment


def final_export_id(desk: Desk, month: date) -> int | None:
    with desk.read() as s:
        return s.scalar(select(SepaExport.id).where(SepaExport.month == _month_start(month),
                                                    SepaExport.final.is_(True))
                        .order_by(SepaExport.id.desc()).limit(1))
