"""Plain snapshots of a family file (what the UI shows) and the inputs of its save operations.

Snapshots carry the family's `version`: every save takes it back, and a stale one is refused.
Health fields are None when the actor's role may not see them (`can_see_health`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from gandrange_desk.models import DocumentState, MandateState, PaymentMode, PortalState, Role
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Actor

# Roles that see allergies, PAI, health notes and the doctor. An explicit list, not a rank:
# a future read-only role ("lecture") stays out unless added here on purpose.
HEALTH_ROLES = frozenset({Role.AGENT, Role.RESPONSABLE, Role.ADMIN})

NO_QUOTIENT_TEXT = "Aucun quotient : tarif de la tranche la plus haute"

QUOTIENT_SOURCES = ("CAF", "MSA", "Attestation", "Avis d'imposition")


def can_see_health(actor: Actor) -> bool:
    """Allergies, PAI (and who may collect the child): what a clerk needs to feed a child and
    hand it over, visible to every desk role."""
    return actor.role in HEALTH_ROLES


# Medical notes and the doctor: only the roles the `health.medical_roles` setting names
# (comma-separated role codes); by default the responsable and the administrator.
MEDICAL_ROLES_KEY = "health.medical_roles"
DEFAULT_MEDICAL_ROLES = frozenset({Role.RESPONSABLE.value, Role.ADMIN.value})
MEDICAL_FIELDS = ("health_notes", "doctor")


def medical_roles(session) -> frozenset[str]:
    from sqlalchemy import select

    from gandrange_desk.models import AppSetting

    value = session.execute(select(AppSetting.value).where(AppSetting.key == MEDICAL_ROLES_KEY)).scalar_one_or_none()
    if value is None:
        return DEFAULT_MEDICAL_ROLES
    return frozenset(r.strip() for r in value.split(",") if r.strip()) & HEALTH_ROLES


def can_see_medical(actor: Actor, roles: frozenset[str]) -> bool:
    return can_see_health(actor) and actor.role in roles


@dataclass(frozen=True)
class GuardianData:
    id: int
    first_name: str
    last_name: str
    relation: str
    email: str
    phone: str
    receives_email: bool
    holds_portal_account: bool
    email_doubtful: bool

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class PickupData:
    id: int
    name: str
    relation: str
    phone: str
    forbidden: bool


@dataclass(frozen=True)
class ChildData:
    id: int
    ref: str
    first_name: str
    last_name: str
    birth_date: date
    school_id: int | None
    school_name: str
    class_name: str
    archived: bool
    health_visible: bool
    health_notes: str | None
    allergies: str | None
    pai: bool | None
    doctor: str | None
    pickups: tuple[PickupData, ...]
    medical_visible: bool = True  # health notes and doctor (None when not)

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


@dataclass(frozen=True)
class QuotientData:
    id: int
    value: int
    valid_from: date
    source: str
    recorded_at: datetime | None
    recorded_by: str | None


@dataclass(frozen=True)
class MandateData:
    id: int
    rum: str
    iban_masked: str
    bic: str
    holder: str
    signed_on: date
    state: str
    sequence_type: str
    version: int

    @property
    def state_label(self) -> str:
        return MandateState.label_of(self.state)


@dataclass(frozen=True)
class DocumentData:
    id: int
    kind: str
    title: str
    filename: str
    received_at: datetime | None
    state: str
    reason: str
    size: int
    version: int
    # Set on the document a write operation returns: what it changed (the family, an e-mail).
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    @property
    def state_label(self) -> str:
        return DocumentState.label_of(self.state)


@dataclass(frozen=True)
class FamilySnapshot:
    id: int
    ref: str
    name: str
    street: str
    postcode: str
    city: str
    phone: str
    notes: str
    payment_mode: str
    portal_login: str
    portal_state: str
    acknowledgement_returned: bool
    archived: bool
    version: int
    updated_at: datetime | None
    updated_by: str | None
    created_at: datetime | None
    guardians: tuple[GuardianData, ...]
    children: tuple[ChildData, ...]
    quotients: tuple[QuotientData, ...]  # oldest first
    mandates: tuple[MandateData, ...]  # newest first
    documents: tuple[DocumentData, ...]  # newest first
    balance_cents: int
    issued_invoices: int
    pending_requests: int
    health_visible: bool
    # Set on the snapshot a write operation returns (empty on a plain read): what it changed.
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)
    medical_visible: bool = True  # health notes and the doctor (see MEDICAL_ROLES_KEY)

    def quotient_on(self, day: date) -> QuotientData | None:
        current = None
        for q in self.quotients:
            if q.valid_from <= day:
                current = q
        return current

    @property
    def active_mandate(self) -> MandateData | None:
        return next((m for m in self.mandates if m.state == MandateState.ACTIVE), None)

    @property
    def payment_mode_label(self) -> str:
        return PaymentMode.label_of(self.payment_mode)

    @property
    def portal_state_label(self) -> str:
        return PortalState.label_of(self.portal_state)

    @property
    def email_recipients(self) -> list[str]:
        return [g.email for g in self.guardians if g.receives_email and g.email]

    @property
    def address_lines(self) -> list[str]:
        lines = [self.street] if self.street else []
        town = f"{self.postcode} {self.city}".strip()
        if town:
            lines.append(town)
        return lines


# ---- inputs: raw values as typed (strings accepted for dates and numbers); the service checks them


@dataclass
class FoyerInput:
    name: str
    street: str = ""
    postcode: str = ""
    city: str = ""
    phone: str = ""
    notes: str = ""
    acknowledgement_returned: bool = False


@dataclass
class GuardianInput:
    first_name: str
    last_name: str
    relation: str = ""
    email: str = ""
    phone: str = ""
    receives_email: bool = True
    holds_portal_account: bool = False
    id: int | None = None  # None: a new guardian


@dataclass
class PickupInput:
    name: str
    relation: str = ""
    phone: str = ""
    forbidden: bool = False


@dataclass
class ChildInput:
    first_name: str
    last_name: str
    birth_date: date | str | None
    school_id: int | None = None
    class_name: str = ""
    archived: bool = False
    # None keeps what is on file: an actor who cannot see health data cannot erase it either.
    health_notes: str | None = None
    allergies: str | None = None
    pai: bool | None = None
    doctor: str | None = None
    pickups: list[PickupInput] | None = None
    id: int | None = None  # None: "Ajouter" a child


@dataclass
class QuotientInput:
    value: int | str
    valid_from: date | str | None
    source: str = "CAF"


@dataclass
class PaymentInput:
    mode: str
    # Blank keeps the active mandate's account; a new IBAN makes a new mandate (new RUM).
    new_iban: str = ""
    bic: str = ""
    holder: str = ""
    signed_on: date | str | None = None
    mandate_state: str = MandateState.ACTIVE


@dataclass
class PortalInput:
    login: str
    state: str


@dataclass(frozen=True)
class HistoryEntry:
    at: datetime
    user: str
    action: str
    label: str
    details: list[str] = field(default_factory=list)
