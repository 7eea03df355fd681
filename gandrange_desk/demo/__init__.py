"""`gandrange-desk demo`: a realistic school year for Gandrange on an empty database (DESIGN §9).

Everything comes from one `random.Random(seed)` and the desk's clock, so the same seed on the
same day gives the same database. Rows are written with bulk INSERTs (executemany), family chunk
by family chunk, so 2,000 families and their few hundred thousand cells take seconds; the
whole core is one transaction. Afterwards, unless `extras` is off, the other parts add theirs:
`demo.attendance.add_attendance(desk, rng)` (the door's marks of the past days, before the billing
so a run that applies the attendance rules bills what the door saw), `demo.billing.add_billing(desk,
rng)` (issued invoices and payments of the past months) and
`demo.appointments.add_appointments(desk, rng)` (September help sessions).

Demo desk users (password `demo1234`): sfoncin (Sandrine Foncin, agent), nbecker (Nathalie
Becker, responsable), admin (Administrateur, admin).
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from dateutil.easter import easter
from sqlalchemy import func, insert, select, update

from gandrange_desk.clock import PARIS
from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.models import (
    Booking, Child, DeskUser, Family, FeedEntry, Guardian, Mandate, PaymentMode,
    PickupPerson, PortalState, QuotientRecord, Request, RequestKind, RequestSource, RequestStatus,
    Role, Structure, Unit,
)
from gandrange_desk.demo import appointments as demo_appointments
from gandrange_desk.demo import attendance as demo_attendance
from gandrange_desk.demo import billing as demo_billing
from gandrange_desk.demo import data
from gandrange_desk.demo.bulk import bulk_insert
from gandrange_desk.services.calendar import Calendar
from gandrange_desk.services.context import Desk
from gandrange_desk.demo.bookings import BookingMaker, World
from gandrange_desk.services.progress import Progress
from gandrange_desk.services.search import normalize, search_text
from gandrange_desk.services.settings.service import apply_settings
from gandrange_desk.services.settings.toml import parse_settings

DEMO_PASSWORD = "demo1234"
DEMO_USERS = (
    ("sfoncin", "Sandrine Foncin", Role.AGENT),
    ("nbecker", "Nathalie Becker", Role.RESPONSABLE),
    ("admin", "Administrateur", Role.ADMIN),
)
CHUNK = 200
MATERNELLE, ELEMENTAIRE = "École maternelle", "École élémentaire"
# Class -> age on 31 December of the school year's first year.
CLASSES = (("PS", 3, MATERNELLE), ("MS", 4, MATERNELLE), ("GS", 5, MATERNELLE), ("CP", 6, ELEMENTAIRE),
           ("CE1", 7, ELEMENTAIRE), ("CE2", 8, ELEMENTAIRE), ("CM1", 9, ELEMENTAIRE),
           ("CM2", 10, ELEMENTAIRE))
PAYMENT_WEIGHTS = ((PaymentMode.PRELEVEMENT, 34), (PaymentMode.CHEQUE, 26), (PaymentMode.VIREMENT, 15),
                   (PaymentMode.CARTE, 10), (PaymentMode.CESU, 9), (PaymentMode.ESPECES, 6))

SETTINGS = """\
[structure]
name = "Service Enfance-Jeunesse — Commune de Gandrange"
address = "Mairie de Gandrange\\n2 rue de la Mairie\\n57175 Gandrange"
siret = "21570242700018"
email = "periscolaire@mairie-gandrange.example"
phone = "03 87 67 17 79"
portal_url = "https://enfance-jeunesse-gandrange.leportailfamille.fr"
school_zone = "B"
holiday_subdivision = "57"
schools = ["École maternelle", "École élémentaire"]
closures = [["{bridge}", "{bridge}", "Pont de l'Ascension"], ["{pedago}", "{pedago}", "Journée pédagogique"]]
issuer_name = "Nathalie Becker"
issuer_role = "Responsable du service Enfance-Jeunesse"
sepa_ics = "FR42ZZZ572427"
sepa_iban = "{creditor_iban}"
sepa_bic = "BDFEFRPPCCT"
collection_day = 10
payment_terms_days = 30
appeal_text = "Voies et délais de recours : vous pouvez contester cette facture dans un délai de deux mois à compter de sa réception devant le tribunal judiciaire de Metz (article L.1617-5 du code général des collectivités territoriales). Réclamations : Service Enfance-Jeunesse, Mairie de Gandrange."

