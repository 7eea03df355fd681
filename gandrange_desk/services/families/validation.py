"""Field checks for the family file: one French message per field, keyed so the UI can show it
beside the field ("foyer.postcode", "guardians[1].email", "children[0].birth_date", "mandate.iban").
"""

from __future__ import annotations

import re
from datetime import date, datetime


from gandrange_desk.errors import ValidationFailed
from gandrange_desk.services import validation as v


class FieldProblems(ValidationFailed):
    """ValidationFailed with the problems also keyed by field; nothing was written."""

    def __init__(self, fields: dict[str, str]):
        self.fields = dict(fields)
        super().__init__(list(self.fields.values()))


_DATE_FR = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


class Checker:
    """Collects problems while parsing raw input; `done()` raises them all at once."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def fail(self, key: str, message: str) -> None:
        self.fields.setdefault(key, message)

    def done(self) -> None:
        if self.fields:
            raise FieldProblems(self.fields)

    # Each parser returns the clean value, or None after recording the problem.

    def clean(self, key: str, label: str, value, *, multiline: bool = False) -> str | None:
        """The value through the validation layer's character checks, or None after the problem."""
        try:
            return v.text(str(value) if value is not None and not isinstance(value, str) else value,
                          max_len=v.TEXT_LIMIT, multiline=multiline)
        except v.Invalid as exc:
            self.fail(key, f"{label} : {exc.reason}.")
            return None

    def note(self, key: str, label: str, value) -> str:
        """Several lines (notes, allergies): line breaks kept, control characters refused."""
        return self.clean(key, label, value, multiline=True) or ""

    def text(self, key: str, label: str, value, *, required: bool = False, max_len: int = 200) -> str:
        checked = self.clean(key, label, value)
        if checked is None:
            return ""
        clean = " ".join(checked.split())
        if required and not clean:
            self.fail(key, f"{label} : ce champ est obligatoire.")
        elif len(clean) > max_len:
            self.fail(key, f"{label} : {max_len} caractères au plus.")
        return clean

    def email(self, key: str, label: str, value, *, required: bool = False) -> str:
        clean = self.clean(key, label, value)
        if not clean:
            if required and clean is not None:
                self.fail(key, f"{label} : l'adresse e-mail est obligatoire.")
            return ""
        try:
            return v.email(clean)
        except v.Invalid as exc:
            self.fail(key, f"{label} : {exc.reason}.")
            return clean

    def phone(self, key: str, label: str, value) -> str:
        raw = self.clean(key, label, value)
        if not raw:
            return ""
        try:
            return v.phone(raw)
        except v.Invalid as exc:
            self.fail(key, f"{label} : {exc.reason}.")
            return raw

    def postcode(self, key: str, label: str, value) -> str:
        clean = self.clean(key, label, value) or ""
        if clean and not re.fullmatch(r"\d{5}", clean):
            self.fail(key, f"{label} : le code postal doit comporter 5 chiffres (exemple : 57175).")
        elif clean:
            try:
                v.postcode(clean)
            except v.Invalid as exc:
                self.fail(key, f"{label} : {exc.reason}.")
        return clean

    def date(self, key: str, label: str, value, *, required: bool = False,
             not_after: date | None = None, not_before: date | None = None) -> date | None:
        parsed = parse_date(value)
        if parsed is None:
            if value in (None, "") or (isinstance(value, str) and not value.strip()):
                if required:
                    self.fail(key, f"{label} : la date est obligatoire.")
            else:
                self.fail(key, f"{label} : « {value} » n'est pas une date valide (jj/mm/aaaa).")
            return None
        if not_after and parsed > not_after:
            self.fail(key, f"{label} : la date ne peut pas être postérieure au {not_after:%d/%m/%Y}.")
        if not_before and parsed < not_before:
            self.fail(key, f"{label} : la date ne peut pas être antérieure au {not_before:%d/%m/%Y}.")
        return parsed

    def quotient(self, key: str, label: str, value) -> int | None:
        raw = str(value if value is not None else "").strip().replace(" ", "").replace("\u202f", "")
        if not raw:
            self.fail(key, f"{label} : la valeur est obligatoire.")
            return None
        if not re.fullmatch(r"\d+", raw):
            self.fail(key, f"{label} : « {value} » n'est pas valide ; un nombre entier positif ou nul "
                           "est attendu (exemple : 780).")
            return None
        number = int(raw)
        if number > 100000:
            self.fail(key, f"{label} : {number} semble trop élevé ; vérifiez la valeur.")
        return number

    def iban(self, key: str, label: str, value) -> str:
        raw = str(value or "").strip()
        if not raw:
            self.fail(key, f"{label} : l'IBAN est obligatoire pour le prélèvement.")
            return ""
        # schwifty loads its bank registry on import: only when an IBAN is actually checked.
        from schwifty import IBAN
        from schwifty.exceptions import SchwiftyException

        try:
            return IBAN(raw).compact
        except SchwiftyException:
            self.fail(key, f"{label} : « {raw} » n'est pas un IBAN valide (clé de contrôle ou longueur).")
            return raw

    def bic(self, key: str, label: str, value) -> str:
        raw = str(value or "").strip().replace(" ", "").upper()
        if not raw:
            return ""
        from schwifty import BIC
        from schwifty.exceptions import SchwiftyException

        try:
            BIC(raw)
        except SchwiftyException:
            self.fail(key, f"{label} : « {raw} » n'est pas un BIC valide (8 ou 11 caractères).")
        return raw

    def choice(self, key: str, label: str, value, allowed: dict) -> str:
        if value not in allowed:
            self.fail(key, f"{label} : choix inconnu « {value} ».")
        return value


def parse_date(value) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip()
    match = _DATE_FR.match(text)
    try:
        if match:
            day, month, year = (int(g) for g in match.groups())
            return date(year, month, day)
        return date.fromisoformat(text)
    except ValueError:
        return None


def format_french_phone(raw: str) -> str | None:
    """'0612345678', '+33 6 12 34 56 78', '06.12.34.56.78' -> '06 12 34 56 78'; None if not French."""
    return v.french_phone(raw)


def mask_iban(iban: str) -> str:
    """'FR7630006000011234567890189' -> 'FR76 **** **** **** **** **** 0189': only the last 4 show."""
    compact = re.sub(r"\s", "", iban or "").upper()
    if len(compact) < 8:
        return "****"
    middle = len(compact) - 8
    groups = ["****"] * ((middle + 3) // 4)
    return " ".join([compact[:4], *groups, compact[-4:]])
