"""Anonymisation of family files after the retention period (DESIGN §8, RGPD art. 5-1-e).

The retention rule
------------------
A family file may be anonymised when it is archived and has had no booking, request, invoice,
credit note or payment for `retention_years` (AppSetting "privacy.retention_years", default 6)
counted from the END OF THE SCHOOL YEAR (31 August) of its last activity: a family last seen
in June 2024 (school year 2023-2024, ending 31/08/2024) becomes eligible on 01/09/2030.

Why 6 years after the school year: the commune's claim on an unpaid bill lapses four years after
the recovery title (CGCT art. L1617-5) and the public accountant's accounts can still be
examined for some time after that; two more years cover the disputes that reach the court late.
Counting from the end of the school year keeps one rule for a whole year group and matches how
the service thinks (one dossier périscolaire per school year). The figure is a setting because
the commune's data-protection officer decides it, not the software.

What is kept, what goes
-----------------------
Invoices, credit notes and payments are accounting records the law makes the commune keep: they
stay untouched, with their numbers, amounts, lines and the billed name and address frozen on the
Invoice rows when issued (and the PDF). Everything else that identifies the family is replaced
or deleted: names become « Famille anonymisée F-xxxx », « Responsable n », « Enfant n »; e-mails,
phones, address, notes, health data, pick-up persons, portal account, documents' content, the
bodies and recipients of its e-mails, the requests' and feed's JSON, appointments' names, SEPA
holder and IBAN (masked), quotient records (income data, already applied to the frozen invoices)
and the personal values in its audit entries (accounting entries excepted, like the invoices).
The family keeps its ref so an accountant can still tie the invoices together.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session, selectinload

from gandrange_desk import formats
from gandrange_desk.errors import DeskError, NotFound, ValidationFailed
from gandrange_desk.models import (
    AppSetting, Appointment, AuditEntry, Booking, Child, CreditNote, Document, Family, FeedEntry,
    Invoice, InvoiceStatus, Mandate, MandateState, OutboxAttachment, OutboxMessage, OutboxStatus, Payment,
    PortalState, QuotientRecord, Request, RequestStatus, Role,
)
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk, stamp
from gandrange_desk.services.families.search import balances
from gandrange_desk.services.progress import Progress
from gandrange_desk.services.search import family_search_text

RETENTION_KEY = "privacy.retention_years"
DEFAULT_RETENTION_YEARS = 6
REDACTED = "[anonymisé]"
# Audit entries of these entities are accounting evidence, kept like the invoices themselves.
ACCOUNTING_ENTITIES = {"invoice", "credit_note", "payment", "payment_allocation", "sepa_export", "invoice_month"}
# Keys whose values are personal data wherever they appear in an audit entry's JSON.
PERSONAL_KEYS = {
    "name", "first_name", "last_name", "email", "phone", "street", "postcode", "city", "notes",
    "health_notes", "allergies", "doctor", "pickups", "holder", "iban", "portal_login", "birth_date",
    "payload", "recipients", "visitor_name", "visitor_phone", "filename", "title", "guardians",
    "children", "reason", "class_name", "relation",
}

__all__ = [
    "Candidate", "AnonymiseResult", "retention_years", "set_retention_years", "school_year_end",
    "eligible_from", "review", "eligible", "anonymise", "DEFAULT_RETENTION_YEARS",
]


@dataclass(frozen=True)
class Candidate:
    family_id: int
    ref: str
    name: str
    archived: bool
    anonymised: bool
    last_activity: date | None
    eligible_from: date | None
    balance_cents: int
    pending_requests: int
    refusals: tuple[str, ...] = ()

    @property
    def eligible(self) -> bool:
        return not self.refusals

    def as_dict(self) -> dict:
        return {"id": self.family_id, "ref": self.ref, "name": self.name, "archived": self.archived,
                "last_activity": self.last_activity, "eligible_from": self.eligible_from,
                "balance_cents": self.balance_cents, "eligible": self.eligible,
                "refusals": list(self.refusals)}


@dataclass
class AnonymiseResult:
    dry_run: bool
    families: list[tuple[int, str]] = field(default_factory=list)  # (id, ref)
    children: int = 0
    guardians: int = 0
    documents: int = 0
    messages: int = 0
    requests: int = 0
    appointments: int = 0
    audit_entries: int = 0

    @property
    def changes(self) -> Changes:
        # Names vanish from every list (families, grid, queue, outbox): every view reloads.
        return Changes.all() if self.families and not self.dry_run else Changes()

    def as_dict(self) -> dict:
        return {"dry_run": self.dry_run, "families": [{"id": i, "ref": r} for i, r in self.families],
                "children": self.children, "guardians": self.guardians, "documents": self.documents,
                "messages": self.messages, "requests": self.requests, "appointments": self.appointments,
                "audit_entries": self.audit_entries}

    def text(self) -> str:
        n = len(self.families)
        head = (f"Simulation : {formats.count(n, 'famille serait anonymisée', 'familles seraient anonymisées')}"
                if self.dry_run else f"{formats.count(n, 'famille anonymisée', 'familles anonymisées')}")
        detail = (f"{formats.count(self.children, 'enfant', 'enfants')}, "
                  f"{formats.count(self.guardians, 'responsable', 'responsables')}, "
                  f"{formats.count(self.documents, 'document', 'documents')}, "
                  f"{formats.count(self.messages, 'courriel', 'courriels')}, "
                  f"{formats.count(self.requests, 'demande', 'demandes')}, "
                  f"{formats.count(self.audit_entries, 'entrée du journal', 'entrées du journal')}")
        refs = ", ".join(r for _, r in self.families)
        return f"{head} ({detail}).\n{refs}" if n else f"{head}."


class _DryRun(Exception):
    def __init__(self, result: AnonymiseResult):
        super().__init__("dry run")
        self.result = result


# ---------------------------------------------------------------- the rule


def retention_years(desk: Desk) -> int:
    with desk.read() as s:
        return _years(s)


def _years(s: Session) -> int:
    row = s.get(AppSetting, RETENTION_KEY)
    try:
        return int(row.value) if row and row.value.strip() else DEFAULT_RETENTION_YEARS
    except ValueError:
        return DEFAULT_RETENTION_YEARS


def set_retention_years(desk: Desk, years: int) -> None:
    desk.require(Role.ADMIN, "Modifier la durée de conservation")
    if not isinstance(years, int) or not 1 <= years <= 30:
        raise ValidationFailed(["Durée de conservation : un nombre d'années entre 1 et 30."])
    with desk.unit_of_work() as s:
        before = _years(s)
        row = s.get(AppSetting, RETENTION_KEY)
        if row is None:
            s.add(AppSetting(key=RETENTION_KEY, value=str(years)))
        else:
            row.value = str(years)
        desk.audit(s, "settings.retention", "settings", None,
                   before={"retention_years": before}, after={"retention_years": years})


def school_year_end(day: date) -> date:
    """31 August closing the school year that `day` belongs to (September to August)."""
    return date(day.year if day.month <= 8 else day.year + 1, 8, 31)


def eligible_from(last_activity: date, years: int) -> date:
    end = school_year_end(last_activity)
    return date(end.year + years, 9, 1)


# ---------------------------------------------------------------- review


def _max_into(out: dict[int, date], rows) -> None:
    for fid, value in rows:
        if value is None or fid is None:
            continue
        day = value.date() if hasattr(value, "date") and callable(value.date) else value
        if fid not in out or day > out[fid]:
            out[fid] = day


def _last_activity(s: Session, ids: list[int]) -> dict[int, date]:
    out: dict[int, date] = {}
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        _max_into(out, s.execute(select(Child.family_id, func.max(Booking.day))
                                 .join(Booking, Booking.child_id == Child.id)
                                 .where(Child.family_id.in_(chunk)).group_by(Child.family_id)).all())
        for column in (Request.submitted_at, Request.decided_at, Request.day):
            _max_into(out, s.execute(select(Request.family_id, func.max(column))
                                     .where(Request.family_id.in_(chunk)).group_by(Request.family_id)).all())
        for column in (Invoice.month, Invoice.issue_date):
            _max_into(out, s.execute(select(Invoice.family_id, func.max(column))
                                     .where(Invoice.family_id.in_(chunk)).group_by(Invoice.family_id)).all())
        _max_into(out, s.execute(select(Invoice.family_id, func.max(CreditNote.issued_at))
                                 .join(Invoice, CreditNote.invoice_id == Invoice.id)
                                 .where(Invoice.family_id.in_(chunk)).group_by(Invoice.family_id)).all())
        _max_into(out, s.execute(select(Payment.family_id, func.max(Payment.received_on))
                                 .where(Payment.family_id.in_(chunk)).group_by(Payment.family_id)).all())
    return out


def _review(s: Session, families: list[Family] | list, today: date, years: int) -> list[Candidate]:
    ids = [f.id for f in families]
    last = _last_activity(s, ids)
    money = balances(s, ids)
    pending = dict(s.execute(select(Request.family_id, func.count(Request.id))
                             .where(Request.family_id.in_(ids), Request.status == RequestStatus.PENDING)
                             .group_by(Request.family_id)).all()) if ids else {}
    # A draft could still be issued, and it would then carry the anonymised name.
    drafts = dict(s.execute(select(Invoice.family_id, func.count(Invoice.id))
                            .where(Invoice.family_id.in_(ids), Invoice.status == InvoiceStatus.DRAFT)
                            .group_by(Invoice.family_id)).all()) if ids else {}
    out = []
    for f in families:
        when = last.get(f.id)
        if when is None and f.created_at is not None:
            when = f.created_at.date()  # a file that never had any activity: from its creation
        start = eligible_from(when, years) if when else None
        balance = money.get(f.id, 0)
        waiting = int(pending.get(f.id, 0))
        who = f"{f.ref} ({f.name})"
        refusals = []
        if f.anonymised_at is not None:
            refusals.append(f"{f.ref} : déjà anonymisée le {formats.ddmmyyyy(f.anonymised_at.date())}.")
        else:
            if not f.archived:
                refusals.append(f"{who} n'est pas archivée : seule une famille archivée peut être anonymisée.")
            if start is not None and today < start:
                refusals.append(
                    f"{who} est encore dans sa durée de conservation : dernière activité le "
                    f"{formats.ddmmyyyy(when)}, anonymisable à partir du {formats.ddmmyyyy(start)}.")
            if balance > 0:
                refusals.append(f"{who} a un solde impayé de {formats.euros(balance)} : "
                                "il doit être réglé ou annulé par un avoir avant l'anonymisation.")
            elif balance < 0:
                refusals.append(f"{who} a un trop-perçu de {formats.euros(-balance)} à rembourser "
                                "avant l'anonymisation.")
            if waiting:
                refusals.append(f"{who} a {formats.count(waiting, 'demande en attente', 'demandes en attente')} "
                                "à traiter avant l'anonymisation.")
            if drafts.get(f.id):
                refusals.append(f"{who} a {formats.count(int(drafts[f.id]), 'facture en brouillon', 'factures en brouillon')} "
                                "à émettre ou supprimer avant l'anonymisation.")
        out.append(Candidate(f.id, f.ref, f.name, f.archived, f.anonymised_at is not None, when, start,
                             balance, waiting, tuple(refusals)))
    return out


def review(desk: Desk, family_ids: list[int], today: date | None = None) -> list[Candidate]:
    """Why each of these families can or cannot be anonymised today (read only)."""
    desk.require(Role.ADMIN, "Anonymiser des familles")
    with desk.read() as s:
        fams = _families(s, family_ids)
        return _review(s, fams, today or desk.today(), _years(s))


def eligible(desk: Desk, today: date | None = None) -> list[Candidate]:
    """Archived, not yet anonymised families past their retention period, nothing owed either way."""
    desk.require(Role.ADMIN, "Anonymiser des familles")
    with desk.read() as s:
        fams = s.execute(select(Family).where(Family.archived.is_(True), Family.anonymised_at.is_(None))
                         .order_by(Family.ref)).scalars().all()
        found = _review(s, list(fams), today or desk.today(), _years(s))
    return [c for c in found if c.eligible]


def _families(s: Session, family_ids: list[int], *, lock: bool = False) -> list[Family]:
    ids = sorted(set(int(i) for i in family_ids))
    stmt = (select(Family).where(Family.id.in_(ids)).order_by(Family.id)
            .options(selectinload(Family.guardians),
                     selectinload(Family.children).selectinload(Child.pickup_persons))
            .execution_options(populate_existing=True))
    if lock:
        stmt = stmt.with_for_update(of=Family)
    fams = list(s.execute(stmt).scalars())
    missing = set(ids) - {f.id for f in fams}
    if missing:
        raise NotFound("Famille introuvable (n° " + ", ".join(str(i) for i in sorted(missing)) + ").")
    return fams


# ---------------------------------------------------------------- anonymising


def anonymise(desk: Desk, family_ids: list[int], progress: Progress | None = None, *,
              dry_run: bool = False, today: date | None = None) -> AnonymiseResult:
    """Anonymise these families in one transaction, or none of them if one is not eligible."""
    desk.require(Role.ADMIN, "Anonymiser des familles")
    if not family_ids:
        raise DeskError("Aucune famille à anonymiser.")
    today = today or desk.today()
    result = AnonymiseResult(dry_run=dry_run)
    try:
        with desk.unit_of_work() as s:
            fams = _families(s, family_ids, lock=True)
            refused = [r for c in _review(s, fams, today, _years(s)) for r in c.refusals]
            if refused:
                raise ValidationFailed(refused, headline="Anonymisation refusée, rien n'a été modifié :")
            for done, f in enumerate(fams):
                if progress:
                    progress.check()
                    progress.step(done, len(fams), f"Anonymisation de {f.ref}")
                _anonymise_one(s, desk, f, result)
            if progress:
                progress.step(len(fams), len(fams), "Terminé")
            if dry_run:
                raise _DryRun(result)  # everything done above is rolled back
    except _DryRun as done:
        return done.result
    return result


def _tokens(s: Session, f: Family) -> list[str]:
    """The personal strings of this family, to strike out of free texts (subjects, reasons, audit)."""
    values = [f.name, f.street, f.phone, f.portal_login or ""]
    for g in f.guardians:
        values += [g.first_name, g.last_name, g.full_name, g.email, g.phone]
    for c in f.children:
        values += [c.first_name, c.last_name, c.full_name, c.doctor]
        values += [p.name for p in c.pickup_persons] + [p.phone for p in c.pickup_persons]
    for holder, iban in s.execute(select(Mandate.holder, Mandate.iban).where(Mandate.family_id == f.id)).all():
        values += [holder, iban]
    return sorted({v.strip() for v in values if v and len(v.strip()) >= 2}, key=len, reverse=True)


def _scrubber(tokens: list[str]):
    if not tokens:
        return lambda text: text
    pattern = re.compile(r"(?<!\w)(?:" + "|".join(re.escape(t) for t in tokens) + r")(?!\w)", re.IGNORECASE)
    return lambda text: pattern.sub(REDACTED, text) if text else text


def _redact(value, scrub):
    if isinstance(value, dict):
        return {k: (REDACTED if k in PERSONAL_KEYS and v not in (None, "", [], {}, False)
                    else _redact(v, scrub)) for k, v in value.items()}
    if isinstance(value, list):
        return [_redact(v, scrub) for v in value]
    if isinstance(value, str):
        return scrub(value)
    return value


def _redact_text(text: str, scrub) -> str:
    if not text:
        return text
    if text.startswith(("{", "[")):
        try:
            return json.dumps(_redact(json.loads(text), scrub), ensure_ascii=False, sort_keys=True)
        except ValueError:
            pass
    return scrub(text)


def _anonymise_one(s: Session, desk: Desk, f: Family, result: AnonymiseResult) -> None:
    scrub = _scrubber(_tokens(s, f))
    now = desk.now()
    f.name = f"Famille anonymisée {f.ref}"
    f.street = f.postcode = f.city = f.phone = f.notes = ""
    f.portal_login = None
    f.portal_password_hash = None
    f.portal_state = PortalState.TO_CREATE
    f.anonymised_at = now
    for n, g in enumerate(f.guardians, start=1):
        g.first_name, g.last_name, g.relation, g.email, g.phone = f"Responsable {n}", "", "", "", ""
        g.receives_email = g.holds_portal_account = g.email_doubtful = False
    for n, c in enumerate(sorted(f.children, key=lambda c: (c.birth_date, c.id)), start=1):
        c.first_name, c.last_name = f"Enfant {n}", ""
        # The year alone keeps the age bracket readable for statistics, not the person.
        c.birth_date = date(c.birth_date.year, 1, 1)
        c.health_notes = c.allergies = c.doctor = c.class_name = ""
        c.pai = False
        c.pickup_persons.clear()
        stamp(c, desk)
    result.guardians += len(f.guardians)
    result.children += len(f.children)
    # Ref and generic labels only: the family stays findable by its ref for the accountant.
    f.search_text = family_search_text(f)
    stamp(f, desk)

    s.execute(delete(QuotientRecord).where(QuotientRecord.family_id == f.id))
    for m in s.execute(select(Mandate).where(Mandate.family_id == f.id)).scalars():
        m.holder = ""
        m.iban = f"{m.iban[:4]}…{m.iban[-4:]}" if len(m.iban) > 8 else ""
        m.state = MandateState.REVOKED
        stamp(m, desk)
    docs = s.execute(select(Document).where(Document.family_id == f.id)).scalars().all()
    for d in docs:
        d.content = None
        d.filename = ""
        d.title = scrub(d.title)
        d.reason = scrub(d.reason)
        stamp(d, desk)
    result.documents += len(docs)

    message_ids = s.execute(select(OutboxMessage.id).where(OutboxMessage.family_id == f.id)).scalars().all()
    if message_ids:
        for m in s.execute(select(OutboxMessage).where(OutboxMessage.id.in_(message_ids))).scalars():
            m.body_text = m.body_html = m.recipients = ""
            m.subject = scrub(m.subject)
            if m.status in (OutboxStatus.PENDING, OutboxStatus.TEMP_FAILED):
                m.status = OutboxStatus.FAILED
                m.last_error = "Annulé : famille anonymisée."
        # Invoice PDFs sent as attachments stay on the Invoice rows; the copies go with the mail.
        s.execute(delete(OutboxAttachment).where(OutboxAttachment.message_id.in_(message_ids)))
    result.messages += len(message_ids)

    requests = s.execute(select(Request).where(Request.family_id == f.id)).scalars().all()
    refs = [r.ref for r in requests if r.ref]
    for r in requests:
        r.payload = ""
        r.reason = scrub(r.reason)
        r.billing_override_reason = scrub(r.billing_override_reason)
    for start in range(0, len(refs), 500):
        s.execute(update(FeedEntry).where(FeedEntry.ref.in_(refs[start:start + 500])).values(payload=""))
    result.requests += len(requests)

    appointments = s.execute(select(Appointment).where(Appointment.family_id == f.id)).scalars().all()
    for a in appointments:
        a.visitor_name = a.visitor_phone = a.notes = ""
    result.appointments += len(appointments)

    entries = s.execute(select(AuditEntry).where(AuditEntry.family_id == f.id,
                                                 AuditEntry.entity.notin_(ACCOUNTING_ENTITIES))).scalars().all()
    for e in entries:
        e.before = _redact_text(e.before, scrub)
        e.after = _redact_text(e.after, scrub)
    result.audit_entries += len(entries)

    s.flush()
    # No personal value here: the ref and what was done, so the trail says who anonymised when.
    desk.audit(s, "family.anonymise", "family", f.id, family_id=f.id, before={"ref": f.ref},
               after={"ref": f.ref, "anonymised": True, "children": len(f.children),
                      "guardians": len(f.guardians), "documents": len(docs), "messages": len(message_ids),
                      "requests": len(requests), "audit_entries": len(entries)})
    result.families.append((f.id, f.ref))