[smtp]
host = "smtp.mairie-gandrange.example"
port = 587
security = "starttls"
user = "periscolaire"
sender = "Périscolaire Gandrange <periscolaire@mairie-gandrange.example>"

[[activity]]
code = "PERISCOLAIRE"
name = "Périscolaire"
opens = "school_days"
weekdays = ["mon", "tue", "thu", "fri"]
booking_deadline = {{ working_days = 2, time = "10:00" }}
cancellation_deadline = {{ working_days = 2, time = "10:00" }}

  [[activity.unit]]
  name = "Accueil matin"
  capacity = {cap_matin}
  valid_from = "{valid_from}"
  prices = [{{ qf_max = 500, price = "0.90" }}, {{ qf_max = 800, price = "1.20" }}, {{ qf_max = 1200, price = "1.50" }}, {{ price = "1.85" }}]
  late_surcharge = "0.50"

  [[activity.unit]]
  name = "Repas"
  capacity = {cap_repas}
  meal = true
  valid_from = "{valid_from}"
  prices = [{{ qf_max = 500, price = "3.10" }}, {{ qf_max = 800, price = "3.60" }}, {{ qf_max = 1200, price = "4.15" }}, {{ price = "4.70" }}]
  pai_price = "1.60"
  late_surcharge = "1.00"

  [[activity.unit]]
  name = "Accueil soir"
  capacity = {cap_soir}
  valid_from = "{valid_from}"
  prices = [{{ qf_max = 500, price = "1.70" }}, {{ qf_max = 800, price = "2.20" }}, {{ qf_max = 1200, price = "2.75" }}, {{ price = "3.30" }}]
  late_surcharge = "0.50"

[[activity]]
code = "MERCREDI"
name = "MERCREDI"
opens = "wednesdays"
weekdays = ["wed"]
booking_deadline = {{ working_days = 3, time = "12:00" }}
cancellation_deadline = {{ working_days = 3, time = "12:00" }}

  [[activity.unit]]
  name = "Journée complète"
  capacity = {cap_journee}
  valid_from = "{valid_from}"
  prices = [{{ qf_max = 500, price = "7.50" }}, {{ qf_max = 800, price = "9.80" }}, {{ qf_max = 1200, price = "12.40" }}, {{ price = "14.90" }}]
  sibling_prices = [{{ rank = 2, prices = [{{ qf_max = 500, price = "6.75" }}, {{ qf_max = 800, price = "8.80" }}, {{ qf_max = 1200, price = "11.15" }}, {{ price = "13.40" }}] }}]

  [[activity.unit]]
  name = "Matin"
  capacity = {cap_demi}
  valid_from = "{valid_from}"
  prices = [{{ qf_max = 800, price = "3.40" }}, {{ price = "5.20" }}]

  [[activity.unit]]
  name = "Après-midi"
  capacity = {cap_demi}
  valid_from = "{valid_from}"
  prices = [{{ qf_max = 800, price = "3.40" }}, {{ price = "5.20" }}]

[[activity]]
code = "VACANCES"
name = "Accueil de loisirs (vacances)"
opens = "holiday_weekdays"
weekdays = ["mon", "tue", "wed", "thu", "fri"]
booking_deadline = {{ working_days = 7, time = "12:00" }}
cancellation_deadline = {{ working_days = 7, time = "12:00" }}

  [[activity.unit]]
  name = "Journée"
  capacity = {cap_vacances}
  valid_from = "{valid_from}"
  prices = [{{ qf_max = 500, price = "8.50" }}, {{ qf_max = 800, price = "10.60" }}, {{ qf_max = 1200, price = "13.20" }}, {{ price = "15.80" }}]
  sibling_prices = [{{ rank = 2, prices = [{{ qf_max = 500, price = "7.65" }}, {{ qf_max = 800, price = "9.55" }}, {{ qf_max = 1200, price = "11.90" }}, {{ price = "14.20" }}] }}]
