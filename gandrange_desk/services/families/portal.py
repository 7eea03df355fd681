"""Portal account credentials and documents ("Mes envois", and those published to all families)."""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace

from sqlalchemy import func, select

from gandrange_desk import formats
from gandrange_desk.errors import DeskError, NotFound
from gandrange_desk.models import Document, DocumentState, PortalState, Role, Structure
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk, check_version, stamp
from gandrange_desk.services.families.file import WHAT, load_family, saved_snapshot
from gandrange_desk.services.families.data import DocumentData, FamilySnapshot
from gandrange_desk.services.families.validation import FieldProblems
from gandrange_desk.services.mail.outbox import enqueue, family_recipients, secret_placeholder
from gandrange_desk.services.system.users import hash_password

# No 0/O, 1/l/I: the password is read off a letter and typed by hand.
_ALPHABET = "abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def temporary_password(length: int = 10) -> str:
    return "".join(secrets.choice(_ALPHABET) for _ in range(length))


@dataclass(frozen=True)
class CredentialsResult:
    login: str
    emailed_to: list[str]
    letter_pdf: bytes | None  # for a family without e-mail: print it (never stored: it holds the password)
    family: FamilySnapshot
    changes: Changes = field(default_factory=Changes, compare=False, repr=False)

    @property
    def summary(self) -> str:
        if self.emailed_to:
            return (f"Identifiants envoyés par e-mail à {', '.join(self.emailed_to)} "
                    f"(identifiant : {self.login}).")
        return f"Pas d'adresse e-mail : la lettre avec les identifiants est à imprimer (identifiant : {self.login})."


def credentials_text(structure: Structure | None, login: str, password: str) -> str:
    name = structure.name if structure else "la structure"
    url = (structure.portal_url if structure else "") or "l'adresse du Portail Famille"
    phone = structure.phone if structure and structure.phone else ""
    help_line = (f"En cas de difficulté, le bureau périscolaire vous accompagne : {phone}.\n\n"
                 if phone else "")
    return (
        "Bonjour,\n\n"
        f"Votre compte sur le Portail Famille ({name}) est ouvert. Voici vos identifiants :\n\n"
        f"Adresse du portail : {url}\n"
        f"Identifiant : {login}\n"
        f"Mot de passe provisoire : {password}\n\n"
        "Connectez-vous sur le portail, à l'adresse indiquée ci-dessus, puis entrez votre identifiant "
        "et votre mot de passe. Choisissez ensuite votre propre mot de passe dans « Mon compte ».\n\n"
        f"{help_line}"
        f"Cordialement,\n{name}\n"
    )


def _login_for(s, f) -> str:
    holder = next((g for g in f.guardians if g.holds_portal_account and g.email), None)
    candidates = [holder.email.lower()] if holder else []
    candidates.append(f.ref.lower())
    from gandrange_desk.models import Family

    for login in candidates:
        if not s.execute(select(Family.id).where(Family.portal_login == login, Family.id != f.id)).first():
            return login
    return f"{f.ref.lower()}-{secrets.randbelow(1000):03d}"


def send_credentials(desk: Desk, family_id: int, version: int) -> CredentialsResult:
    """"Envoyer les identifiants": a new temporary password, only its argon2 hash kept; e-mailed
    through the outbox, or a letter to print when the family has no e-mail address."""
    desk.require(Role.AGENT, "Envoyer les identifiants du portail")
    password = temporary_password()
    password_hash = hash_password(password)
    with desk.unit_of_work() as s:
        f = load_family(s, family_id, lock=True)
        check_version(f, version, WHAT)
        if f.archived:
            raise DeskError("Cette famille est archivée : restaurez-la avant d'ouvrir son compte portail.")
        structure = s.execute(select(Structure)).scalars().first()
        before = {"portal_login": f.portal_login, "portal_state": f.portal_state}
        login = f.portal_login or _login_for(s, f)
        f.portal_login = login
        f.portal_password_hash = password_hash
        f.portal_state = PortalState.SENT
        holder = next((g for g in f.guardians if g.holds_portal_account and g.email and not g.email_doubtful), None)
        recipients = [holder.email] if holder else [a for a in family_recipients(f)
                                                     if not any(g.email == a and g.email_doubtful for g in f.guardians)]
        letter = None
        if recipients:
            # The body keeps a placeholder; the password waits apart and is erased once delivered.
            enqueue(s, desk, recipients=recipients, subject="Vos identifiants du Portail Famille",
                    body_text=credentials_text(structure, login, secret_placeholder("password")),
                    family_id=f.id, kind="credentials", secrets={"password": password})
        else:
            letter = credentials_letter_pdf(structure, f, login, password, desk.today())
        stamp(f, desk)
        desk.audit(s, "portal.credentials", "family", f.id, family_id=f.id, before=before,
                   after={"portal_login": login, "portal_state": PortalState.SENT,
                          "sent": "e-mail" if recipients else "lettre", "recipients": recipients})
        s.flush()
        saved = saved_snapshot(s, f, desk)
        changes = Changes(families={f.id}, outbox=1 if recipients else 0)
        return CredentialsResult(login, recipients, letter, saved, changes)


