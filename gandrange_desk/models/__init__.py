"""The data model (SQLAlchemy 2, typed, no Qt). Importing this package registers every table."""

from .base import AwareDateTime, Base, Labelled, Versioned, money_str
from .structure import AppSetting, Closure, NumberSequence, School, SchoolHoliday, SmtpSettings, Structure
from .activity import WEEKDAY_CODES, Activity, Opens, Tariff, TariffBracket, Unit
from .family import (
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
    DraftDay,
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
    RegularisationCheck,
    ReversalKind,
    SepaDebit,
    SepaDebitStatus,
    SepaExport,
)
from .attendance import Attendance, Presence
from .outbox import OutboxAttachment, OutboxMessage, OutboxSecret, OutboxStatus
from .people import Appointment, AppointmentStatus, AuditEntry, DeskUser, Role
from .portal import OnlinePayment, PortalThrottle

metadata = Base.metadata
