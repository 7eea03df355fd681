"""The family's own file on the portal: "Ma famille", its change requests, "Historique".

Reads only ever take the signed-in family's id; a document of another family is "introuvable"
exactly like one that does not exist. A change to the household is never written here: it
becomes a family-change request in the desk's queue, the same kind the JSON feed brings
(`queue.family_changes` applies it field by field once the desk accepts).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select
from sqlalchemy.orm import selectinload

from gandrange_desk import formats
from gandrange_desk.errors import NotFound, ValidationFailed
from gandrange_desk.models import (
    Child, CreditNote, Family, Invoice, InvoiceStatus, PaymentAllocation, PaymentMode, Request, RequestKind,
    RequestSource, RequestStatus, School,
)
from gandrange_desk.services.billing.credit_notes import credit_note_pdf_bytes
from gandrange_desk.services.billing.invoice_views import invoice_pdf
from gandrange_desk.services.context import Desk
from gandrange_desk.services.intake.check import CHILD_FIELDS, FAMILY_FIELDS, GUARDIAN_FIELDS, parse_change_path
from gandrange_desk.services.intake.family_change import pin_change
from gandrange_desk.services.intake.member_change import clean_change
from gandrange_desk.services.queue.family_changes import family_change_fields
from gandrange_desk.services.queue.listing import request_payload
from gandrange_desk.services.validation import Invalid

NOT_FOUND = "Document introuvable."
PRELEVEMENT_SENTENCE = ("Le prélèvement étant en place, vous n'aurez pas de facture à payer directement "
                        "par le portail.")
MAX_VALUE = 300


@dataclass(frozen=True)
class Field:
    path: str  # the change path the queue understands ("address.city", "guardians[0].phone")
    label: str
    value: str


@dataclass
class Section:
    title: str
    key: str  # "foyer", "responsable-1", "enfant-2"
    fields: list[Field]


@dataclass
class PendingChange:
    submitted_at: object
    labels: list[tuple[str, str]]  # (label, new value)


@dataclass
class Household:
    name: str
    ref: str
    login: str
    payment_mode: str
    sections: list[Section]
    pending: list[PendingChange] = field(default_factory=list)

    @property
    def on_prelevement(self) -> bool:
        return self.payment_mode == PaymentMode.PRELEVEMENT


def _sections(f: Family, schools: dict[int, str]) -> list[Section]:
    out = [Section("Foyer", "foyer", [Field(path, label, getattr(f, column) or "")
                                       for path, (column, label) in FAMILY_FIELDS.items()])]
    for i, g in enumerate(f.guardians):
        out.append(Section(f"Responsable : {g.full_name}", f"responsable-{i + 1}", [
            Field(f"guardians[{i}].{attr}", label.capitalize(), getattr(g, attr) or "")
            for attr, label in GUARDIAN_FIELDS.items()]))
    for i, c in enumerate(f.children):
        values = {"first_name": c.first_name, "last_name": c.last_name, "class": c.class_name,
                  "school": schools.get(c.school_id, "")}
        out.append(Section(f"Enfant : {c.full_name}", f"enfant-{i + 1}", [
            Field(f"children[{i}].{attr}", label.capitalize(), values[attr])
            for attr, label in CHILD_FIELDS.items()]))
    return out


def _load(s, family_id: int, *, pickups: bool = False) -> Family:
    """The family with its guardians and children in three statements (eager, never one lazy
    load per member); with `pickups`, the children's pick-up persons in one more."""
    children = selectinload(Family.children)
    if pickups:
        children = children.selectinload(Child.pickup_persons)
    f = s.execute(select(Family).where(Family.id == family_id).options(
        selectinload(Family.guardians), children)).scalar_one_or_none()
    if f is None:
        raise NotFound("Famille introuvable.")
    return f


def household(desk: Desk, family_id: int) -> Household:
    """Every section of « Ma famille » and the changes waiting for the desk: a fixed number of
    statements whatever the number of members and of pending changes."""
    with desk.read() as s:
        requests = s.execute(select(Request).where(
            Request.family_id == family_id, Request.kind == RequestKind.FAMILY_CHANGE,
            Request.status == RequestStatus.PENDING).order_by(Request.submitted_at)).scalars().all()
        payloads = [(r, request_payload(r)) for r in requests]
        # A pending change of a pick-up person reads the children's pick-up persons: all at once.
        pickups = any(".pickups[" in str(path) for _r, p in payloads for path in (p.get("changes") or {}))
        f = _load(s, family_id, pickups=pickups)
        schools = {sid: name for sid, name in s.execute(select(School.id, School.name))}
        sections = _sections(f, schools)
        pending = []
        for r, payload in payloads:
            # The desk's own reading of the change (its labels, a new member or pick-up person in
            # words), so the family and the clerk see the same request.
            shown = family_change_fields(f, payload, schools)
            pending.append(PendingChange(r.submitted_at, [(c.label, c.new) for c in shown]))
        return Household(f.name, f.ref, f.portal_login or "", f.payment_mode, sections, pending)


def on_prelevement(desk: Desk, family_id: int) -> bool:
    """Whether the family pays by prélèvement: the one flag « Factures et documents » needs
    (one column read, not the whole household of `household`)."""
    with desk.read() as s:
        mode = s.execute(select(Family.payment_mode).where(Family.id == family_id)).scalar_one_or_none()
    if mode is None:
        raise NotFound("Famille introuvable.")
    return mode == PaymentMode.PRELEVEMENT


