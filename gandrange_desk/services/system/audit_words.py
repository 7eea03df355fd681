"""The audit trail's vocabulary, declared once: actions, entities, field names, and how a
before → after change reads in French.

The supervisors' journal (`services.system.audit`), a family's Historique tab
(`services.families.history`) and the RGPD export all read these tables, so an action or a field
is named the same everywhere. Stored codes that are enums (statuses, billing) take their words from
the enums themselves.
"""

from __future__ import annotations

from datetime import date

from gandrange_desk import formats
from gandrange_desk.models import Billing, InvoiceStatus, RequestStatus

ACTION_LABELS = {
    # The family file.
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
    "family.acknowledgement": "Accusé de la notice enregistré",
    "child.create": "Enfant ajouté",
    "child.update": "Enfant modifié",
    "child.archive": "Enfant archivé (a quitté la structure)",
    "mandate.create": "Mandat SEPA créé",
    "mandate.update": "Mandat SEPA modifié",
    "mandate.revoke": "Mandat SEPA révoqué",
    "portal.credentials": "Identifiants du portail envoyés",
    "portal.upload": "Document envoyé par la famille (Mes envois)",
    "portal.attestation": "Attestation téléchargée par la famille",
    "portal.email_request": "Changement d'adresse e-mail demandé par la famille",
    "portal.email": "Adresse e-mail changée par la famille",
    "portal.child_health": "Santé de l'enfant renseignée par la famille",
    "portal.complete": "Inscription complétée par la famille",
    "document.add": "Document enregistré",
    "document.state": "Document traité",
    # Requests and the portal feed.
    "family_change.decide": "Modification de famille traitée",
    "registration.accept": "Inscription acceptée",
    "registration.refuse": "Inscription refusée",
    "decide": "Demande traitée",
    "cancel_direct": "Annulation directe par le bureau",
    "capacity_override": "Dépassement de capacité accepté",
    "feed.import": "Flux du portail importé",
    "email_doubtful": "Adresse e-mail douteuse",
    "outbox_resend": "Courriel renvoyé",
    "outbox_cancel": "Courriel annulé",
    "login.failed": "Connexion refusée",
    "login.locked": "Compte verrouillé",
    "settings.medical_roles": "Lecteurs des notes médicales",
    "notice.send": "Message aux familles",
    # Billing.
    "invoice.prepare": "Factures préparées",
    "invoice.issue": "Facture émise",
    "invoice.send": "Facture envoyée",
    "invoice.remind": "Relance de facture",
    "credit_note.issue": "Avoir émis",
    "credit_note.send": "Avoir envoyé",
    "payment.record": "Règlement enregistré",
    "payment.allocate": "Règlement affecté",
    "payment.release": "Affectation de règlement annulée",
    "sepa.export": "Fichier de prélèvements SEPA",
    "attestation.fiscal": "Attestation fiscale",
    "attestation.period": "Attestation de présence",
    "tariff.add": "Tarif ajouté",
    "tariff.update": "Tarif modifié",
    "tariff.delete": "Tarif supprimé",
    # Settings, users, demo.
    "settings.edit": "Paramètres modifiés",
    "settings.import": "Paramètres importés",
    "settings.tariff.create": "Tarif créé (paramètres)",
    "settings.tariff.update": "Tarif modifié (paramètres)",
    "settings.retention": "Durée de conservation modifiée",
    "settings.structure.create": "Structure enregistrée (paramètres)",
    "settings.structure.update": "Structure modifiée (paramètres)",
    "settings.school.create": "École ajoutée (paramètres)",
    "settings.school.delete": "École retirée (paramètres)",
    "settings.closures.update": "Fermetures modifiées (paramètres)",
    "settings.activity.create": "Activité créée (paramètres)",
    "settings.activity.update": "Activité modifiée (paramètres)",
    "settings.activity.delete": "Activité retirée (paramètres)",
    "settings.unit.create": "Unité créée (paramètres)",
    "settings.unit.update": "Unité modifiée (paramètres)",
    "settings.unit.delete": "Unité retirée (paramètres)",
    "settings.smtp.create": "Serveur d'envoi enregistré (paramètres)",
    "settings.smtp.update": "Serveur d'envoi modifié (paramètres)",
    "settings.smtp.delete": "Serveur d'envoi retiré (paramètres)",
    "user.password.change": "Mot de passe changé",
    "user.password.reset": "Mot de passe réinitialisé",
    "smtp_settings": "Serveur d'envoi modifié",
    "user.create": "Utilisateur créé",
    "user.update": "Utilisateur modifié",
    "demo.create": "Données de démonstration créées",
    "demo.payments": "Règlements de démonstration",
    # Appointments and published documents.
    "appointment.slots": "Créneaux de rendez-vous créés",
    "appointment.book": "Rendez-vous pris",
    "appointment.move": "Rendez-vous déplacé",
    "appointment.cancel": "Rendez-vous annulé",
    "appointment.withdraw": "Créneau retiré",
    "appointment.mark": "Rendez-vous pointé",
    "appointment.notes": "Notes de rendez-vous",
    "appointment.attach": "Rendez-vous rattaché à une famille",
    "document.publish": "Document publié",
    "document.unpublish": "Document retiré",
}

ENTITY_LABELS = {
    "family": "Famille", "child": "Enfant", "guardian": "Responsable", "request": "Demande",
    "invoice": "Facture", "invoice_month": "Mois de facturation", "credit_note": "Avoir",
    "payment": "Règlement", "payment_allocation": "Affectation", "mandate": "Mandat SEPA",
    "sepa_export": "Export SEPA", "document": "Document", "tariff": "Tarif", "settings": "Paramètres",
    "desk_user": "Utilisateur", "appointment": "Rendez-vous", "feed_entry": "Flux du portail",
    "quotient_record": "Quotient familial", "outbox_message": "Courriel", "smtp_settings": "Serveur d'envoi",
}