def credentials_letter_pdf(structure, family, login: str, password: str, today) -> bytes:
    """The letter handed or posted to a family without e-mail; same words as the e-mail."""
    from gandrange_desk.services.pdf.base import StructureInfo
    from gandrange_desk.services.pdf.document import DeskPDF

    info = StructureInfo.from_structure(structure)
    body = credentials_text(structure, login, password).replace("Bonjour,", "Madame, Monsieur,", 1)
    address = [x for x in (family.street, f"{family.postcode} {family.city}".strip()) if x]
    pdf = DeskPDF(info, title="Identifiants du Portail Famille",
                  text_hint=[body, family.name, *address, login, password])
    pdf.add_page()
    pdf.structure_header("Portail Famille", [("Date", formats.ddmmyyyy(today)), ("Famille", family.ref)])
    pdf.address_block(f"Famille {family.name}", address)
    pdf.ln(6)
    pdf.section("Vos identifiants du Portail Famille", size=12)
    pdf.ln(2)
    pdf.paragraph(body, size=10, height=5.2)
    return pdf.to_bytes()


# ---------------------------------------------------------------- documents


def _document_data(d: Document) -> DocumentData:
    return DocumentData(d.id, d.kind, d.title, d.filename, d.received_at, d.state, d.reason,
                        len(d.content or b""), d.version)


def add_family_document(desk: Desk, family_id: int, kind: str, filename: str, content: bytes,
                        mime_type: str = "application/pdf") -> DocumentData:
    """A document the family handed in at the desk, filed with their "Mes envois"."""
    desk.require(Role.AGENT, "Enregistrer un document")
    problems = {}
    if not kind.strip():
        problems["document.kind"] = "Type de document : ce champ est obligatoire."
    if not filename.strip():
        problems["document.file"] = "Fichier : choisissez le fichier du document."
    if problems:
        raise FieldProblems(problems)
    with desk.unit_of_work() as s:
        load_family(s, family_id)
        d = Document(family_id=family_id, kind=kind.strip(), title=kind.strip(), filename=filename.strip(),
                     mime_type=mime_type, content=content, received_at=desk.now(), state=DocumentState.RECEIVED)
        stamp(d, desk)
        s.add(d)
        s.flush()
        desk.audit(s, "document.add", "document", d.id, family_id=family_id,
                   after={"kind": d.kind, "filename": d.filename})
        return replace(_document_data(d), changes=Changes(families={family_id}))


