"""The data model (SQLAlchemy 2, typed, no Qt). Importing this package registers every table."""

from .base import AwareDateTime, Base, Labelled, Versioned, money_str
from .structure import AppSetting, Closure, NumberSequence, School, SmtpSettings, Structure
from .activity import WEEKDAY_CODES, Activity, Opens, Tariff, TariffBracket, Unit
from .family import (
    DOCUMENT_STATE_LABELS,
    PAYMENT_MODE_LABELS,
    PORTAL_STATE_LABELS,
    Child,
    Document,
    DocumentState,
    Family,
    Guardian,
    PaymentMode,
    PickupPerson,
    PortalState,
    QuotientRecord,
)
from .booking import (
    SOURCE_LABELS,
    Billing,
    Booking,
    CellState,
    FeedEntry,
    FeedHold,
    Request,
    RequestKind,
    RequestSource,
    RequestStatus,
)
from .billing import (
    SEPA_REASON_CODES,
    BilledDay,
    CreditNote,
    CreditNoteLine,
    Invoice,
    InvoiceLine,
    InvoiceStatus,
    LineKind,
    Mandate,
    MandateState,
    Payment,
    PaymentAllocation,
    ReversalKind,
    SepaDebit,
    SepaDebitStatus,
    SepaExport,
)
from .outbox import OUTBOX_STATUS_LABELS, OutboxAttachment, OutboxMessage, OutboxStatus
from .people import ROLE_LABELS, Appointment, AppointmentStatus, AuditEntry, DeskUser, Role

metadata = Base.metadata
