"""Tariffs: which price applies to a cell, and the supervisor's tariff editor.

A unit's tariff is in force from its `valid_from` until the next tariff of that unit; a unit's
first tariff also applies before its date (a tariff imported without `valid_from` starts on the
import day, and the months booked before must not go unbilled). Within a
tariff a price is chosen by sibling rank (the highest rank defined that is ≤ the child's rank)
and then by quotient bracket (the first `qf_max` ≥ the family's quotient in force that day; no
quotient on file → the top bracket, and the draft says so). A child with a PAI eating a meal
brought by the family pays the PAI price when the tariff has one. A booking accepted hors délai
adds the tariff's surcharge. Integer cents throughout.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from datetime import date
from typing import Iterable, Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import flag_modified

from gandrange_desk import formats
from gandrange_desk.errors import NotFound, ValidationFailed
from gandrange_desk.models import (
    Activity, Invoice, InvoiceStatus, QuotientRecord, Role, Tariff, TariffBracket, Unit,
)
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk, check_version, stamp

MAX_PRICE_CENTS = 1_000_00  # 1 000 € a cell: anything above is a typing error


# --------------------------------------------------------------------------- price lookup
@dataclass(frozen=True)
class Bracket:
    qf_max: int | None
    price_cents: int
    sibling_rank: int


@dataclass(frozen=True)
class TariffView:
    id: int
    unit_id: int
    valid_from: date
    brackets: tuple[Bracket, ...]
    pai_price_cents: int | None
    late_surcharge_cents: int | None
    version: int = 1

    def ranks(self) -> list[int]:
        return sorted({b.sibling_rank for b in self.brackets})

    def rank_used(self, rank: int) -> int:
        usable = [r for r in self.ranks() if r <= rank] or self.ranks()[:1]
        return max(usable) if usable else 1

    def brackets_for_rank(self, rank: int) -> list[Bracket]:
        chosen = self.rank_used(rank)
        rows = [b for b in self.brackets if b.sibling_rank == chosen]
        # Top bracket (None) last; the others by ceiling.
        return sorted(rows, key=lambda b: (b.qf_max is None, b.qf_max or 0))


@dataclass(frozen=True)
class Price:
    cents: int
    # No quotient on file: the top bracket was applied (shown on the draft).
    no_quotient: bool = False
    pai: bool = False
    quotient: int | None = None
    qf_max: int | None = None
    # The sibling rank whose prices were used (1 unless the tariff has 2nd/3rd-child prices).
    sibling_rank: int = 1


def view_of(tariff: Tariff) -> TariffView:
    return TariffView(
        id=tariff.id, unit_id=tariff.unit_id, valid_from=tariff.valid_from,
        brackets=tuple(Bracket(b.qf_max, b.price_cents, b.sibling_rank or 1) for b in tariff.brackets),
        pai_price_cents=tariff.pai_price_cents, late_surcharge_cents=tariff.late_surcharge_cents,
        version=tariff.version,
    )


def pick_price(tariff: TariffView, *, quotient: int | None, sibling_rank: int = 1,
               pai: bool = False, meal: bool = False, rows: list[Bracket] | None = None) -> Price:
    """`rows`: the tariff's brackets for the child's rank, when the caller keeps them (PriceBook)."""
    if pai and meal and tariff.pai_price_cents is not None:
        return Price(tariff.pai_price_cents, no_quotient=quotient is None, pai=True, quotient=quotient)
    if rows is None:
        rows = tariff.brackets_for_rank(tariff.rank_used(max(1, sibling_rank)))
    if not rows:
        raise LookupError("tariff without brackets")
    rank = rows[0].sibling_rank
    if quotient is None:
        top = rows[-1]
        return Price(top.price_cents, no_quotient=True, qf_max=top.qf_max, sibling_rank=rank)
    for row in rows:
        if row.qf_max is None or quotient <= row.qf_max:
            return Price(row.price_cents, quotient=quotient, qf_max=row.qf_max, sibling_rank=rank)
    # Every bracket has a ceiling below this quotient: the highest one is the top.
    return Price(rows[-1].price_cents, quotient=quotient, qf_max=rows[-1].qf_max, sibling_rank=rank)


class PriceBook:
    """Every tariff of every unit, loaded once for a run (the monthly run prices ~100 000 cells)."""

    def __init__(self, tariffs: Iterable[TariffView], units: Iterable[Unit] = ()):
        self._by_unit: dict[int, list[TariffView]] = {}
        for t in sorted(tariffs, key=lambda t: (t.unit_id, t.valid_from)):
            self._by_unit.setdefault(t.unit_id, []).append(t)
        self._starts = {u: [t.valid_from for t in ts] for u, ts in self._by_unit.items()}
        self.meal_units = {u.id for u in units if u.meal}
        self._cache: dict[tuple, Price] = {}
        self._rows: dict[tuple[int, int], list[Bracket]] = {}  # (tariff, rank) -> its brackets, in order
        self._day_cache: dict[tuple[int, date], TariffView | None] = {}

    @classmethod
    def load(cls, session: Session) -> "PriceBook":
        tariffs = session.execute(select(Tariff).options(selectinload(Tariff.brackets))).scalars().all()
        units = session.execute(select(Unit)).scalars().all()
        return cls([view_of(t) for t in tariffs], units)

    def starts(self, unit_id: int) -> list[date]:
        """The days a new tariff of the unit takes effect."""
        return self._starts.get(unit_id, [])

    def tariff_for(self, unit_id: int, day: date) -> TariffView | None:
        key = (unit_id, day)
        if key in self._day_cache:
            return self._day_cache[key]
        found = self._tariff_for(unit_id, day)
        self._day_cache[key] = found
        return found

    def _tariff_for(self, unit_id: int, day: date) -> TariffView | None:
        starts = self._starts.get(unit_id)
        if not starts:
            return None
        i = bisect.bisect_right(starts, day) - 1
        return self._by_unit[unit_id][max(i, 0)]

    def price(self, unit_id: int, day: date, *, quotient: int | None, sibling_rank: int = 1,
              pai: bool = False) -> Price | None:
        tariff = self.tariff_for(unit_id, day)
        if tariff is None:
            return None
        # A month prices the same (tariff, quotient, rank) dozens of times per family.
        key = (tariff.id, unit_id, quotient, sibling_rank, pai)
        found = self._cache.get(key)
        if found is None:
            rank_key = (tariff.id, sibling_rank)
            rows = self._rows.get(rank_key)
            if rows is None:
                rows = self._rows[rank_key] = tariff.brackets_for_rank(tariff.rank_used(max(1, sibling_rank)))
            found = pick_price(tariff, quotient=quotient, sibling_rank=sibling_rank, pai=pai,
                               meal=unit_id in self.meal_units, rows=rows)
            self._cache[key] = found
        return found

    def surcharge(self, unit_id: int, day: date) -> int | None:
        tariff = self.tariff_for(unit_id, day)
        return tariff.late_surcharge_cents if tariff and tariff.late_surcharge_cents else None


class QuotientBook:
    """Quotients per family; the latest record with valid_from ≤ day applies."""

    def __init__(self, records: Iterable[tuple[int, date, int]]):
        self._by_family: dict[int, list[tuple[date, int]]] = {}
        for family_id, valid_from, value in records:
            self._by_family.setdefault(family_id, []).append((valid_from, value))
        for rows in self._by_family.values():
            rows.sort()
        self._starts = {f: [r[0] for r in rows] for f, rows in self._by_family.items()}

    @classmethod
    def load(cls, session: Session, family_ids: Sequence[int] | None = None) -> "QuotientBook":
        stmt = select(QuotientRecord.family_id, QuotientRecord.valid_from, QuotientRecord.value)
        if family_ids is not None:
            stmt = stmt.where(QuotientRecord.family_id.in_(family_ids))
        return cls(session.execute(stmt).all())

    def fingerprint(self) -> tuple:
        """Every family's quotients, comparable between two runs (see `billing.checked_months`)."""
        return tuple(sorted((f, tuple(rows)) for f, rows in self._by_family.items()))

    def of(self, family_id: int) -> tuple:
        """The family's quotients, comparable between two runs (see `billing.draft_keys`)."""
        return tuple(self._by_family.get(family_id, ()))

    def starts(self, family_id: int) -> list[date]:
        """The days a new quotient of the family takes effect."""
        return self._starts.get(family_id, [])

    def on(self, family_id: int, day: date) -> int | None:
        starts = self._starts.get(family_id)
        if not starts:
            return None
        if len(starts) == 1:  # most families: one record
            return self._by_family[family_id][0][1] if starts[0] <= day else None
        i = bisect.bisect_right(starts, day) - 1
        return self._by_family[family_id][i][1] if i >= 0 else None