"""


@dataclass
class DemoSummary:
    families: int = 0
    children: int = 0
    guardians: int = 0
    mandates: int = 0
    bookings: int = 0
    requests: int = 0
    pending: int = 0
    pending_late: int = 0
    school_year: tuple[date, date] | None = None
    seconds: float = 0.0
    core_seconds: float = 0.0
    extras: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"families": self.families, "children": self.children, "guardians": self.guardians,
                "mandates": self.mandates, "bookings": self.bookings, "requests": self.requests,
                "pending": self.pending, "pending_late": self.pending_late,
                "school_year": [d.isoformat() for d in self.school_year] if self.school_year else None,
                "seconds": round(self.seconds, 2),
                "core_seconds": round(self.core_seconds, 2), "extras": self.extras,
                "users": [{"login": login, "name": name, "role": role, "password": DEMO_PASSWORD}
                          for login, name, role in DEMO_USERS]}

    def text(self) -> str:
        first, last = self.school_year
        lines = [
            f"Données de démonstration créées en {self.seconds:.1f} s pour l'année scolaire "
            f"{first.year}-{first.year + 1} (familles et réservations : {self.core_seconds:.1f} s) :",
            f"  {self.families} familles, {self.children} enfants, {self.guardians} responsables légaux, "
            f"{self.mandates} mandats SEPA",
            f"  {self.bookings} cases réservées, {self.requests} demandes dont {self.pending} en attente "
            f"({self.pending_late} hors délai)",
        ]
        lines += [f"  {extra}" for extra in self.extras]
        lines.append(f"Utilisateurs (mot de passe « {DEMO_PASSWORD} ») : "
                     + ", ".join(f"{login} ({role})" for login, _name, role in DEMO_USERS) + ".")
        return "\n".join(lines)


def school_year_start(today: date, year: int | None) -> date:
    if year is None:
        year = today.year if today.month >= 9 else today.year - 1
    first = date(year, 9, 1)
    if first > today:
        raise ValidationFailed([f"L'année scolaire {year}-{year + 1} n'a pas encore commencé : "
                                "choisissez une année dont la rentrée est passée."])
    return first


def fr_iban(rng: random.Random, bank: str) -> str:
    """A French IBAN with a correct RIB key and correct ISO 13616 check digits (test data)."""
    branch = f"{rng.randrange(1, 99999):05d}"
    account = f"{rng.randrange(10**10, 10**11):011d}"
    key = 97 - ((89 * int(bank) + 15 * int(branch) + 3 * int(account)) % 97)
    bban = f"{bank}{branch}{account}{key:02d}"
    check = 98 - int(bban + "152700") % 97  # F=15, R=27, then "00"
    return f"FR{check:02d}{bban}"


def demo_settings_text(first: date, families: int) -> str:
    """Gandrange's settings for the school year starting `first`; capacities follow the size."""
    scale = max(1.0, families / 250)
    spring = easter(first.year + 1)
    caps = {"cap_matin": 45, "cap_repas": 190, "cap_soir": 90, "cap_journee": 60, "cap_demi": 20,
            "cap_vacances": 48}
    caps = {k: int(math.ceil(v * scale)) for k, v in caps.items()}
    return SETTINGS.format(
        valid_from=first.isoformat(), bridge=(spring + timedelta(days=40)).isoformat(),
        pedago=_first_weekday(date(first.year, 11, 1) + timedelta(days=20), 0).isoformat(),
        creditor_iban=fr_iban(random.Random(57175), "30001"), **caps)


