"""The Historique tab: the family's audit entries in words a clerk reads."""

from __future__ import annotations

import json

from sqlalchemy import select

from gandrange_desk.models import AuditEntry, School
from gandrange_desk.services.context import Desk
from gandrange_desk.services.families.data import HistoryEntry, can_see_health

ACTION_LABELS = {
    "family.create": "Création de la fiche",
    "family.foyer": "Foyer modifié",
    "family.guardians": "Responsables modifiés",
    "family.quotient": "Quotient familial enregistré",
    "family.payment_mode": "Mode de paiement changé",
    "family.portal": "Compte portail modifié",
    "family.archive": "Famille archivée",
    "family.anonymise": "Famille anonymisée (RGPD)",
    "family.restore": "Famille restaurée",
    "family.delete": "Famille supprimée",
    "family.export": "Données exportées (RGPD)",
    "child.create": "Enfant ajouté",
    "child.update": "Enfant modifié",
    "child.archive": "Enfant archivé (a quitté la structure)",
    "mandate.create": "Mandat SEPA créé",
    "mandate.update": "Mandat SEPA modifié",
    "mandate.revoke": "Mandat SEPA révoqué",
    "portal.credentials": "Identifiants du portail envoyés",
    "document.add": "Document enregistré",
    "document.state": "Document traité",
}

FIELD_LABELS = {
    "name": "nom", "street": "adresse", "postcode": "code postal", "city": "commune", "phone": "téléphone",
    "notes": "notes", "acknowledgement_returned": "accusé rendu", "first_name": "prénom",
    "last_name": "nom", "birth_date": "naissance", "class_name": "classe", "school_id": "école",
    "archived": "archivé", "health_notes": "notes de santé", "allergies": "allergies", "pai": "PAI",
    "doctor": "médecin", "pickups": "personnes autorisées", "payment_mode": "mode de paiement",
    "portal_login": "identifiant", "portal_state": "état du compte", "value": "valeur",
    "valid_from": "depuis", "source": "source", "state": "état", "reason": "motif", "iban": "IBAN",
    "bic": "BIC", "rum": "RUM", "holder": "titulaire", "signed_on": "signé le", "email": "e-mail",
    "relation": "lien", "receives_email": "reçoit les courriels",
    "holds_portal_account": "titulaire du compte portail",
}

HEALTH_KEYS = {"health_notes", "allergies", "pai", "doctor"}


def _short(value) -> str:
    if isinstance(value, str) and len(value) == 10 and value[4] == "-" and value[7] == "-":
        return f"{value[8:]}/{value[5:7]}/{value[:4]}"
    if value is True:
        return "oui"
    if value is False:
        return "non"
    if value is None or value == "":
        return "—"
    if isinstance(value, list):
        return f"{len(value)} élément(s)"
    text = str(value)
    return text if len(text) <= 60 else text[:57] + "…"


def _details(before: dict | list | None, after: dict | list | None, health: bool) -> list[str]:
    if isinstance(before, dict) or isinstance(after, dict):
        b = before if isinstance(before, dict) else {}
        a = after if isinstance(after, dict) else {}
        out = []
        for key in list(dict.fromkeys([*b, *a])):
            if key in ("id", "ref") or b.get(key) == a.get(key) and key in b:
                continue
            label = FIELD_LABELS.get(key, key)
            if key in HEALTH_KEYS and not health:
                out.append(f"{label} : modifié (donnée de santé)")
                continue
            if key in b:
                out.append(f"{label} : {_short(b.get(key))} → {_short(a.get(key))}")
            else:
                out.append(f"{label} : {_short(a.get(key))}")
        return out
    if isinstance(before, list) or isinstance(after, list):
        return _list_details(before or [], after or [], health)
    return []


def _person(item: dict) -> str:
    return f"{item.get('first_name', '')} {item.get('last_name', '')}".strip() or "?"


def _list_details(before: list, after: list, health: bool) -> list[str]:
    """Guardians saved as a list: say who was added, removed, or what changed for whom."""
    old = {item.get("id"): item for item in before if isinstance(item, dict)}
    out = []
    seen = set()
    for item in after:
        if not isinstance(item, dict):
            continue
        previous = old.get(item.get("id"))
        if previous is None:
            out.append(f"ajouté : {_person(item)}")
            continue
        seen.add(item.get("id"))
        for line in _details(previous, item, health):
            out.append(f"{_person(item)} — {line}")
    for key, item in old.items():
        if key not in seen and not any(isinstance(a, dict) and a.get("id") == key for a in after):
            out.append(f"retiré : {_person(item)}")
    return out


def family_history(desk: Desk, family_id: int) -> list[HistoryEntry]:
    health = can_see_health(desk.actor)
    with desk.read() as s:
        schools = {i: n for i, n in s.execute(select(School.id, School.name)).all()}
        rows = s.execute(select(AuditEntry).where(AuditEntry.family_id == family_id)
                         .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())).scalars().all()
    out = []
    for r in rows:
        before = json.loads(r.before) if r.before.startswith(("{", "[")) else None
        after = json.loads(r.after) if r.after.startswith(("{", "[")) else None
        for side in (before, after):
            if isinstance(side, dict) and side.get("school_id") is not None:
                side["school_id"] = schools.get(side["school_id"], side["school_id"])
        details = _details(before, after, health)
        if r.entity == "child":
            who = after if isinstance(after, dict) else before if isinstance(before, dict) else {}
            details = [f"{_person(who)} — {d}" for d in details] if r.action != "child.create" else \
                [f"{_person(who)}, né(e) le {_short(who.get('birth_date'))}"]
        out.append(HistoryEntry(r.at, r.user_login, r.action, ACTION_LABELS.get(r.action, r.action), details))
    return out