def price_of(session: Session, unit_id: int, day: date, family_id: int, *, sibling_rank: int = 1,
             pai: bool = False) -> Price | None:
    """One cell's price, for screens that show a single figure (a whole run uses PriceBook)."""
    book = PriceBook.load(session)
    quotient = QuotientBook.load(session, [family_id]).on(family_id, day)
    return book.price(unit_id, day, quotient=quotient, sibling_rank=sibling_rank, pai=pai)


# --------------------------------------------------------------------------- the editor
@dataclass
class BracketInput:
    qf_max: int | None
    price_cents: int
    sibling_rank: int = 1


@dataclass
class TariffInput:
    unit_id: int
    valid_from: date
    brackets: list[BracketInput] = field(default_factory=list)
    pai_price_cents: int | None = None
    late_surcharge_cents: int | None = None


@dataclass(frozen=True)
class UnitTariffs:
    unit_id: int
    activity_code: str
    activity_name: str
    unit_name: str
    meal: bool
    tariffs: tuple[TariffView, ...]

    @property
    def label(self) -> str:
        return f"{self.activity_name} — {self.unit_name}"


def list_tariffs(desk: Desk) -> list[UnitTariffs]:
    with desk.read() as s:
        activities = s.execute(
            select(Activity).order_by(Activity.position, Activity.id)
            .options(selectinload(Activity.units).selectinload(Unit.tariffs).selectinload(Tariff.brackets))
        ).scalars().all()
        return [
            UnitTariffs(u.id, a.code, a.name, u.name, u.meal, tuple(view_of(t) for t in u.tariffs))
            for a in activities for u in a.units
        ]


