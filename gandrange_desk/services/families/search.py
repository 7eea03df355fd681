"""The Familles list: accent/case-insensitive search and the figures shown per row.

One LIKE per typed word on the normalised `family.search_text` (kept up to date by every save),
the page's figures (balance, pending requests, children) as correlated subqueries of the same
statement. On the 2,000-family demo base a keystroke costs ~15 ms median
(bench/bench_families.py), so no in-memory index is needed and every workstation sees the
others' changes at the next keystroke.

Written on SQLAlchemy Core (`services.first_screen`), not the models: the list is the window's
first tab, filled before the ORM loads (issue 14, start-up).
"""

from __future__ import annotations

from dataclasses import dataclass

from gandrange_desk.roles import InvoiceStatus, PaymentMode, PortalState, RequestStatus
from gandrange_desk.services.context import Desk
from gandrange_desk.services.search import normalize

# SQLAlchemy is imported by the functions below, not by this module: on SQLite the first page of
# the list is read through the bare driver before SQLAlchemy loads (`Desk.first_reader`, issue 14
# start-up third pass), with the SQL text compiled from `first_page_statement` below.


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
    from gandrange_desk.services.first_screen import family

    conds = []
    for word in normalize(text).split():
        conds.append(family.c.search_text.like(f"%{_like_escape(word)}%", escape="\\"))
    if not include_archived:
        conds.append(family.c.archived.is_(False))
    return conds


def _children_agg(backend: str, column):
    from sqlalchemy import func, literal

    if backend == "postgresql":
        return func.string_agg(column, literal("\x1f"))
    return func.group_concat(column, literal("\x1f"))


def _row_statement(backend: str):
    """One statement: the families and, per row, correlated sums the indexes answer quickly.

    Measured on the 2,000-family base: ~15 ms for 300 rows, against ~60 ms for one grouped
    query per figure over an IN list (bench/bench_families.py).
    """
    from sqlalchemy import String, cast, func, select

    from gandrange_desk.services.first_screen import child, credit_note, family, invoice, payment_allocation, request

    issued = (select(func.coalesce(func.sum(invoice.c.total_cents), 0))
              .where(invoice.c.family_id == family.c.id, invoice.c.status == InvoiceStatus.ISSUED).scalar_subquery())
    credited = (select(func.coalesce(func.sum(credit_note.c.total_cents), 0))
                .join(invoice, credit_note.c.invoice_id == invoice.c.id)
                .where(invoice.c.family_id == family.c.id).scalar_subquery())
    paid = (select(func.coalesce(func.sum(payment_allocation.c.amount_cents), 0))
            .join(invoice, payment_allocation.c.invoice_id == invoice.c.id)
            .where(invoice.c.family_id == family.c.id).scalar_subquery())
    pending = (select(func.count(request.c.id))
               .where(request.c.status == RequestStatus.PENDING, request.c.family_id == family.c.id).scalar_subquery())
    # Birth date first so the names can be put in age order whatever order the aggregate took.
    kids = (select(_children_agg(backend, cast(child.c.birth_date, String) + "|" + child.c.first_name))
            .where(child.c.family_id == family.c.id, child.c.archived.is_(False)).scalar_subquery())
    return select(family.c.id, family.c.ref, family.c.name, family.c.payment_mode, family.c.portal_state,
                  family.c.acknowledgement_returned, family.c.archived, kids.label("kids"),
                  (issued - credited - paid).label("balance"), pending.label("pending"))


def _names(kids: str | None) -> str:
    if not kids:
        return ""
    return ", ".join(item.split("|", 1)[-1] for item in sorted(kids.split("\x1f")))


def first_page_statement(backend: str, limit: int, *, text: str = "", include_archived: bool = False):
    """The list's rows for a search, `limit` at most, in name order."""
    from sqlalchemy import Integer, and_, bindparam

    from gandrange_desk.services.first_screen import family

    stmt = _row_statement(backend)
    conds = _conditions(text, include_archived)
    if conds:
        stmt = stmt.where(and_(*conds))
    # A named bind: the bare driver's copy of this statement passes its page size by this name.
    return stmt.order_by(family.c.name, family.c.ref).limit(bindparam("page_limit", limit, type_=Integer))


