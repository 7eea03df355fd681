"""RGPD access request: everything held about one family, as JSON and as a readable PDF."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date, datetime

from sqlalchemy import select

from gandrange_desk import formats
from gandrange_desk.models import (
    Activity, Appointment, AuditEntry, Billing, Booking, CellState, CreditNote, Document, DocumentState,
    Invoice, Mandate, MandateState, OutboxMessage, OutboxStatus, Payment, PaymentMode, PortalState,
    Request, RequestKind, RequestSource, RequestStatus, Role, School, Structure, Unit,
)
from gandrange_desk.services.context import Desk
from gandrange_desk.services.families.file import load_family
from gandrange_desk.services.families.search import balances
from gandrange_desk.services.system.audit_words import action_label


def _iso(value):
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def export_data(desk: Desk, family_id: int) -> dict:
    """A plain dict (JSON-ready): the family, its people, health, money, bookings, mails, history."""
    # Health data and full bank details are inside: the same roles that see them on screen.
    desk.require(Role.AGENT, "Exporter les données d'une famille")
    with desk.read() as s:
        f = load_family(s, family_id)
        schools = dict(s.execute(select(School.id, School.name)).all())
        units = {u.id: (a.name, u.name) for u, a in s.execute(select(Unit, Activity).join(Activity)).all()}
        child_ids = [c.id for c in f.children]
        child_names = {c.id: c.full_name for c in f.children}
        bookings = s.execute(select(Booking).where(Booking.child_id.in_(child_ids))
                             .order_by(Booking.day, Booking.child_id, Booking.unit_id)).scalars().all() if child_ids else []
        requests = s.execute(select(Request).where(Request.family_id == f.id)
                             .order_by(Request.submitted_at, Request.id)).scalars().all()
        invoices = s.execute(select(Invoice).where(Invoice.family_id == f.id).order_by(Invoice.month)).scalars().all()
        credit_notes = s.execute(select(CreditNote).join(Invoice, CreditNote.invoice_id == Invoice.id)
                                 .where(Invoice.family_id == f.id).order_by(CreditNote.issued_at)).scalars().all()
        payments = s.execute(select(Payment).where(Payment.family_id == f.id).order_by(Payment.received_on)).scalars().all()
        mandates = s.execute(select(Mandate).where(Mandate.family_id == f.id).order_by(Mandate.signed_on)).scalars().all()
        documents = s.execute(select(Document.kind, Document.title, Document.filename, Document.received_at,
                                     Document.state, Document.reason)
                              .where(Document.family_id == f.id).order_by(Document.received_at)).all()
        mails = s.execute(select(OutboxMessage).where(OutboxMessage.family_id == f.id)
                          .order_by(OutboxMessage.created_at)).scalars().all()
        appointments = s.execute(select(Appointment).where(Appointment.family_id == f.id)
                                 .order_by(Appointment.starts_at)).scalars().all()
        audit = s.execute(select(AuditEntry).where(AuditEntry.family_id == f.id)
                          .order_by(AuditEntry.at, AuditEntry.id)).scalars().all()
        structure = s.execute(select(Structure)).scalars().first()
        balance = balances(s, [f.id]).get(f.id, 0)

        def unit_label(uid):
            activity, unit = units.get(uid, ("", ""))
            return f"{activity} — {unit}" if activity else unit

        data = {
            "export": {
                "objet": "Données personnelles détenues sur la famille (droit d'accès, RGPD art. 15)",
                "responsable_du_traitement": structure.name if structure else "",
                "date": desk.now().isoformat(), "par": desk.actor.login,
            },
            "famille": {
                "reference": f.ref, "nom": f.name, "adresse": f.street, "code_postal": f.postcode,
                "commune": f.city, "telephone": f.phone, "notes": f.notes,
                "mode_de_paiement": PaymentMode.label_of(f.payment_mode),
                "identifiant_portail": f.portal_login or "",
                "compte_portail": PortalState.label_of(f.portal_state),
                "accuse_de_reception_rendu": f.acknowledgement_returned, "archivee": f.archived,
                "creee_le": _iso(f.created_at), "modifiee_le": _iso(f.updated_at),
                "solde_centimes": balance,
            },
            "responsables": [
                {"prenom": g.first_name, "nom": g.last_name, "lien": g.relation, "email": g.email,
                 "telephone": g.phone, "recoit_les_courriels": g.receives_email,
                 "titulaire_du_compte_portail": g.holds_portal_account} for g in f.guardians],
            "enfants": [
                {"reference": c.ref, "prenom": c.first_name, "nom": c.last_name,
                 "date_de_naissance": _iso(c.birth_date), "ecole": schools.get(c.school_id, ""),
                 "classe": c.class_name, "parti": c.archived, "notes_de_sante": c.health_notes,
                 "allergies": c.allergies, "pai": c.pai, "medecin": c.doctor,
                 "personnes_autorisees": [{"nom": p.name, "lien": p.relation, "telephone": p.phone}
                                          for p in c.pickup_persons if not p.forbidden],
                 "personnes_interdites": [{"nom": p.name, "lien": p.relation, "telephone": p.phone}
                                          for p in c.pickup_persons if p.forbidden]}
                for c in f.children],
            "quotients": [{"valeur": q.value, "depuis": _iso(q.valid_from), "source": q.source,
                           "enregistre_le": _iso(q.recorded_at)} for q in f.quotients],
            "mandats_sepa": [{"rum": m.rum, "iban": m.iban, "bic": m.bic, "titulaire": m.holder,
                              "signe_le": _iso(m.signed_on), "etat": MandateState.label_of(m.state),
                              "sequence": m.sequence_type} for m in mandates],
            "documents": [{"type": d.kind, "titre": d.title, "fichier": d.filename,
                           "recu_le": _iso(d.received_at),
                           "etat": DocumentState.label_of(d.state), "motif": d.reason}
                          for d in documents],
            "reservations": [{"enfant": child_names.get(b.child_id, ""), "prestation": unit_label(b.unit_id),
                              "jour": _iso(b.day), "etat": CellState.label_of(b.state),
                              "hors_delai": b.late} for b in bookings],
            "demandes": [{"reference": r.ref, "type": RequestKind.label_of(r.kind),
                          "origine": RequestSource.label_of(r.source),
                          "enfant": child_names.get(r.child_id, ""),
                          "prestation": unit_label(r.unit_id) if r.unit_id else "", "jour": _iso(r.day),
                          "envoyee_le": _iso(r.submitted_at), "etat": RequestStatus.label_of(r.status),
                          "decidee_le": _iso(r.decided_at), "motif": r.reason,
                          "facturation": Billing.phrase_of(r.billing)}
                         for r in requests],
            "factures": [{"numero": i.number, "mois": _iso(i.month), "etat": i.status,
                          "emise_le": _iso(i.issue_date), "echeance": _iso(i.due_date),
                          "total_centimes": i.total_cents} for i in invoices],
            "avoirs": [{"numero": c.number, "emis_le": _iso(c.issued_at), "motif": c.reason,
                        "total_centimes": c.total_cents} for c in credit_notes],
            "reglements": [{"mode": PaymentMode.label_of(p.mode), "recu_le": _iso(p.received_on),
                            "montant_centimes": p.amount_cents, "reference": p.reference} for p in payments],
            "courriels": [{"date": _iso(m.created_at), "destinataires": m.recipients, "objet": m.subject,
                           "etat": OutboxStatus.label_of(m.status), "envoye_le": _iso(m.sent_at),
                           "texte": m.body_text} for m in mails],
            "rendez_vous": [{"debut": _iso(a.starts_at), "duree_minutes": a.minutes, "etat": a.status,
                             "notes": a.notes} for a in appointments],
            "historique": [{"date": _iso(a.at), "par": a.user_login, "action": action_label(a.action),
                            "avant": a.before, "apres": a.after} for a in audit],
        }
        desk_ref = f.ref
    with desk.unit_of_work() as s:
        desk.audit(s, "family.export", "family", family_id, family_id=family_id,
                   after={"ref": desk_ref, "what": "JSON + PDF"})
    return data


def export_json(data: dict) -> bytes:
    return json.dumps(data, ensure_ascii=False, indent=2).encode("utf-8")


def _yes(value) -> str:
    return "oui" if value else "non"


def _d(value: str | None) -> str:
    if not value:
        return ""
    try:
        if "T" in value:
            return formats.instant(datetime.fromisoformat(value))
        return formats.ddmmyyyy(date.fromisoformat(value))
    except ValueError:
        return value


def export_pdf(data: dict, structure=None) -> bytes:
    """The same content as the JSON, laid out for a person to read."""
    from gandrange_desk.services.pdf.base import Column, StructureInfo, money
    from gandrange_desk.services.pdf.document import DeskPDF

    info = StructureInfo.from_structure(structure)
    fam = data["famille"]
    hint = [json.dumps(data, ensure_ascii=False)]
    pdf = DeskPDF(info, title=f"Données de la famille {fam['nom']}", text_hint=hint,
                  footer_note=f"Export RGPD {fam['reference']}")
    pdf.add_page()
    pdf.structure_header("Données personnelles", [("Famille", fam["reference"]),
                                                  ("Export du", _d(data["export"]["date"]))])
    pdf.paragraph("Ce document reprend toutes les données que le service détient sur votre famille "
                  "(droit d'accès, article 15 du RGPD).", size=9)
    pdf.section("Foyer")
    pdf.table_rows([Column("", 55), Column("", 125)], [
        ["Nom", fam["nom"]], ["Adresse", " ".join(x for x in (fam["adresse"], fam["code_postal"], fam["commune"]) if x)],
        ["Téléphone", fam["telephone"]], ["Mode de paiement", fam["mode_de_paiement"]],
        ["Compte portail", f"{fam['compte_portail']} {('(' + fam['identifiant_portail'] + ')') if fam['identifiant_portail'] else ''}"],
        ["Accusé de la notice rendu", _yes(fam["accuse_de_reception_rendu"])],
        ["Solde", money(fam["solde_centimes"])], ["Notes", fam["notes"]],
    ], repeat_header=False)
    pdf.section("Responsables légaux")
    pdf.table([Column("Nom", 45), Column("Lien", 25), Column("E-mail", 60), Column("Téléphone", 30),
               Column("Courriels", 20)],
              [[f"{g['prenom']} {g['nom']}", g["lien"], g["email"], g["telephone"], _yes(g["recoit_les_courriels"])]
               for g in data["responsables"]])
    pdf.section("Enfants")
    for c in data["enfants"]:
        pdf.paragraph(f"{c['prenom']} {c['nom']} ({c['reference']}) — né(e) le {_d(c['date_de_naissance'])}"
                      f"{' — ' + c['ecole'] if c['ecole'] else ''}{' ' + c['classe'] if c['classe'] else ''}"
                      f"{' — a quitté la structure' if c['parti'] else ''}", bold=True, size=9)
        lines = [f"Allergies : {c['allergies'] or 'aucune indiquée'}", f"PAI : {_yes(c['pai'])}",
                 f"Médecin : {c['medecin'] or 'non indiqué'}", f"Notes de santé : {c['notes_de_sante'] or 'aucune'}"]
        for p in c["personnes_autorisees"]:
            lines.append(f"Autorisé(e) à venir le chercher : {p['nom']} ({p['lien']}) {p['telephone']}")
        for p in c["personnes_interdites"]:
            lines.append(f"Interdit(e) : {p['nom']} ({p['lien']})")
        pdf.paragraph("\n".join(lines), size=8.5)
        pdf.ln(1)
    pdf.section("Quotient familial")
    if data["quotients"]:
        pdf.table([Column("Valeur", 30, "R"), Column("Depuis le", 35), Column("Source", 40)],
                  [[str(q["valeur"]), _d(q["depuis"]), q["source"]] for q in data["quotients"]])
    else:
        pdf.paragraph("Aucun quotient : tarif de la tranche la plus haute.")
    if data["mandats_sepa"]:
        pdf.section("Mandats de prélèvement SEPA")
        pdf.table([Column("RUM", 45), Column("IBAN", 70), Column("BIC", 25), Column("Signé le", 22), Column("État", 18)],
                  [[m["rum"], m["iban"], m["bic"], _d(m["signe_le"]), m["etat"]] for m in data["mandats_sepa"]])
    if data["documents"]:
        pdf.section("Documents envoyés")
        pdf.table([Column("Type", 45), Column("Fichier", 60), Column("Reçu le", 35), Column("État", 40)],
                  [[d["type"], d["fichier"], _d(d["recu_le"]), d["etat"] + (f" : {d['motif']}" if d["motif"] else "")]
                   for d in data["documents"]])
    if data["reservations"]:
        pdf.section("Réservations (par mois)")
        per_month: dict[tuple, int] = defaultdict(int)
        for b in data["reservations"]:
            per_month[(b["jour"][:7], b["enfant"], b["prestation"], b["etat"])] += 1
        pdf.table([Column("Mois", 32), Column("Enfant", 40), Column("Prestation", 60), Column("État", 36), Column("Jours", 12, "R")],
                  [[formats.month_year(date.fromisoformat(k[0] + "-01")), k[1], k[2], k[3], str(n)]
                   for k, n in sorted(per_month.items())])
    if data["factures"] or data["reglements"]:
        pdf.section("Factures, avoirs et règlements")
        rows = [[f"Facture {i['numero'] or '(brouillon)'}", formats.month_year(date.fromisoformat(i["mois"])),
                 money(i["total_centimes"])] for i in data["factures"]]
        rows += [[f"Avoir {a['numero']}", _d(a["emis_le"]), money(-a["total_centimes"])] for a in data["avoirs"]]
        rows += [[f"Règlement ({p['mode']})", _d(p["recu_le"]), money(p["montant_centimes"])] for p in data["reglements"]]
        pdf.table([Column("Pièce", 80), Column("Date / mois", 50), Column("Montant", 35, "R")], rows)
    if data["courriels"]:
        pdf.section("Courriels envoyés")
        pdf.table([Column("Date", 35), Column("Objet", 95), Column("État", 50)],
                  [[_d(m["date"]), m["objet"], m["etat"]] for m in data["courriels"]])
    if data["demandes"]:
        pdf.section(f"Demandes ({len(data['demandes'])})")
        pdf.table([Column("Envoyée le", 35), Column("Type", 45), Column("Enfant", 45), Column("Jour", 25), Column("État", 30)],
                  [[_d(r["envoyee_le"]), r["type"], r["enfant"], _d(r["jour"]), r["etat"]] for r in data["demandes"]])
    if data["historique"]:
        pdf.section("Historique des modifications")
        pdf.table([Column("Date", 35), Column("Par", 30), Column("Action", 115)],
                  [[_d(a["date"]), a["par"], a["action"]] for a in data["historique"]])
    return pdf.to_bytes()


def export_family(desk: Desk, family_id: int) -> tuple[bytes, bytes, str]:
    """(JSON bytes, PDF bytes, base file name) for "Exporter les données"."""
    data = export_data(desk, family_id)
    with desk.read() as s:
        structure = s.execute(select(Structure)).scalars().first()
        pdf = export_pdf(data, structure)
    base = f"donnees-famille-{data['famille']['reference']}-{desk.today():%Y%m%d}"
    return export_json(data), pdf, base
