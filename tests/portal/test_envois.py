"""Mes envois: a document checked by content, kept out of any served folder, a "document received"
request in the desk's queue (checked, or another asked for by e-mail); attestations to download."""

from __future__ import annotations

import io
from datetime import date

from PIL import Image
from pypdf import PdfReader
from sqlalchemy import func, select

from gandrange_desk.models import AuditEntry, Document, OutboxMessage, Request, RequestKind, RequestStatus
from gandrange_desk.services import queue
from gandrange_desk.services.billing import payments
from gandrange_desk.services.families.portal import set_document_state
from gandrange_desk.services.portal import uploads
from gandrange_desk.services.queue.listing import QueueFilter, pending_items
from tests import payments_builders as b
from tests.builders import make_family, unit_id

from .conftest import csrf_of, signed_in

CAF = "Attestation de quotient familial (CAF)"


def a_pdf(text: str = "Attestation CAF de la famille Martin") -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.cell(0, 10, text)
    return bytes(pdf.output())


def an_image(fmt: str) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, fmt)
    return out.getvalue()


def send(client, content: bytes, name: str = "caf.pdf", mime: str = "application/pdf", kind: str = CAF):
    token = csrf_of(client.get("/envois").text)
    return client.post("/envois", data={"csrf": token, "type": kind}, files={"fichier": (name, content, mime)},
                       follow_redirects=False)


def documents(desk, family_id):
    with desk.read() as s:
        return s.execute(select(Document.filename, Document.mime_type, Document.state)
                         .where(Document.family_id == family_id).order_by(Document.id)).all()


def test_an_upload_reaches_the_desk_queue_and_the_family_sees_its_state(desk, portal_base, martin):
    fid = portal_base["martin"]
    content = a_pdf()
    r = send(martin, content, name="../../Mon attestation.PDF")
    assert r.status_code == 303 and r.headers["location"] == "/envois"
    page = martin.get("/envois").text
    assert "Votre document est envoyé à la structure : il est en attente de vérification." in page
    assert "En attente de vérification" in page and "Mon attestation.pdf" in page
    assert documents(desk, fid) == [("Mon attestation.pdf", "application/pdf", "received")]
    [item] = pending_items(desk, QueueFilter(kinds={RequestKind.DOCUMENT}))
    assert (item.family_id, item.source, item.payload["filename"]) == (fid, "portal", "Mon attestation.pdf")
    with desk.read() as s:
        audit = s.execute(select(AuditEntry.user_login).where(AuditEntry.action == "portal.upload")).scalar_one()
    assert audit.startswith("portail:")
    # Its own upload comes back as an attachment, byte for byte.
    with desk.read() as s:
        doc_id = s.execute(select(Document.id).where(Document.family_id == fid)).scalar_one()
    got = martin.get(f"/envois/{doc_id}")
    assert got.status_code == 200 and got.content == content
    assert got.headers["content-disposition"].startswith("attachment;")
    # The desk asks for another: the family is told why by e-mail and on the page.
    queue.refuse(desk, [item.id], "Attestation de plus de trois mois.")
    page = martin.get("/envois").text
    assert "À renvoyer" in page and "Motif : Attestation de plus de trois mois." in page
    with desk.read() as s:
        mail = s.execute(select(OutboxMessage).where(OutboxMessage.family_id == fid,
                                                     OutboxMessage.kind == "document_redo")).scalar_one()
    assert mail.subject == f"Document à refaire : {CAF}"
    assert "Motif : Attestation de plus de trois mois." in mail.body_text and "« Mes envois »" in mail.body_text
    # The new one is checked.
    assert send(martin, an_image("PNG"), name="scan.png", mime="image/png").status_code == 303
    [item] = pending_items(desk, QueueFilter(kinds={RequestKind.DOCUMENT}))
    queue.accept(desk, [item.id])
    assert [d[2] for d in documents(desk, fid)] == ["redo", "checked"]
    assert "Vérifié" in martin.get("/envois").text


def test_checking_from_the_family_file_settles_the_queue_request(desk, portal_base, martin):
    fid = portal_base["martin"]
    send(martin, an_image("JPEG"), name="photo.jpeg", mime="image/jpeg")
    with desk.read() as s:
        d = s.execute(select(Document).where(Document.family_id == fid)).scalar_one()
        doc_id, version = d.id, d.version
    set_document_state(desk, doc_id, version, "checked")
    assert pending_items(desk, QueueFilter(kinds={RequestKind.DOCUMENT})) == []
    with desk.read() as s:
        assert s.execute(select(Request.status).where(Request.kind == RequestKind.DOCUMENT)).scalar_one() \
            == RequestStatus.ACCEPTED