def count_statement(*, text: str = "", include_archived: bool = False):
    """How many families a search matches (asked when the page is full)."""
    from sqlalchemy import and_, func, select

    from gandrange_desk.services.first_screen import family

    count = select(func.count(family.c.id))
    conds = _conditions(text, include_archived)
    if conds:
        count = count.where(and_(*conds))
    return count


def search(desk: Desk, text: str = "", limit: int = 200, *, include_archived: bool = False) -> SearchResult:
    """Families whose name, children, guardians, ref, e-mail or phone contain every typed word."""
    reader = desk.first_reader()
    if reader is not None and not normalize(text).split() and not include_archived:
        # The window's first page, before SQLAlchemy loads: the same statement's SQLite text.
        found = reader.families_page(limit)
        total = len(found) if len(found) < limit else reader.families_count()
    else:
        with desk.read_core() as s:  # Core only: the first tab is filled before the ORM loads
            found = s.execute(first_page_statement(desk.backend, limit, text=text,
                                                   include_archived=include_archived)).all()
            if len(found) < limit:
                total = len(found)
            else:
                total = s.execute(count_statement(text=text, include_archived=include_archived)).scalar_one()
    return SearchResult([_family_row(r) for r in found], total)


def _family_row(r) -> FamilyRow:
    """A row of `first_page_statement`, from SQLAlchemy or from the bare driver (by position:
    both give the statement's columns in its order; booleans come as 0/1 from sqlite3)."""
    fid, ref, name, payment_mode, portal_state, acknowledged, archived, kids, balance, pending = r
    return FamilyRow(
        id=fid, ref=ref, name=name, children=_names(kids), balance_cents=int(balance or 0),
        payment_mode=payment_mode,
        payment_mode_label=PaymentMode.label_of(payment_mode),
        portal_state=portal_state,
        portal_state_label=PortalState.label_of(portal_state),
        pending_requests=int(pending or 0), acknowledgement_missing=not acknowledged,
        archived=bool(archived),
    )


def balances(session, ids: list[int]) -> dict[int, int]:
    """Issued invoices − credit notes − payments allocated to them, in cents, per family."""
    from sqlalchemy import func, select

    from gandrange_desk.services.first_screen import credit_note, invoice, payment_allocation

    if not ids:
        return {}
    out: dict[int, int] = {i: 0 for i in ids}
    issued = session.execute(
        select(invoice.c.family_id, func.sum(invoice.c.total_cents))
        .where(invoice.c.family_id.in_(ids), invoice.c.status == InvoiceStatus.ISSUED)
        .group_by(invoice.c.family_id)).all()
    for fid, total in issued:
        out[fid] += int(total or 0)
    credited = session.execute(
        select(invoice.c.family_id, func.sum(credit_note.c.total_cents))
        .join(invoice, credit_note.c.invoice_id == invoice.c.id)
        .where(invoice.c.family_id.in_(ids)).group_by(invoice.c.family_id)).all()
    for fid, total in credited:
        out[fid] -= int(total or 0)
    paid = session.execute(
        select(invoice.c.family_id, func.sum(payment_allocation.c.amount_cents))
        .join(invoice, payment_allocation.c.invoice_id == invoice.c.id)
        .where(invoice.c.family_id.in_(ids)).group_by(invoice.c.family_id)).all()
    for fid, total in paid:
        out[fid] -= int(total or 0)
    return out


def pending_counts(session, ids: list[int]) -> dict[int, int]:
    from sqlalchemy import func, select

    from gandrange_desk.services.first_screen import request

    if not ids:
        return {}
    rows = session.execute(
        select(request.c.family_id, func.count(request.c.id))
        .where(request.c.status == RequestStatus.PENDING, request.c.family_id.in_(ids))
        .group_by(request.c.family_id)).all()
    return {fid: int(n) for fid, n in rows}
