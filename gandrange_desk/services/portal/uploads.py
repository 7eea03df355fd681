"""Mes envois: the family sends a document (PDF, JPEG, PNG) for the desk to check.

The type is judged on the content, never on the file name or what the browser claims: the
magic bytes must say PDF, JPEG or PNG and the file must parse as one (pypdf / Pillow), so a
renamed executable or a truncated scan is refused with a French sentence and nothing written.
The file is kept in the database (`Document.content`, outside any served folder) with its state
Reçu, and a "document received" request joins the desk's validation queue: the clerk marks it
checked, or asks for another (the reason is e-mailed, `queue.documents`). The family reads only
its own uploads, and downloads them as attachments.
"""

from __future__ import annotations

import io
import json
import re
import warnings
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from gandrange_desk.errors import NotFound, ValidationFailed
from gandrange_desk.models import Document, DocumentState, Request, RequestKind, RequestSource, RequestStatus
from gandrange_desk.services.context import Desk, stamp

MAX_BYTES = 5 * 1024 * 1024
MAX_MEGABYTES = MAX_BYTES // (1024 * 1024)
TOO_BIG = f"Le fichier est trop volumineux : {MAX_MEGABYTES} Mo au plus."
EMPTY = "Le fichier est vide : choisissez le document à envoyer."
WRONG_TYPE = "Ce fichier n'est pas un document PDF, JPEG ou PNG lisible : envoyez un PDF ou une photo (JPEG, PNG)."
NO_FILE = "Choisissez le fichier à envoyer."
NOT_FOUND = "Document introuvable."
KINDS = (
    "Attestation de quotient familial (CAF)",
    "Justificatif de domicile",
    "Attestation d'assurance",
    "Certificat médical",
    "Carnet de vaccination",
    "Projet d'accueil individualisé (PAI)",
    "Dossier périscolaire signé",
    "Autre document",
)
_EXTENSIONS = {"application/pdf": ".pdf", "image/jpeg": ".jpg", "image/png": ".png"}


def content_type(content: bytes) -> str:
    """The MIME type the content proves it is, or ValidationFailed (French)."""
    if not content:
        raise ValidationFailed([EMPTY])
    if len(content) > MAX_BYTES:
        raise ValidationFailed([TOO_BIG])
    if content.startswith(b"%PDF-"):
        mime = "application/pdf"
    elif content.startswith(b"\xff\xd8\xff"):
        mime = "image/jpeg"
    elif content.startswith(b"\x89PNG\r\n\x1a\n"):
        mime = "image/png"
    else:
        raise ValidationFailed([WRONG_TYPE])
    if not _parses(content, mime):
        raise ValidationFailed([WRONG_TYPE])
    return mime


def _parses(content: bytes, mime: str) -> bool:
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if mime == "application/pdf":
                from pypdf import PdfReader

                reader = PdfReader(io.BytesIO(content), strict=False)
                return len(reader.pages) > 0
            from PIL import Image

            with Image.open(io.BytesIO(content)) as img:
                if img.format != {"image/jpeg": "JPEG", "image/png": "PNG"}[mime]:
                    return False
                img.verify()  # walks the image's structure without decoding it all
            return True
    except Exception:  # noqa: BLE001 - any failure to parse means "not a readable document"
        return False


def safe_filename(name: str, mime: str) -> str:
    """The name kept and offered back: the base name only, tame characters, the proven extension."""
    base = re.split(r"[\\/]", name or "")[-1]
    stem = base.rsplit(".", 1)[0] if "." in base else base
    stem = re.sub(r"[^\w\-. ]+", "_", stem).strip(" ._")[:120] or "document"
    return stem + _EXTENSIONS[mime]


@dataclass(frozen=True)
class Envoi:
    id: int
    kind: str
    filename: str
    received_at: datetime | None
    state: str
    reason: str
    size: int

    @property
    def state_label(self) -> str:
        if self.state == DocumentState.RECEIVED:
            return "En attente de vérification"
        if self.state == DocumentState.REDO:
            return "À renvoyer"
        return DocumentState.label_of(self.state)

    @property
    def size_text(self) -> str:
        return f"{max(1, round(self.size / 1024))} Ko" if self.size < 1024 * 1024 else \
            f"{self.size / (1024 * 1024):.1f} Mo".replace(".", ",")


def upload(desk: Desk, family_id: int, kind: str, filename: str, content: bytes) -> int:
    """The new document's id; ValidationFailed with French sentences, nothing written."""
    kind = " ".join((kind or "").split())
    problems = []
    if kind not in KINDS:
        problems.append("Type de document : choisissez dans la liste.")
    try:
        mime = content_type(content)
    except ValidationFailed as exc:
        problems += exc.problems
        mime = ""
    if problems:
        raise ValidationFailed(problems)
    name = safe_filename(filename, mime)
    with desk.unit_of_work() as s:
        d = Document(family_id=family_id, kind=kind, title=kind, filename=name, mime_type=mime, content=content,
                     received_at=desk.now(), state=DocumentState.RECEIVED)
        stamp(d, desk)
        s.add(d)
        s.flush()
        r = Request(kind=RequestKind.DOCUMENT, source=RequestSource.PORTAL, ref="portail:envoi",
                    family_id=family_id, submitted_at=desk.now(), status=RequestStatus.PENDING,
                    payload=json.dumps({"document_id": d.id, "kind": kind, "filename": name}, ensure_ascii=False))
        s.add(r)
        s.flush()
        desk.audit(s, "portal.upload", "document", d.id, family_id=family_id,
                   after={"kind": kind, "filename": name, "type": mime, "size": len(content), "request": r.id})
        return d.id


def envois(desk: Desk, family_id: int) -> list[Envoi]:
    """The family's own documents (sent from the portal or handed in at the desk), newest first."""
    with desk.read() as s:
        return [Envoi(r.id, r.kind, r.filename, r.received_at, r.state, r.reason, int(r.size or 0))
                for r in s.execute(select(Document.id, Document.kind, Document.filename, Document.received_at,
                                          Document.state, Document.reason,
                                          func.length(Document.content).label("size"))
                                   .where(Document.family_id == family_id)
                                   .order_by(Document.received_at.desc(), Document.id.desc())).all()]


def envoi_file(desk: Desk, family_id: int, document_id: int) -> tuple[str, str, bytes]:
    """(name, type, content) of one of the family's own documents; another's is "introuvable"."""
    with desk.read() as s:
        d = s.get(Document, document_id)
        if d is None or d.family_id is None or d.family_id != family_id:
            raise NotFound(NOT_FOUND)
        return d.filename, d.mime_type, d.content or b""


__all__ = ["EMPTY", "Envoi", "KINDS", "MAX_BYTES", "NOT_FOUND", "NO_FILE", "TOO_BIG", "WRONG_TYPE",
           "content_type", "envoi_file", "envois", "safe_filename", "upload"]