def test_bad_files_are_refused_in_french_and_nothing_is_written(desk, portal_base, martin):
    fid = portal_base["martin"]
    cases = [
        (b"", "caf.pdf", "application/pdf", uploads.EMPTY, 400),
        (b"MZ\x90\x00 a program renamed", "caf.pdf", "application/pdf", uploads.WRONG_TYPE, 400),
        (b"%PDF-1.4\nnot really a pdf at all", "caf.pdf", "application/pdf", uploads.WRONG_TYPE, 400),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 40, "scan.png", "image/png", uploads.WRONG_TYPE, 400),
        (b"%PDF-1.4\n" + b"0" * uploads.MAX_BYTES, "gros.pdf", "application/pdf", uploads.TOO_BIG, 413),
    ]
    for content, name, mime, message, status in cases:
        r = send(martin, content, name, mime)
        assert r.status_code == status, name
        assert message.replace("'", "&#39;") in r.text
    # Far too big: refused on the declared length, before the body is read.
    r = send(martin, b"%PDF-" + b"0" * (uploads.MAX_BYTES + 200_000))
    assert r.status_code == 413 and uploads.TOO_BIG in r.text
    # No type chosen.
    r = send(martin, a_pdf(), kind="")
    assert r.status_code == 400 and "Type de document : choisissez dans la liste." in r.text
    with desk.read() as s:
        assert s.execute(select(func.count()).select_from(Document).where(Document.family_id == fid)).scalar() == 0
        assert s.execute(select(func.count()).select_from(Request)
                         .where(Request.kind == RequestKind.DOCUMENT)).scalar() == 0


def test_an_upload_needs_the_csrf_token(desk, portal_base, martin):
    r = martin.post("/envois", data={"type": CAF}, files={"fichier": ("caf.pdf", a_pdf(), "application/pdf")})
    assert r.status_code == 403
    assert documents(desk, portal_base["martin"]) == []


def test_another_familys_document_is_not_found(desk, portal_base, martin, durand):
    send(martin, a_pdf())
    with desk.read() as s:
        doc_id = s.execute(select(Document.id).where(Document.family_id == portal_base["martin"])).scalar_one()
    assert durand.get(f"/envois/{doc_id}").status_code == 404
    assert "Mon attestation" not in durand.get("/envois").text
    assert durand.get("/envois/999999").status_code == 404


# --- attestations ----------------------------------------------------------------------------


def _text(pdf: bytes) -> str:
    return b.plain("\n".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf)).pages))


def test_the_family_downloads_its_fiscal_and_period_attestations(desk, portal_base, durand):
    # Zoé is 3 on 1 January 2025: her evening care paid in 2025 goes on the 2025 attestation.
    fam = make_family(desk, "Petit", portal_state="to_create",
                      children=[{"first_name": "Zoé", "birth_date": date(2021, 6, 2)}])
    soir = unit_id(desk, "PERISCOLAIRE", "Accueil soir")
    zoe = b.child_ids(desk, fam.id)[0]
    days = [date(2025, 11, d) for d in (3, 4, 6, 7)]
    b.invoice(desk, fam.id, date(2025, 11, 1), [(soir, zoe, "Accueil soir", 4, 260, days)])
    payments.record_payment(desk, fam.id, mode="cheque", received_on=date(2025, 12, 10), amount_cents=1040,
                            reference="Chèque 12")
    client = signed_in(desk, fam.id)
    page = client.get("/factures").text
    assert "Attestation fiscale 2025 (PDF)" in page and "10,40" in page
    r = client.get("/attestations/fiscale/2025.pdf")
    assert r.status_code == 200 and r.headers["content-disposition"].startswith("attachment;")
    text = _text(r.content)
    assert "ATTESTATION FISCALE" in text and "Zoé Petit" in text and "10,40 €" in text
    r = client.get("/attestations/periode?debut=2025-11-01&fin=2025-12-31")
    assert r.status_code == 200
    text = _text(r.content)
    assert "Zoé Petit" in text and "Chèque 12" in text
    # Nothing to attest: said in French, no PDF.
    r = client.get("/attestations/periode?debut=2024-01-01&fin=2024-01-31", follow_redirects=True)
    assert "Rien à attester du 01/01/2024 au 31/01/2024" in r.text
    r = client.get("/attestations/periode?debut=2025-12-31&fin=2025-11-01", follow_redirects=True)
    assert "Le dernier jour de la période précède le premier." in r.text
    # Only its own: another family has no 2025 attestation and never sees this one.
    assert durand.get("/attestations/fiscale/2025.pdf").status_code == 404
    assert "Attestation fiscale 2025" not in durand.get("/factures").text
    assert "Zoé" not in durand.get("/attestations/periode?debut=2025-11-01&fin=2025-12-31",
                                    follow_redirects=True).text
    with desk.read() as s:
        assert s.execute(select(func.count()).select_from(AuditEntry)
                         .where(AuditEntry.action == "portal.attestation")).scalar() == 2
