"""Stored codes with their French words, and the desk roles: no SQLAlchemy here.

The window's shell (title, tabs, status bar) and the login dialog are drawn before SQLAlchemy
and the models load; what they need of the model layer lives here. `gandrange_desk.models`
re-exports both names, so the rest of the code keeps importing them from there.
"""

from __future__ import annotations

from enum import StrEnum


class Labelled(StrEnum):
    """A stored code that carries its French words: `CellState.R.label` ("Réservé") for lists
    and headers, `.phrase` ("réservée") inside a sentence. Declared once, on the enum.

    Members are written `CODE = "value", "Label"` or `CODE = "value", "Label", "phrase"`.
    """

    def __new__(cls, value: str, label: str = "", phrase: str = ""):
        member = str.__new__(cls, value)
        member._value_ = value
        member.label = label or value
        member.phrase = phrase or member.label[:1].lower() + member.label[1:]
        return member

    @classmethod
    def labels(cls) -> dict[str, str]:
        """value -> label, for combo boxes and exports."""
        return {m.value: m.label for m in cls}

    @classmethod
    def label_of(cls, code: str | None, default: str | None = None) -> str:
        """The label of a stored code; a code that is not one of ours is shown as it is (or as
        `default`), because old rows and foreign feeds must still display."""
        member = cls._value2member_map_.get(code)
        if member is not None:
            return member.label
        return (code or "") if default is None else default

    @classmethod
    def phrase_of(cls, code: str | None, default: str | None = None) -> str:
        """Like `label_of`, the in-sentence word."""
        member = cls._value2member_map_.get(code)
        if member is not None:
            return member.phrase
        return (code or "") if default is None else default


class Role(Labelled):
    AGENT = "agent", "Agent"  # clerk
    RESPONSABLE = "responsable", "Responsable"  # supervisor
    ADMIN = "admin", "Administrateur"
    # A desk user for the scheduled tasks (outbox send, backups, portal feed): nothing else, and
    # never the window.
    TASKS = "taches", "Tâches planifiées"


# Codes the first screen (the Familles list, the status bar's counts) reads before the models
# load; the model modules import them from here.


class PaymentMode(Labelled):
    PRELEVEMENT = "prelevement", "Prélèvement"
    CHEQUE = "cheque", "Chèque"
    ESPECES = "especes", "Espèces"
    CESU = "cesu", "CESU", "CESU"
    VIREMENT = "virement", "Virement"
    CARTE = "carte", "Carte bancaire"


class PortalState(Labelled):
    TO_CREATE = "to_create", "À créer"
    SENT = "sent", "Envoyé"
    ACTIVE = "active", "Actif"


class InvoiceStatus(Labelled):
    DRAFT = "draft", "Brouillon"
    ISSUED = "issued", "Émise"


class RequestStatus(Labelled):
    PENDING = "pending", "En attente"
    ACCEPTED = "accepted", "Acceptée"
    REFUSED = "refused", "Refusée"
    WITHDRAWN = "withdrawn", "Retirée"


class OutboxStatus(Labelled):
    PENDING = "pending", "En attente"  # en attente
    SENDING = "sending", "En cours"  # en cours (claimed by one sender)
    SENT = "sent", "Envoyé"  # envoyé
    TEMP_FAILED = "temp_failed", "Échec temporaire"  # échec temporaire, retried later
    FAILED = "failed", "Échec définitif"  # échec définitif
    CANCELLED = "cancelled", "Annulé"  # annulé by a clerk: never sent