FIELD_LABELS = {
    # The family file.
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
    # Requests, billing, settings, users, anonymisation.
    "status": "statut", "billing": "facturation", "billing_override_reason": "motif de facturation",
    "capacity_override": "dépassement de capacité", "price_cents": "prix",
    "total_cents": "total", "amount_cents": "montant", "number": "numéro",
    "month": "mois", "mode": "mode", "role": "rôle", "login": "identifiant", "full_name": "nom complet",
    "active": "actif", "host": "serveur", "port": "port", "sender": "expéditeur", "day": "jour",
    "late": "hors délai", "count": "nombre", "retention_years": "durée de conservation (ans)",
    "anonymised": "anonymisée", "children": "enfants", "guardians": "responsables",
    "documents": "documents", "messages": "courriels", "requests": "demandes",
    "audit_entries": "entrées du journal", "created": "créé", "updated": "modifié", "deleted": "supprimé",
    "activity": "activité", "at_issue": "à l'émission", "billed_cents": "facturé", "channel": "envoi",
    "code": "code", "email_doubtful": "e-mail douteux", "emailed_to": "envoyé à", "families": "familles",
    "filename": "fichier", "from": "du", "to": "au", "invoice": "facture", "invoices": "factures",
    "kind": "type", "paid_cents": "payé", "partial": "payées en partie", "payments": "règlements",
    "proposed": "proposée", "recipients": "destinataires", "reference": "référence",
    "remaining_cents": "reste dû", "title": "titre", "unit": "unité", "unpaid": "impayées", "what": "objet",
    "year": "année", "credited_cents": "avoirs", "reason_code": "motif", "level": "niveau",
}

# Internal ids say nothing to a clerk: the trail shows what they point to elsewhere.
HIDDEN_KEYS = {"id", "ref", "invoice_id", "payment_id", "request_id", "family_id", "child_id", "unit_id"}

# Stored codes written in an entry's values, in the words of a sentence ("statut : acceptée").
VALUE_LABELS = {m.value: m.phrase for enum in (RequestStatus, Billing, InvoiceStatus) for m in enum}
VALUE_LABELS.update({"email": "par e-mail", "courrier": "par courrier", "email + courrier": "par e-mail et par courrier"})

HEALTH_KEYS = {"health_notes", "allergies", "pai", "doctor"}
MEDICAL_KEYS = {"health_notes", "doctor"}


def action_label(action: str) -> str:
    return ACTION_LABELS.get(action, action)


def short_value(value) -> str:
    """A value as one short cell: ISO dates as dd/mm/yyyy, booleans as oui/non, "—" for nothing."""
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


def value_text(key: str, value) -> str:
    """A field's value in words: amounts in euros, a billed month by its name, lists spelled out."""
    if key.endswith("_cents") and isinstance(value, int) and not isinstance(value, bool):
        return formats.euros(value)
    if key == "month" and isinstance(value, str) and len(value) == 10 and value[4] == "-":
        try:
            return formats.month_year(date.fromisoformat(value))
        except ValueError:
            pass
    if isinstance(value, list) and value and all(isinstance(v, str) for v in value):
        return short_value(", ".join(value))
    if isinstance(value, str) and value in VALUE_LABELS:
        return VALUE_LABELS[value]
    return short_value(value)


def person_name(item: dict) -> str:
    return f"{item.get('first_name', '')} {item.get('last_name', '')}".strip() or "?"


def change_lines(before: dict | list | None, after: dict | list | None, health: bool,
                 medical: bool | None = None) -> list[str]:
    """One French line per changed field ("téléphone : — → 03 87 12 34 56"); health values are
    hidden from a role that may not see them, medical notes from one the settings do not name."""
    medical = health if medical is None else medical and health
    if isinstance(before, dict) or isinstance(after, dict):
        b = before if isinstance(before, dict) else {}
        a = after if isinstance(after, dict) else {}
        out = []
        for key in list(dict.fromkeys([*b, *a])):
            if key in HIDDEN_KEYS or b.get(key) == a.get(key) and key in b:
                continue
            label = FIELD_LABELS.get(key, key)
            if key in HEALTH_KEYS and not health or key in MEDICAL_KEYS and not medical:
                out.append(f"{label} : modifié (donnée de santé)")
                continue
            if key in b:
                out.append(f"{label} : {value_text(key, b.get(key))} → {value_text(key, a.get(key))}")
            else:
                out.append(f"{label} : {value_text(key, a.get(key))}")
        return out
    if isinstance(before, list) or isinstance(after, list):
        return _list_lines(before or [], after or [], health, medical)
    return []


def _list_lines(before: list, after: list, health: bool, medical: bool) -> list[str]:
    """Guardians saved as a list: say who was added, removed, or what changed for whom."""
    old = {item.get("id"): item for item in before if isinstance(item, dict)}
    out = []
    seen = set()
    for item in after:
        if not isinstance(item, dict):
            continue
        previous = old.get(item.get("id"))
        if previous is None:
            out.append(f"ajouté : {person_name(item)}")
            continue
        seen.add(item.get("id"))
        for line in change_lines(previous, item, health, medical):
            out.append(f"{person_name(item)} — {line}")
    for key, item in old.items():
        if key not in seen and not any(isinstance(a, dict) and a.get("id") == key for a in after):
            out.append(f"retiré : {person_name(item)}")
    return out