def _first_weekday(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def _check_empty(s) -> None:
    for model, what in ((Structure, "des paramètres"), (Family, "des familles"), (Booking, "des réservations"),
                        (Request, "des demandes")):
        if s.execute(select(func.count()).select_from(model)).scalar_one():
            raise DeskError(f"La base de données contient déjà {what} : les données de démonstration ne "
                            "s'installent que dans une base vide (créez-en une nouvelle avec "
                            "« gandrange-desk --db FICHIER db upgrade »).")


def run_demo(desk: Desk, *, families: int = 250, seed: int = 1, year: int | None = None,
             progress: Progress | None = None, extras: bool = True) -> DemoSummary:
    """Fill an empty database; `extras=False` leaves out the later features' hooks (tests)."""
    desk.require(Role.ADMIN, "Créer les données de démonstration")
    if not 1 <= families <= 20000:
        raise ValidationFailed(["Le nombre de familles doit être compris entre 1 et 20 000."])
    started = time.perf_counter()
    today, now = desk.today(), desk.now()
    first = school_year_start(today, year)
    last = date(first.year + 1, 8, 31)
    # Separate streams: households stay the same when the booking habits are retuned.
    rng = random.Random(f"{seed}-requests")
    summary = DemoSummary(school_year=(first, last))
    with desk.unit_of_work() as s:
        _check_empty(s)
        apply_settings(s, desk, parse_settings(demo_settings_text(first, families)), default_valid_from=first)
        _add_users(s)
        world = World.load(s, Calendar.load(s), first=first, last=last, today=today, now=now)
        maker = BookingMaker(world, random.Random(f"{seed}-bookings"))
        builder = _FamilyBuilder(random.Random(f"{seed}-families"), first, today, now)
        for start in range(0, families, CHUNK):
            if progress:
                progress.check()
                progress.step(start, families, "Familles et réservations")
            count = min(CHUNK, families - start)
            batch = [builder.family(start + i + 1) for i in range(count)]
            _insert_families(s, world, batch, summary)
            bookings, requests = maker.for_children([c for f in batch for c in f["_children"]])
            conn = s.connection()
            bulk_insert(conn, Booking.__table__, bookings)
            bulk_insert(conn, Request.__table__, requests)
            summary.bookings += sum(1 for b in bookings if b["state"] in ("R", "DA", "AF"))
            summary.requests += len(requests)
            summary.pending += sum(1 for r in requests if r["status"] == RequestStatus.PENDING)
            summary.pending_late += sum(1 for r in requests if r["status"] == RequestStatus.PENDING and r["late"])
        _set_capacities(s, world, maker.peaks)
        summary.requests += _add_family_requests(s, rng, builder, families, now)
        summary.pending += _count_pending_family_requests(s)
        desk.audit(s, "demo.create", "settings", None, after={"families": families, "seed": seed,
                                                              "school_year": first.year})
    summary.core_seconds = time.perf_counter() - started
    if progress:
        progress.step(families, families, "Familles et réservations")
        if extras:
            progress.step(0, 1, "Compléments (pointage, factures, règlements, rendez-vous)")
    hooks = (("attendance", demo_attendance, "add_attendance"), ("billing", demo_billing, "add_billing"),
             ("appointments", demo_appointments, "add_appointments"))
    for name, module, function in hooks if extras else ():
        # Looked up at call time so tests can stand in for a slow part.
        extra_started = time.perf_counter()
        result = getattr(module, function)(desk, random.Random(f"{seed}-{name}"))
        if result:
            summary.extras.append(f"{result} ({time.perf_counter() - extra_started:.1f} s)")
    summary.seconds = time.perf_counter() - started
    return summary


def _add_users(s) -> None:
    from gandrange_desk.services.system.users import hash_password

    existing = set(s.execute(select(DeskUser.login)).scalars())
    hashed = hash_password(DEMO_PASSWORD)
    rows = [{"login": login, "full_name": name, "role": role, "password_hash": hashed, "active": True,
             "version": 1} for login, name, role in DEMO_USERS if login not in existing]
    if rows:
        s.execute(insert(DeskUser), rows)


def _set_capacities(s, world: World, peaks: Counter) -> None:
    """Capacities a little above the busiest day, so "places left" in the queue means something."""
    for unit_id, capacity in world.capacities.items():
        peak = peaks.get(unit_id, 0)
        wanted = max(capacity or 0, int(math.ceil(peak * 1.06)) + 2)
        if wanted != capacity:
            s.execute(update(Unit).where(Unit.id == unit_id).values(capacity=wanted))


class _FamilyBuilder:
    """One family as plain dicts (family, guardians, children…); ids are set at insert time."""

    def __init__(self, rng: random.Random, first: date, today: date, now: datetime):
        self.rng, self.first, self.today, self.now = rng, first, today, now

    def _phone(self, mobile: bool = True) -> str:
        r = self.rng
        head = r.choice(("06", "07")) if mobile else "03 87"
        groups = 4 if mobile else 3
        return head + "".join(f" {r.randrange(100):02d}" for _ in range(groups))

    def _email(self, first_name: str, last_name: str, n: int) -> str:
        local = normalize(f"{first_name}.{last_name}").replace(" ", "-").replace("'", "")
        local = "".join(c for c in local if c.isalnum() or c in ".-")
        suffix = "" if self.rng.random() < 0.7 else str(self.rng.randrange(1, 99))
        return f"{local}{suffix}@{data.EMAIL_DOMAINS[n % len(data.EMAIL_DOMAINS)]}"

    def _instant(self, day: date, low: int = 8, high: int = 21) -> datetime:
        return datetime(day.year, day.month, day.day, self.rng.randrange(low, high),
                        self.rng.randrange(60), tzinfo=PARIS)

    def family(self, n: int) -> dict:
        r = self.rng
        name = r.choice(data.LAST_NAMES)
        ref = f"F-{n:05d}"
        if r.random() < 0.88:
            street, postcode, city = r.choice(data.GANDRANGE_STREETS), "57175", "Gandrange"
        else:
            postcode, city, streets = r.choice(data.NEIGHBOUR_COMMUNES)
            street = r.choice(streets)
        no_email = r.random() < 0.05
        single = r.random() < 0.2
        guardians = [{"first_name": r.choice(data.MOTHER_NAMES), "last_name": name, "relation": "Mère"}]
        if not single:
            other = name if r.random() < 0.75 else r.choice(data.LAST_NAMES)
            guardians.append({"first_name": r.choice(data.FATHER_NAMES), "last_name": other,
                              "relation": "Père"})
        if r.random() < 0.12:
            guardians.reverse()
        for i, g in enumerate(guardians):
            g.update(position=i, phone=self._phone(), email="" if no_email else self._email(
                g["first_name"], g["last_name"], n + i), receives_email=not no_email, email_doubtful=False)
        if no_email:
            state = r.choice((PortalState.TO_CREATE, PortalState.SENT))
        else:
            state = r.choices((PortalState.ACTIVE, PortalState.SENT, PortalState.TO_CREATE), (80, 12, 8))[0]
        for i, g in enumerate(guardians):
            g["holds_portal_account"] = i == 0 and state != PortalState.TO_CREATE
        mode = r.choices([m for m, _ in PAYMENT_WEIGHTS], [w for _, w in PAYMENT_WEIGHTS])[0]
        created = self.first - timedelta(days=r.randrange(5, 5 * 365))
        family = {
            "ref": ref, "name": name, "street": f"{r.randrange(1, 80)} {street}", "postcode": postcode,
            "city": city, "phone": self._phone(False) if r.random() < 0.35 else "",
            "notes": r.choice(("", "", "", "", "", "", "Garde alternée : une semaine sur deux chez chaque parent.",
                               "Préférer le téléphone au courriel.", "Aide CCAS en cours d'étude.")),
            "payment_mode": mode, "portal_state": state,
            "portal_login": ref.lower().replace("-", "") if state != PortalState.TO_CREATE else None,
            "portal_password_hash": None,
            "acknowledgement_returned": r.random() < 0.9, "archived": False, "anonymised_at": None,
            "created_at": self._instant(created), "version": 1, "updated_at": None, "updated_by": None,
            "_guardians": guardians,
        }
        family["_quotients"] = self._quotients()
        family["_mandate"] = self._mandate(ref, guardians[0]) if mode == PaymentMode.PRELEVEMENT else None
        family["_children"] = self._children(name, ref)
        parts = [family["name"], ref, family["phone"]]
        for g in guardians:
            parts += [g["first_name"], g["last_name"], f"{g['first_name']} {g['last_name']}", g["email"], g["phone"]]
        # Same order as Family.children (by birth date), so the text equals family_search_text's.
        for c in sorted(family["_children"], key=lambda c: c["birth_date"]):
            parts += [c["first_name"], c["last_name"], f"{c['first_name']} {c['last_name']}", c["ref"]]
        family["search_text"] = search_text(parts)
        return family

    def _quotients(self) -> list[dict]:
        r = self.rng
        if r.random() < 0.14:
            return []
        value = int(r.triangular(320, 2400, 850))
        rows = [{"value": value, "valid_from": date(self.first.year, 1, 1), "source": "CAF",
                 "recorded_at": self._instant(date(self.first.year, 1, r.randrange(5, 28))),
                 "recorded_by": "sfoncin"}]
        january = date(self.first.year + 1, 1, 1)
        if r.random() < 0.4 and january <= self.today:
            rows.append({"value": max(200, value + r.randrange(-150, 150)), "valid_from": january,
                         "source": "CAF", "recorded_at": self._instant(january + timedelta(days=r.randrange(3, 9))),
                         "recorded_by": "sfoncin"})
        elif r.random() < 0.25:
            rows.append({"value": max(200, value + r.randrange(-200, 120)), "valid_from": self.first,
                         "source": r.choice(("CAF", "MSA", "Avis d'imposition")),
                         "recorded_at": self._instant(self.first + timedelta(days=r.randrange(0, 9))),
                         "recorded_by": "sfoncin"})
        return rows

    def _mandate(self, ref: str, guardian: dict) -> dict:
        r = self.rng
        bank, bic = r.choice(data.BANKS)
        signed = min(self.today, self.first - timedelta(days=r.randrange(-10, 30)))
        return {"rum": f"GANDRANGE-{ref}-{self.first.year}", "iban": fr_iban(r, bank), "bic": bic,
                "holder": f"{guardian['first_name']} {guardian['last_name']}", "signed_on": signed,
                "sequence_type": "FRST", "state": "active", "first_collected_on": None, "version": 1}

    def _children(self, name: str, ref: str) -> list[dict]:
        r = self.rng
        count = r.choices((1, 2, 3, 4), (66, 26, 7, 1))[0]
        classes = sorted(r.sample(range(len(CLASSES)), count))
        out = []
        for i, index in enumerate(classes):
            class_name, age, school = CLASSES[index]
            year = self.first.year - age
            girl = r.random() < 0.5
            allergy = r.random() < 0.08
            pai = allergy and r.random() < 0.35
            out.append({
                "ref": f"E-{ref[2:]}{i + 1}", "first_name": r.choice(data.GIRL_NAMES if girl else data.BOY_NAMES),
                "last_name": name, "birth_date": date(year, 1, 1) + timedelta(days=r.randrange(365)),
                "class_name": class_name, "_school": school,
                "health_notes": r.choice(data.HEALTH_NOTES) if r.random() < 0.06 else "",
                "allergies": ", ".join(r.sample(data.ALLERGIES, r.choice((1, 1, 2)))) if allergy else "",
                "pai": pai, "doctor": r.choice(data.DOCTORS) if r.random() < 0.6 else "", "archived": False,
                "version": 1, "updated_at": None, "updated_by": None,
                "_pickups": [{"name": f"{r.choice(data.MOTHER_NAMES + data.FATHER_NAMES)} "
                                      f"{r.choice((name, r.choice(data.LAST_NAMES)))}",
                              "relation": r.choice(data.PICKUP_RELATIONS), "phone": self._phone(),
                              "forbidden": r.random() < 0.02}
                             for _ in range(r.choice((0, 1, 1, 2, 2, 3)))],
            })
        return out


def _insert_families(s, world: World, batch: list[dict], summary: DemoSummary) -> None:
    rows = [{k: v for k, v in f.items() if not k.startswith("_")} for f in batch]
    ids = s.execute(insert(Family).returning(Family.id, sort_by_parameter_order=True), rows).scalars().all()
    guardians, quotients, mandates, children = [], [], [], []
    for family_id, f in zip(ids, batch):
        f["id"] = family_id
        guardians += [{**g, "family_id": family_id} for g in f["_guardians"]]
        quotients += [{**q, "family_id": family_id} for q in f["_quotients"]]
        if f["_mandate"]:
            mandates.append({**f["_mandate"], "family_id": family_id})
        for c in f["_children"]:
            c["family_id"] = family_id
            c["_family"] = f
            children.append(c)
    conn = s.connection()
    bulk_insert(conn, Guardian.__table__, guardians)
    bulk_insert(conn, QuotientRecord.__table__, quotients)
    bulk_insert(conn, Mandate.__table__, mandates)
    child_rows = [{**{k: v for k, v in c.items() if not k.startswith("_")}, "school_id": world.schools[c["_school"]]}
                  for c in children]
    child_ids = s.execute(insert(Child).returning(Child.id, sort_by_parameter_order=True),
                          child_rows).scalars().all()
    pickups = []
    for child_id, c in zip(child_ids, children):
        c["id"] = child_id
        pickups += [{**p, "child_id": child_id} for p in c["_pickups"]]
    bulk_insert(conn, PickupPerson.__table__, pickups)
    summary.families += len(batch)
    summary.children += len(children)
    summary.guardians += len(guardians)
    summary.mandates += len(mandates)


def _add_family_requests(s, rng: random.Random, builder: _FamilyBuilder, families: int, now: datetime) -> int:
    """Pending registrations and household changes, payloads in the portal feed's format."""
    count = max(3, families // 80)
    rows, feed = [], []
    for i in range(count):
        n = 90000 + i + 1
        fam = builder.family(n)
        submitted = _awake(rng, now - timedelta(hours=rng.randrange(2, 24 * 12), minutes=rng.randrange(60)), now)
        ref = f"P-{900000 + i + 1}"
        street_no, _, street = fam["street"].partition(" ")
        payload = {"family": {
            "ref": fam["ref"], "name": fam["name"],
            "address": {"street": fam["street"], "postcode": fam["postcode"], "city": fam["city"]},
            "guardians": [{"first_name": g["first_name"], "last_name": g["last_name"],
                           "email": g["email"] or None, "phone": g["phone"]} for g in fam["_guardians"]],
            "children": [{"ref": c["ref"], "first_name": c["first_name"], "last_name": c["last_name"],
                          "birth_date": c["birth_date"].isoformat(), "school": c["_school"],
                          "class": c["class_name"]} for c in fam["_children"]],
        }}
        for g in payload["family"]["guardians"]:
            if g["email"] is None:
                del g["email"]
        rows.append(_family_request(RequestKind.REGISTRATION, ref, None, submitted, {"family": payload["family"]}))
        feed.append({"ref": ref, "kind": "registration", "submitted_at": submitted, "imported_at": submitted,
                     "imported_by": None, "payload": json.dumps({"ref": ref, "kind": "registration",
                                                                  "submitted_at": submitted.isoformat(),
                                                                  **payload}, ensure_ascii=False)})
    family_ids = s.execute(select(Family.id, Family.ref).order_by(Family.id)).all()
    for i in range(min(len(family_ids), max(4, families // 60))):
        family_id, family_ref = family_ids[rng.randrange(len(family_ids))]
        submitted = _awake(rng, now - timedelta(hours=rng.randrange(1, 24 * 10), minutes=rng.randrange(60)), now)
        ref = f"P-{950000 + i + 1}"
        choice = rng.randrange(3)
        if choice == 0:
            changes = {"address.street": f"{rng.randrange(1, 60)} {rng.choice(data.GANDRANGE_STREETS)}"}
        elif choice == 1:
            changes = {"guardians[0].phone": builder._phone()}
        else:
            changes = {"guardians[0].phone": builder._phone(),
                       "guardians[0].email": f"nouvelle.adresse{i + 1}@example.org"}
        rows.append(_family_request(RequestKind.FAMILY_CHANGE, ref, family_id, submitted, {"changes": changes}))
        feed.append({"ref": ref, "kind": "family_change", "submitted_at": submitted, "imported_at": submitted,
                     "imported_by": None, "payload": json.dumps({
                         "ref": ref, "kind": "family_change", "submitted_at": submitted.isoformat(),
                         "family_ref": family_ref, "changes": changes}, ensure_ascii=False)})
    conn = s.connection()
    conn.execute(insert(Request.__table__), rows)
    conn.execute(insert(FeedEntry.__table__), feed)
    return len(rows)


def _awake(rng: random.Random, moment: datetime, now: datetime) -> datetime:
    """The same day in the daytime (families do not write at 3 a.m.), never after now."""
    if 7 <= moment.hour <= 22:
        return moment
    moment = moment.replace(hour=rng.randrange(8, 22))
    return moment if moment <= now else moment - timedelta(days=1)


def _family_request(kind: str, ref: str, family_id: int | None, submitted: datetime, payload: dict) -> dict:
    return {"kind": kind, "source": RequestSource.PORTAL, "ref": ref, "family_id": family_id, "child_id": None,
            "unit_id": None, "day": None, "from_state": None, "to_state": None, "submitted_at": submitted,
            "submitted_by": None, "status": RequestStatus.PENDING, "decided_by": None, "decided_at": None,
            "reason": "", "late": False, "proposed_billing": None, "billing": None,
            "billing_override_reason": "", "capacity_override": False,
            "payload": json.dumps(payload, ensure_ascii=False)}


def _count_pending_family_requests(s) -> int:
    return s.execute(select(func.count(Request.id)).where(
        Request.status == RequestStatus.PENDING,
        Request.kind.in_((RequestKind.REGISTRATION, RequestKind.FAMILY_CHANGE)))).scalar_one()


__all__ = ["run_demo", "DemoSummary", "DEMO_USERS", "DEMO_PASSWORD", "fr_iban", "demo_settings_text"]
