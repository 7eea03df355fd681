"""The settings' fields, declared once.

The TOML import and export (`toml`), the settings service (`service`) and the Réglages window
(`ui.settings`) all read these tables. A new structure field is one line in STRUCTURE_FIELDS,
plus its `Structure` column and a migration; the file's validation, its export, the service's
comparison and audit, and the window's form follow from the line.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Field:
    """One key of the file's [structure] section, which is also a `Structure` column."""

    key: str
    # "line" one line of text, "text" several lines, "int" a whole number within `bounds`,
    # "zone" one of `choices`, "subdivision" a French département known to the holidays library.
    kind: str
    default: object  # what the column holds when the file leaves the key out
    label: str  # the window's label; "&" marks its keyboard shortcut
    bounds: tuple[int, int] | None = None
    choices: tuple[str, ...] = ()
    required: bool = False
    verbatim: bool = False  # kept exactly as typed: the appeal text's own line breaks and spaces
    suffix: str = ""  # shown after a number in the window
    hint: str = ""  # the window's tooltip
    extra: bool = False  # beyond the design's example: exported after the schools and closures

    @property
    def title(self) -> str:
        """The label as the messages say it, without its shortcut mark."""
        return self.label.replace("&", "")


STRUCTURE_FIELDS = (
    Field("name", "line", "", "&Nom de la structure", required=True),
    Field("address", "text", "", "&Adresse"),
    Field("siret", "line", "", "&SIRET"),
    Field("email", "line", "", "&Courriel"),
    Field("phone", "line", "", "Télé&phone"),
    Field("portal_url", "line", "", "Adresse du p&ortail"),
    Field("school_zone", "zone", "B", "&Zone de vacances scolaires", choices=("A", "B", "C"), required=True),
    Field("holiday_subdivision", "subdivision", "57", "Jours fériés (&département)", required=True,
          hint="Code du département, par exemple 57 pour la Moselle."),
    Field("issuer_name", "line", "", "Si&gnataire (nom)", extra=True),
    Field("issuer_role", "line", "", "Signataire (&qualité)", extra=True),
    Field("sepa_ics", "line", "", "SEPA : &ICS (identifiant créancier)", extra=True),
    Field("sepa_iban", "line", "", "SEPA : IBAN d&u créancier", extra=True),
    Field("sepa_bic", "line", "", "SEPA : &BIC", extra=True),
    Field("collection_day", "int", 10, "&Jour de prélèvement", bounds=(1, 28), suffix=" du mois", extra=True),
    Field("payment_terms_days", "int", 30, "Délai de paie&ment (jours)", bounds=(0, 365), suffix=" jours",
          extra=True),
    Field("prenotification_days", "int", 14, "Pré-notification SEPA (jours)", bounds=(1, 60), suffix=" jours",
          extra=True, hint="Jours entre la facture (qui vaut pré-notification) et le prélèvement : 14 par défaut "
          "(règlement SEPA), moins seulement si vos mandats le prévoient. La date de prélèvement est repoussée, "
          "jamais le préavis raccourci."),
    Field("appeal_text", "text", "", "&Voies et délais de recours", verbatim=True, extra=True),
)
STRUCTURE_FIELD = {f.key: f for f in STRUCTURE_FIELDS}
STRUCTURE_COLUMNS = tuple(STRUCTURE_FIELD)

# The keys of an [[activity]] and of its [[activity.unit]], with the words the window uses for them.
ACTIVITY_FIELDS = {
    "code": "code", "name": "nom", "opens": "ouverture", "weekdays": "jours",
    "booking_deadline": "délai de réservation", "cancellation_deadline": "délai d'annulation", "unit": "unités",
}
UNIT_FIELDS = {
    "name": "nom", "capacity": "capacité", "meal": "repas", "prices": "prix", "sibling_prices": "prix fratrie",
    "pai_price": "prix PAI", "late_surcharge": "majoration", "valid_from": "date des prix",
}



@dataclass(frozen=True)
class AttendanceField:
    """One key of the file's [attendance] section: what an absence or a walk-in costs
    (`attendance.rules.AttendanceRules`, attribute `key`). Stored as the `setting` AppSetting,
    which the attendance screen's own dialog saves too."""

    key: str
    kind: str  # "bool", "int" within `bounds`, "price" in cents within `bounds` (written "1.50" in the file)
    default: object
    label: str  # the window's words
    bounds: tuple[int, int] = (0, 0)
    suffix: str = ""

    @property
    def setting(self) -> str:
        return f"attendance.{self.key}"

    @property
    def file_key(self) -> str:
        """The key in the file: prices are written in euros, without the `_cents`."""
        return self.key.removesuffix("_cents")


ATTENDANCE_FIELDS = (
    AttendanceField("bill_no_shows", "bool", True, "Facturer les absences non excusées d'un enfant réservé"),
    AttendanceField("bill_walk_ins", "bool", True, "Facturer les présences sans réservation"),
    AttendanceField("walk_in_surcharge_percent", "int", 0, "Majoration d'une présence sans réservation (% du prix)",
                    (0, 200), " %"),
    AttendanceField("walk_in_surcharge_cents", "price", 0, "Majoration fixe d'une présence sans réservation",
                    (0, 10_000)),
)
ATTENDANCE_FIELD = {f.file_key: f for f in ATTENDANCE_FIELDS}
