"""The household aggregate: family, guardians, children, pick-up persons, quotients, documents."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Boolean, Date, ForeignKey, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .base import AwareDateTime, Base, Versioned, Labelled
from gandrange_desk.roles import PaymentMode, PortalState  # noqa: F401 - re-exported


class Family(Versioned, Base):
    __tablename__ = "family"

    id: Mapped[int] = mapped_column(primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200), index=True)
    street: Mapped[str] = mapped_column(String(300), default="")
    postcode: Mapped[str] = mapped_column(String(10), default="")
    city: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    notes: Mapped[str] = mapped_column(Text, default="")
    payment_mode: Mapped[str] = mapped_column(String(20), default=PaymentMode.CHEQUE)
    portal_login: Mapped[str | None] = mapped_column(String(100), unique=True, nullable=True)
    portal_password_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    portal_state: Mapped[str] = mapped_column(String(20), default=PortalState.TO_CREATE)
    # The signed acknowledgement of the portal notice, returned with the dossier périscolaire.
    acknowledgement_returned: Mapped[bool] = mapped_column(Boolean, default=False)
    archived: Mapped[bool] = mapped_column(Boolean, default=False)
    anonymised_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    created_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    # Lower-cased, accent-free text of names, refs, e-mails and phones: what search matches.
    search_text: Mapped[str] = mapped_column(Text, default="")

    guardians: Mapped[list["Guardian"]] = relationship(
        back_populates="family", order_by="Guardian.position", cascade="all, delete-orphan"
    )
    children: Mapped[list["Child"]] = relationship(
        back_populates="family", order_by="Child.birth_date", cascade="all, delete-orphan"
    )
    quotients: Mapped[list["QuotientRecord"]] = relationship(
        back_populates="family", order_by="QuotientRecord.valid_from", cascade="all, delete-orphan"
    )


class Guardian(Base):
    __tablename__ = "guardian"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    relation: Mapped[str] = mapped_column(String(50), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    receives_email: Mapped[bool] = mapped_column(Boolean, default=True)
    holds_portal_account: Mapped[bool] = mapped_column(Boolean, default=False)
    # Set when the mail server refused the address for good (5xx).
    email_doubtful: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)

    family: Mapped[Family] = relationship(back_populates="guardians")

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class Child(Versioned, Base):
    __tablename__ = "child"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    first_name: Mapped[str] = mapped_column(String(100))
    last_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date] = mapped_column(Date)
    school_id: Mapped[int | None] = mapped_column(ForeignKey("school.id"), nullable=True, index=True)
    class_name: Mapped[str] = mapped_column(String(40), default="")
    health_notes: Mapped[str] = mapped_column(Text, default="")
    allergies: Mapped[str] = mapped_column(Text, default="")
    pai: Mapped[bool] = mapped_column(Boolean, default=False)
    doctor: Mapped[str] = mapped_column(String(200), default="")
    archived: Mapped[bool] = mapped_column(Boolean, default=False)

    family: Mapped[Family] = relationship(back_populates="children")
    pickup_persons: Mapped[list["PickupPerson"]] = relationship(
        back_populates="child", cascade="all, delete-orphan", order_by="PickupPerson.id"
    )

    @property
    def full_name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()


class PickupPerson(Base):
    """Someone authorised (or, with forbidden=True, explicitly not) to collect the child."""

    __tablename__ = "pickup_person"

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("child.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    relation: Mapped[str] = mapped_column(String(100), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    forbidden: Mapped[bool] = mapped_column(Boolean, default=False)

    child: Mapped[Child] = relationship(back_populates="pickup_persons")


class QuotientRecord(Base):
    """CAF quotient familial from a date; the latest one on or before a day applies."""

    __tablename__ = "quotient_record"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("family.id", ondelete="CASCADE"), index=True)
    value: Mapped[int] = mapped_column(Integer)
    valid_from: Mapped[date] = mapped_column(Date)
    source: Mapped[str] = mapped_column(String(40), default="CAF")
    recorded_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    recorded_by: Mapped[str | None] = mapped_column(String(64), nullable=True)

    family: Mapped[Family] = relationship(back_populates="quotients")


class DocumentState(Labelled):
    RECEIVED = "received", "Reçu"
    CHECKED = "checked", "Vérifié"
    REDO = "redo", "À refaire"



class Document(Versioned, Base):
    """A family's upload ("Mes envois") or, with family_id None, a document published to all."""

    __tablename__ = "document"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int | None] = mapped_column(
        ForeignKey("family.id", ondelete="CASCADE"), nullable=True, index=True
    )
    kind: Mapped[str] = mapped_column(String(100), default="")
    title: Mapped[str] = mapped_column(String(300), default="")
    filename: Mapped[str] = mapped_column(String(300), default="")
    mime_type: Mapped[str] = mapped_column(String(100), default="application/octet-stream")
    content: Mapped[bytes | None] = mapped_column(LargeBinary, nullable=True)
    received_at: Mapped[datetime | None] = mapped_column(AwareDateTime(), nullable=True)
    state: Mapped[str] = mapped_column(String(20), default=DocumentState.RECEIVED)
    reason: Mapped[str] = mapped_column(Text, default="")
