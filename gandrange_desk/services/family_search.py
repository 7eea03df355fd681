"""The Familles list: accent/case-insensitive search and the figures shown per row.

One LIKE per typed word on the normalised `Family.search_text` (kept up to date by every save),
then one grouped query per figure for the page of results only. On the 2,000-family demo base a
keystroke costs a few milliseconds (bench/bench_families.py), so no in-memory index is needed and
every workstation sees the others' changes at the next keystroke.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import and_, func, select

from gandrange_desk.models import (
    PAYMENT_MODE_LABELS,
    PORTAL_STATE_LABELS,
    Child,
    CreditNote,
    Family,
    Invoice,
    InvoiceStatus,
    PaymentAllocation,
    Request,
    RequestStatus,
)
from gandrange_desk.services.context import Desk
from gandrange_desk.services.search import normalize


@dataclass(frozen=True)
class FamilyRow:
    id: int
    ref: str
    name: str
    children: str
    balance_cents: int
    payment_mode: str
    payment_mode_label: str
    portal_state: str
    portal_state_label: str
    pending_requests: int
    acknowledgement_missing: bool
    archived: bool


@dataclass(frozen=True)
class SearchResult:
    rows: list[FamilyRow]
    total: int  # matches before the limit

    @property
    def truncated(self) -> bool:
        return self.total > len(self.rows)


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _conditions(text: str, include_archived: bool) -> list:
    conds = []
    for word in normalize(text).split():
        conds.append(Family.search_text.like(f"%{_like_escape(word)}%", escape="\\"))
    if not include_archived:
        conds.append(Family.archived.is_(False))
    return conds


def search(desk: Desk, text: str = "", limit: int = 200, *, include_archived: bool = False) -> SearchResult:
    """Families whose name, children, guardians, ref, e-mail or phone contain every typed word."""
    conds = _conditions(text, include_archived)
    with desk.read() as s:
        base = select(Family.id, Family.ref, Family.name, Family.payment_mode, Family.portal_state,
                      Family.acknowledgement_returned, Family.archived)
        if conds:
            base = base.where(and_(*conds))
        found = s.execute(base.order_by(Family.name, Family.ref).limit(limit)).all()
        if len(found) < limit:
            total = len(found)
        else:
            count = select(func.count(Family.id))
            if conds:
                count = count.where(and_(*conds))
            total = s.execute(count).scalar_one()
        ids = [r.id for r in found]
        figures = _figures(s, ids)
    rows = []
    for r in found:
        children, balance, pending = figures.get(r.id, ("", 0, 0))
        rows.append(FamilyRow(
            id=r.id, ref=r.ref, name=r.name, children=children, balance_cents=balance,
            payment_mode=r.payment_mode,
            payment_mode_label=PAYMENT_MODE_LABELS.get(r.payment_mode, r.payment_mode),
            portal_state=r.portal_state,
            portal_state_label=PORTAL_STATE_LABELS.get(r.portal_state, r.portal_state),
            pending_requests=pending, acknowledgement_missing=not r.acknowledgement_returned,
            archived=r.archived,
        ))
    return SearchResult(rows, total)


def balances(session, ids: list[int]) -> dict[int, int]:
    """Issued invoices − credit notes − payments allocated to them, in cents, per family."""
    if not ids:
        return {}
    out: dict[int, int] = {i: 0 for i in ids}
    issued = session.execute(
        select(Invoice.family_id, func.sum(Invoice.total_cents))
        .where(Invoice.family_id.in_(ids), Invoice.status == InvoiceStatus.ISSUED)
        .group_by(Invoice.family_id)).all()
    for fid, total in issued:
        out[fid] += int(total or 0)
    credited = session.execute(
        select(Invoice.family_id, func.sum(CreditNote.total_cents))
        .join(Invoice, CreditNote.invoice_id == Invoice.id)
        .where(Invoice.family_id.in_(ids)).group_by(Invoice.family_id)).all()
    for fid, total in credited:
        out[fid] -= int(total or 0)
    paid = session.execute(
        select(Invoice.family_id, func.sum(PaymentAllocation.amount_cents))
        .join(Invoice, PaymentAllocation.invoice_id == Invoice.id)
        .where(Invoice.family_id.in_(ids)).group_by(Invoice.family_id)).all()
    for fid, total in paid:
        out[fid] -= int(total or 0)
    return out


def pending_counts(session, ids: list[int]) -> dict[int, int]:
    if not ids:
        return {}
    rows = session.execute(
        select(Request.family_id, func.count(Request.id))
        .where(Request.status == RequestStatus.PENDING, Request.family_id.in_(ids))
        .group_by(Request.family_id)).all()
    return {fid: int(n) for fid, n in rows}


def _figures(session, ids: list[int]) -> dict[int, tuple[str, int, int]]:
    if not ids:
        return {}
    names: dict[int, list[str]] = {}
    for fid, first in session.execute(
            select(Child.family_id, Child.first_name)
            .where(Child.family_id.in_(ids), Child.archived.is_(False))
            .order_by(Child.family_id, Child.birth_date)).all():
        names.setdefault(fid, []).append(first)
    money = balances(session, ids)
    pending = pending_counts(session, ids)
    return {i: (", ".join(names.get(i, [])), money.get(i, 0), pending.get(i, 0)) for i in ids}