def section(desk: Desk, family_id: int, key: str) -> Section:
    for sec in household(desk, family_id).sections:
        if sec.key == key:
            return sec
    raise NotFound("Rubrique introuvable.")


def ask_change(desk: Desk, family_id: int, key: str, values: dict[str, str]) -> int:
    """The section's changed fields as one family-change request for the desk's queue."""
    sec = section(desk, family_id, key)
    changes, problems = {}, []
    for fl in sec.fields:
        if fl.path not in values:
            continue
        new = " ".join(str(values[fl.path]).split())
        if len(new) > MAX_VALUE:
            problems.append(f"{fl.label} : {MAX_VALUE} caractères au plus.")
        elif new != fl.value:
            changes[fl.path] = new
    with desk.read() as s:
        schools = {sc.name for sc in s.execute(select(School)).scalars()}
    for path, new in list(changes.items()):
        # The feed's own check of a family change: the same words, the same limits.
        try:
            changes[path] = clean_change(parse_change_path(path), new, schools, desk.today())
        except Invalid as exc:
            label = next(fl.label for fl in sec.fields if fl.path == path)
            problems.append(f"{label} : {exc}")
    if problems:
        raise ValidationFailed(problems)
    if not changes:
        raise ValidationFailed(["Aucune modification : les valeurs sont celles déjà connues de la structure."])
    with desk.unit_of_work() as s:
        # Pinned to the member the family was looking at, not to its position: a sibling added
        # before the desk decides must not receive the change.
        f = _load(s, family_id)
        targets = {}
        for path in changes:
            target, _lacking = pin_change(f, parse_change_path(path))
            if target is not None:
                targets[path] = target
        r = Request(kind=RequestKind.FAMILY_CHANGE, source=RequestSource.PORTAL, ref="portail",
                    family_id=family_id, submitted_at=desk.now(), status=RequestStatus.PENDING,
                    payload=json.dumps({"changes": changes, "targets": targets}, ensure_ascii=False))
        s.add(r)
        s.flush()
        desk.audit(s, "portal.family_change", "request", r.id, family_id=family_id, after={"changes": changes})
        return r.id


# --- Factures et documents / Historique --------------------------------------------------------


@dataclass(frozen=True)
class BillRow:
    kind: str  # "facture" | "avoir"
    id: int
    number: str
    label: str  # "Facture de novembre 2026"
    issued_on: date | None
    total_cents: int
    paid_cents: int

    @property
    def total(self) -> str:
        return formats.amount(self.total_cents)

    @property
    def left_cents(self) -> int:
        return max(0, self.total_cents - self.paid_cents) if self.kind == "facture" else 0


def history(desk: Desk, family_id: int) -> list[BillRow]:
    """Every issued invoice and credit note of the family, newest first."""
    from gandrange_desk.services.portal.bookings import MONTHS

    with desk.read() as s:
        paid = dict(s.execute(select(PaymentAllocation.invoice_id, func.sum(PaymentAllocation.amount_cents))
                              .join(Invoice, Invoice.id == PaymentAllocation.invoice_id)
                              .where(Invoice.family_id == family_id).group_by(PaymentAllocation.invoice_id)).all())
        rows = [BillRow("facture", i.id, i.number or "", f"Facture de {MONTHS[i.month.month - 1]} {i.month.year}",
                        i.issue_date, i.total_cents, int(paid.get(i.id) or 0))
                for i in s.execute(select(Invoice).where(Invoice.family_id == family_id,
                                                         Invoice.status == InvoiceStatus.ISSUED)).scalars()]
        rows += [BillRow("avoir", n.id, n.number, f"Avoir sur la facture {i.number}", n.issued_at.date(),
                         n.total_cents, 0)
                 for n, i in s.execute(select(CreditNote, Invoice).join(Invoice, Invoice.id == CreditNote.invoice_id)
                                       .where(Invoice.family_id == family_id))]
    rows.sort(key=lambda r: (r.issued_on or date.min, r.number), reverse=True)
    return rows


def bill_pdf(desk: Desk, family_id: int, kind: str, bill_id: int) -> tuple[str, bytes]:
    """The PDF as issued, only of the family's own issued invoices and credit notes."""
    with desk.read() as s:
        if kind == "facture":
            owner = s.execute(select(Invoice.family_id).where(
                Invoice.id == bill_id, Invoice.status == InvoiceStatus.ISSUED)).scalar_one_or_none()
        elif kind == "avoir":
            owner = s.execute(select(Invoice.family_id).join(CreditNote, CreditNote.invoice_id == Invoice.id)
                              .where(CreditNote.id == bill_id)).scalar_one_or_none()
        else:
            owner = None
    if owner is None or owner != family_id:
        raise NotFound(NOT_FOUND)
    return invoice_pdf(desk, bill_id) if kind == "facture" else credit_note_pdf_bytes(desk, bill_id)


__all__ = ["BillRow", "Field", "Household", "NOT_FOUND", "PRELEVEMENT_SENTENCE", "PendingChange", "Section",
           "ask_change", "bill_pdf", "history", "household", "on_prelevement", "section"]


# --- Téléchargements ---------------------------------------------------------------------------


def published(desk: Desk):
    from gandrange_desk.services.families.portal import list_published

    return list_published(desk)


def published_file(desk: Desk, document_id: int) -> tuple[str, str, bytes]:
    """A document published to all families; a family's own upload is never served here."""
    from gandrange_desk.services.families.portal import document_content

    if document_id not in {d.id for d in published(desk)}:
        raise NotFound(NOT_FOUND)
    return document_content(desk, document_id)
