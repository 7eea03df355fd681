"""Who reads the medical notes: the `health.medical_roles` setting (allergies, PAI and pick-up
persons stay visible to every desk role: a clerk feeds and hands over the children)."""

from __future__ import annotations

from gandrange_desk.errors import DeskError
from gandrange_desk.models import AppSetting, Role
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk
from gandrange_desk.services.families.data import HEALTH_ROLES, MEDICAL_ROLES_KEY, medical_roles


def get_medical_roles(desk: Desk) -> list[str]:
    with desk.read() as s:
        return sorted(medical_roles(s), key=lambda r: [x.value for x in Role].index(r))


def set_medical_roles(desk: Desk, roles: list[str]) -> Changes:
    """Administrator only; audited. An empty list is refused: somebody must read the notes."""
    desk.require(Role.ADMIN, "Choisir qui lit les notes médicales")
    chosen = sorted({r.strip() for r in roles if r.strip()})
    unknown = [r for r in chosen if r not in HEALTH_ROLES]
    if unknown:
        raise DeskError(f"Rôle inconnu ou non autorisé pour les notes médicales : {', '.join(unknown)} "
                        "(agent, responsable ou admin).")
    if not chosen:
        raise DeskError("Indiquez au moins un rôle qui lit les notes médicales.")
    with desk.unit_of_work() as s:
        before = sorted(medical_roles(s))
        s.merge(AppSetting(key=MEDICAL_ROLES_KEY, value=",".join(chosen)))
        desk.audit(s, "settings.medical_roles", "app_setting", None, before={"roles": before},
                   after={"roles": chosen})
    return Changes(settings=True)