def set_document_state(desk: Desk, document_id: int, version: int, state: str, reason: str = "") -> DocumentData:
    """Mark a family's document received, checked, or to redo (the reason is e-mailed to them)."""
    desk.require(Role.AGENT, "Traiter un document")
    reason = " ".join(reason.split())
    if state not in DocumentState.labels():
        raise FieldProblems({"document.state": f"État du document : choix inconnu « {state} »."})
    if state == DocumentState.REDO and not reason:
        raise FieldProblems({"document.reason": "Motif : indiquez pourquoi le document est à refaire "
                                                "(il est envoyé à la famille)."})
    with desk.unit_of_work() as s:
        d = s.get(Document, document_id, populate_existing=True)
        if d is None or d.family_id is None:
            raise NotFound("Document introuvable : il a peut-être été supprimé.")
        check_version(d, version, "le document")
        before = {"state": d.state, "reason": d.reason}
        changes = Changes(families={d.family_id})
        d.state = state
        d.reason = reason if state == DocumentState.REDO else ""
        stamp(d, desk)
        if state == DocumentState.REDO:
            f = load_family(s, d.family_id)
            recipients = family_recipients(f)
            structure = s.execute(select(Structure)).scalars().first()
            if recipients:
                enqueue(s, desk, recipients=recipients, family_id=f.id, kind="document_redo",
                        subject=f"Document à refaire : {d.kind or d.filename}",
                        body_text=redo_text(structure, d, reason))
                changes.outbox += 1
        desk.audit(s, "document.state", "document", d.id, family_id=d.family_id, before=before,
                   after={"state": d.state, "reason": d.reason})
        from gandrange_desk.services.queue.documents import settle

        settle(s, desk, d)  # its "document received" request in the queue, decided the same way
        s.flush()
        return replace(_document_data(d), changes=changes)


def redo_text(structure, d: Document, reason: str) -> str:
    name = structure.name if structure else "La structure"
    when = f" le {formats.ddmmyyyy(d.received_at.date())}" if d.received_at else ""
    return (
        "Bonjour,\n\n"
        f"Le document « {d.kind or d.title} » ({d.filename}) que vous nous avez envoyé{when} "
        "ne peut pas être accepté.\n\n"
        f"Motif : {reason}\n\n"
        "Merci de nous envoyer un nouveau document depuis le Portail Famille, rubrique « Mes envois ».\n\n"
        f"Cordialement,\n{name}\n"
    )


def document_content(desk: Desk, document_id: int) -> tuple[str, str, bytes]:
    with desk.read() as s:
        d = s.get(Document, document_id)
        if d is None:
            raise NotFound("Document introuvable : il a peut-être été supprimé.")
        return d.filename, d.mime_type, d.content or b""


def list_published(desk: Desk) -> list[DocumentData]:
    """Documents offered to every family (règlement intérieur, menus, notice)."""
    with desk.read() as s:
        return [DocumentData(r.id, r.kind, r.title, r.filename, r.received_at, r.state, r.reason,
                             int(r.size or 0), r.version)
                for r in s.execute(select(Document.id, Document.kind, Document.title, Document.filename,
                                          Document.received_at, Document.state, Document.reason,
                                          func.length(Document.content).label("size"), Document.version)
                                   .where(Document.family_id.is_(None))
                                   .order_by(Document.kind, Document.title)).all()]


def publish_document(desk: Desk, kind: str, title: str, filename: str, content: bytes,
                     mime_type: str = "application/pdf") -> DocumentData:
    desk.require(Role.AGENT, "Publier un document")
    problems = {}
    if not title.strip():
        problems["published.title"] = "Titre : ce champ est obligatoire."
    if not filename.strip() or not content:
        problems["published.file"] = "Fichier : choisissez un fichier non vide."
    if problems:
        raise FieldProblems(problems)
    with desk.unit_of_work() as s:
        d = Document(family_id=None, kind=kind.strip() or "Document", title=title.strip(),
                     filename=filename.strip(), mime_type=mime_type, content=content,
                     received_at=desk.now(), state=DocumentState.CHECKED)
        stamp(d, desk)
        s.add(d)
        s.flush()
        desk.audit(s, "document.publish", "document", d.id, after={"title": d.title, "filename": d.filename})
        return _document_data(d)


def unpublish_document(desk: Desk, document_id: int, version: int) -> None:
    desk.require(Role.AGENT, "Retirer un document publié")
    with desk.unit_of_work() as s:
        d = s.get(Document, document_id, populate_existing=True)
        if d is None or d.family_id is not None:
            raise NotFound("Document publié introuvable : il a peut-être déjà été retiré.")
        check_version(d, version, "le document publié")
        desk.audit(s, "document.unpublish", "document", d.id, before={"title": d.title, "filename": d.filename})
        s.delete(d)
