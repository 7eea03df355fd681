"""Portal credentials, documents, and the RGPD export of a family."""

from __future__ import annotations

import io
import json
from datetime import date

import pytest
from argon2 import PasswordHasher
from pypdf import PdfReader
from sqlalchemy import select

from gandrange_desk.errors import PermissionDenied, StaleEdit
from gandrange_desk.models import Document, Family, Invoice, InvoiceStatus, OutboxMessage, OutboxSecret, Structure
from gandrange_desk.services.families import file as fam
from gandrange_desk.services.families import export as family_export
from gandrange_desk.services.families import portal as family_portal
from gandrange_desk.services.context import Actor
from gandrange_desk.services.families.validation import FieldProblems
from tests.builders import make_family


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def outbox(desk) -> list[OutboxMessage]:
    with desk.read() as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


@pytest.fixture
def structure(desk):
    with desk.unit_of_work() as s:
        s.add(Structure(name="Service Enfance-Jeunesse — Commune de Gandrange", phone="03 87 67 17 79",
                        portal_url="https://enfance-jeunesse-gandrange.leportailfamille.fr",
                        address="Place de la Mairie\n57175 Gandrange"))


def test_send_credentials_by_email_keeps_only_the_hash(desk, structure):
    f = make_family(desk, "Weber", portal_state="to_create")
    snap = fam.get_family(desk, f.id)
    assert snap.portal_state_label == "À créer"
    result = family_portal.send_credentials(desk, f.id, snap.version)
    assert result.letter_pdf is None and result.emailed_to == [snap.guardians[0].email]
    assert result.family.portal_state == "sent" and result.family.portal_login
    [mail] = outbox(desk)
    assert mail.subject == "Vos identifiants du Portail Famille" and mail.kind == "credentials"
    assert f"Identifiant : {result.login}" in mail.body_text
    assert "https://enfance-jeunesse-gandrange.leportailfamille.fr" in mail.body_text
    # The stored body names the password by placeholder only; it waits apart until delivered.
    assert "Mot de passe provisoire : {{secret:password}}" in mail.body_text
    with desk.read() as s:
        password = s.execute(select(OutboxSecret.value).where(OutboxSecret.message_id == mail.id)).scalar_one()
        stored = s.get(Family, f.id).portal_password_hash
    assert password not in stored and PasswordHasher().verify(stored, password)
    audit = [a for a in fam.audit_entries(desk, f.id) if a.action == "portal.credentials"][0]
    assert password not in audit.after and password not in audit.before
    with pytest.raises(StaleEdit):  # the file loaded before sending is now stale
        family_portal.send_credentials(desk, f.id, snap.version)


def test_send_credentials_without_email_prints_a_letter(desk, structure):
    f = make_family(desk, "Sanmail", guardians=[{"first_name": "Paul", "last_name": "Sanmail", "email": ""}],
                    portal_state="to_create")
    result = family_portal.send_credentials(desk, f.id, fam.get_family(desk, f.id).version)
    assert outbox(desk) == [] and result.emailed_to == []
    text = pdf_text(result.letter_pdf)
    assert "Vos identifiants du Portail Famille" in text and f"Identifiant : {result.login}" in text
    assert "Famille Sanmail" in text and "Mot de passe provisoire" in text
    assert "lettre" in result.summary


def test_document_to_redo_emails_the_reason(desk, structure):
    f = make_family(desk, "Doc")
    with desk.unit_of_work() as s:
        d = Document(family_id=f.id, kind="Attestation CAF", filename="caf.pdf", content=b"%PDF-1.4",
                     received_at=desk.now())
        s.add(d)
        s.flush()
        doc_id = d.id
    snap = fam.get_family(desk, f.id)
    doc = snap.documents[0]
    assert doc.state_label == "Reçu"
    with pytest.raises(FieldProblems) as err:
        family_portal.set_document_state(desk, doc.id, doc.version, "redo", "  ")
    assert "Motif" in err.value.fields["document.reason"]
    assert outbox(desk) == []
    new = family_portal.set_document_state(desk, doc_id, doc.version, "redo", "Attestation de 2024, il faut celle de 2026")
    assert new.state_label == "À refaire"
    [mail] = outbox(desk)
    assert mail.subject == "Document à refaire : Attestation CAF"
    assert "Motif : Attestation de 2024, il faut celle de 2026" in mail.body_text and "Mes envois" in mail.body_text
    checked = family_portal.set_document_state(desk, doc_id, new.version, "checked")
    assert checked.state_label == "Vérifié" and checked.reason == ""
    with pytest.raises(StaleEdit):
        family_portal.set_document_state(desk, doc_id, new.version, "received")


def test_published_documents_in_one_place(desk):
    doc = family_portal.publish_document(desk, "Règlement", "Règlement intérieur 2026-2027", "reglement.pdf", b"%PDF")
    family_portal.publish_document(desk, "Menus", "Menus de décembre", "menus.pdf", b"%PDF-menus")
    assert [d.title for d in family_portal.list_published(desk)] == ["Menus de décembre", "Règlement intérieur 2026-2027"]
    assert family_portal.document_content(desk, doc.id)[2] == b"%PDF"
    with pytest.raises(FieldProblems):
        family_portal.publish_document(desk, "Menus", "", "vide.pdf", b"")
    family_portal.unpublish_document(desk, doc.id, doc.version)
    assert [d.title for d in family_portal.list_published(desk)] == ["Menus de décembre"]


def test_rgpd_export_json_and_pdf(desk, structure):
    f = make_family(desk, "Müller", children=[{"first_name": "Zoé", "allergies": "Arachide", "pai": True,
                                               "pickup": [{"name": "Paul Weber", "relation": "Voisin"}]}],
                    payment_mode="prelevement")
    with desk.unit_of_work() as s:
        s.add(Invoice(family_id=f.id, month=date(2026, 9, 1), number="2026-000012",
                      status=InvoiceStatus.ISSUED, total_cents=7055))
    raw_json, pdf, base = family_export.export_family(desk, f.id)
    data = json.loads(raw_json)
    assert data["famille"]["nom"] == "Müller" and data["famille"]["solde_centimes"] == 7055
    assert data["enfants"][0]["allergies"] == "Arachide"
    assert data["enfants"][0]["personnes_autorisees"][0]["nom"] == "Paul Weber"
    assert data["mandats_sepa"][0]["iban"] == "FR7630006000011234567890189"
    assert data["factures"][0]["numero"] == "2026-000012"
    assert base.startswith(f"donnees-famille-{f.ref}-")
    text = pdf_text(pdf)
    for expected in ("Données personnelles", "Müller", "Zoé", "Allergies : Arachide", "Paul Weber",
                     "2026-000012", "70,55", "RUM-"):
        assert expected in text, expected
    assert any(a.action == "family.export" for a in fam.audit_entries(desk, f.id))
    with pytest.raises(PermissionDenied):
        family_export.export_data(desk.as_actor(Actor("x", "X", "lecture")), f.id)