def last_issued_month(session: Session) -> date | None:
    return session.execute(
        select(func.max(Invoice.month)).where(Invoice.status == InvoiceStatus.ISSUED)
    ).scalar_one_or_none()


def _month_end(month: date) -> date:
    nxt = date(month.year + (month.month // 12), month.month % 12 + 1, 1)
    return date.fromordinal(nxt.toordinal() - 1)


def validate(data: TariffInput, *, meal: bool = True) -> list[str]:
    problems: list[str] = []
    if not data.brackets:
        problems.append("Indiquez au moins un prix (tranche de quotient).")
    by_rank: dict[int, list[BracketInput]] = {}
    for b in data.brackets:
        if b.sibling_rank is None or b.sibling_rank < 1:
            problems.append("Le rang de l'enfant doit être 1 (premier enfant), 2, 3…")
            continue
        by_rank.setdefault(b.sibling_rank, []).append(b)
        if b.price_cents is None or b.price_cents < 0:
            problems.append("Un prix ne peut pas être négatif.")
        elif b.price_cents > MAX_PRICE_CENTS:
            problems.append(f"Prix trop élevé : {formats.euros(b.price_cents)} (1 000 € au plus).")
        if b.qf_max is not None and b.qf_max <= 0:
            problems.append(f"Plafond de quotient invalide : {b.qf_max} (un nombre positif).")
    if data.brackets and 1 not in by_rank:
        problems.append("Les prix du premier enfant (rang 1) sont obligatoires.")
    for rank, rows in sorted(by_rank.items()):
        who = "du premier enfant" if rank == 1 else f"du {rank}e enfant"
        tops = [r for r in rows if r.qf_max is None]
        if len(tops) != 1:
            problems.append(f"Les prix {who} doivent avoir exactement une tranche « au-delà » "
                            "(sans plafond de quotient), la plus haute.")
        ceilings = [r.qf_max for r in rows if r.qf_max is not None]
        if len(set(ceilings)) != len(ceilings):
            problems.append(f"Les prix {who} ont deux tranches avec le même plafond de quotient.")
    for value, what in ((data.pai_price_cents, "Le prix PAI"), (data.late_surcharge_cents, "La majoration hors délai")):
        if value is not None and value < 0:
            problems.append(f"{what} ne peut pas être négatif.")
        elif value is not None and value > MAX_PRICE_CENTS:
            problems.append(f"{what} est trop élevé(e) : {formats.euros(value)}.")
    if data.pai_price_cents is not None and not meal:
        problems.append("Un prix PAI ne s'applique qu'à une unité repas.")
    if data.valid_from is None:
        problems.append("La date d'effet est obligatoire.")
    return problems


def regularisation_note(s: Session, day: date) -> str:
    """A tariff taking effect on `day` changes the price of days already invoiced: allowed
    (DESIGN §5, a tariff correction), and said, since the next invoices will regularise them."""
    issued = last_issued_month(s)
    if issued is None or day > _month_end(issued):
        return ""
    return (f"Les factures {formats.of_month(issued)} sont déjà émises : les jours déjà facturés "
            f"depuis le {formats.ddmmyyyy(day)} seront régularisés sur la prochaine facture.")


def tariff_change_note(desk: Desk, day: date) -> str:
    with desk.read() as s:
        return regularisation_note(s, day)


def _snapshot(t: Tariff | TariffInput) -> dict:
    return {
        "valid_from": t.valid_from.isoformat() if t.valid_from else None,
        "pai_price_cents": t.pai_price_cents, "late_surcharge_cents": t.late_surcharge_cents,
        "brackets": [[b.sibling_rank, b.qf_max, b.price_cents] for b in t.brackets],
    }


def _fill(s: Session, tariff: Tariff, data: TariffInput) -> None:
    tariff.pai_price_cents = data.pai_price_cents
    tariff.late_surcharge_cents = data.late_surcharge_cents
    tariff.brackets.clear()
    s.flush()
    ordered = sorted(data.brackets, key=lambda b: (b.sibling_rank, b.qf_max is None, b.qf_max or 0))
    for position, b in enumerate(ordered):
        tariff.brackets.append(TariffBracket(qf_max=b.qf_max, price_cents=b.price_cents,
                                             sibling_rank=b.sibling_rank, position=position))


def add_tariff(desk: Desk, data: TariffInput) -> int:
    """A new tariff for a unit from a date; the previous one stays in force until the day before."""
    desk.require(Role.RESPONSABLE, "Modifier les tarifs")
    with desk.unit_of_work() as s:
        unit = s.get(Unit, data.unit_id)
        if unit is None:
            raise NotFound("Unité introuvable : elle a peut-être été supprimée.")
        problems = validate(data, meal=unit.meal)
        if problems:
            raise ValidationFailed(problems)
        same = s.execute(select(Tariff).where(Tariff.unit_id == unit.id,
                                              Tariff.valid_from == data.valid_from)).scalar_one_or_none()
        if same is not None:
            raise ValidationFailed([f"Un tarif de « {unit.name} » commence déjà le "
                                    f"{formats.ddmmyyyy(data.valid_from)} : modifiez-le plutôt."])
        tariff = Tariff(unit_id=unit.id, valid_from=data.valid_from, pai_price_cents=data.pai_price_cents,
                        late_surcharge_cents=data.late_surcharge_cents)
        stamp(tariff, desk)
        s.add(tariff)
        s.flush()
        _fill(s, tariff, data)
        s.flush()
        desk.audit(s, "tariff.add", "tariff", tariff.id, after={"unit": unit.name, **_snapshot(data)})
        return tariff.id


def _tariff_to_change(s, tariff_id: int, expected_version: int | None) -> Tariff:
    tariff = s.get(Tariff, tariff_id)
    if tariff is None:
        raise NotFound("Tarif introuvable : il a peut-être été supprimé sur un autre poste.")
    check_version(tariff, expected_version, "la fiche tarif")
    return tariff


def update_tariff(desk: Desk, tariff_id: int, expected_version: int | None, data: TariffInput) -> Changes:
    """Change a tariff not yet used by an issued invoice (its start and its prices)."""
    desk.require(Role.RESPONSABLE, "Modifier les tarifs")
    with desk.unit_of_work() as s:
        tariff = _tariff_to_change(s, tariff_id, expected_version)
        unit = s.get(Unit, tariff.unit_id)
        problems = validate(data, meal=unit.meal)
        if problems:
            raise ValidationFailed(problems)
        if data.valid_from != tariff.valid_from:
            clash = s.execute(select(Tariff.id).where(Tariff.unit_id == unit.id, Tariff.id != tariff.id,
                                                      Tariff.valid_from == data.valid_from)).first()
            if clash:
                raise ValidationFailed([f"Un autre tarif de « {unit.name} » commence le "
                                        f"{formats.ddmmyyyy(data.valid_from)}."])
        before = _snapshot(tariff)
        tariff.valid_from = data.valid_from
        _fill(s, tariff, data)
        stamp(tariff, desk)
        # Brackets live in their own rows: force the tariff row's UPDATE so its version moves.
        flag_modified(tariff, "updated_at")
        s.flush()
        desk.audit(s, "tariff.update", "tariff", tariff.id, before=before,
                   after={"unit": unit.name, **_snapshot(data)})
    return Changes(settings=True)


def delete_tariff(desk: Desk, tariff_id: int, expected_version: int | None) -> Changes:
    desk.require(Role.RESPONSABLE, "Modifier les tarifs")
    with desk.unit_of_work() as s:
        tariff = _tariff_to_change(s, tariff_id, expected_version)
        before = _snapshot(tariff)
        desk.audit(s, "tariff.delete", "tariff", tariff.id, before=before)
        s.delete(tariff)
    return Changes(settings=True)
