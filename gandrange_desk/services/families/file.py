"""The family file: read a snapshot, save its sections, archive or delete.

Every save is one transaction taking the version the clerk loaded; a stale one is refused naming
who saved last and when. Input is checked whole before anything is written (FieldProblems, keyed
by field). Every change is audited with the values before and after.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import func, select
from sqlalchemy.orm import Session, selectinload

from gandrange_desk.errors import DeskError, NotFound, PermissionDenied
from gandrange_desk.models import (
    AuditEntry,
    Child,
    Document,
    Family,
    Guardian,
    Invoice,
    InvoiceStatus,
    Mandate,
    MandateState,
    Payment,
    PaymentMode,
    PickupPerson,
    PortalState,
    QuotientRecord,
    Role,
    School,
)
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.context import Desk, check_version, stamp
from gandrange_desk.services.families.data import (
    NO_QUOTIENT_TEXT,
    ChildData,
    ChildInput,
    DocumentData,
    FamilySnapshot,
    FoyerInput,
    GuardianData,
    GuardianInput,
    MandateData,
    PaymentInput,
    PickupData,
    PortalInput,
    QuotientData,
    QuotientInput,
    MEDICAL_FIELDS,
    can_see_health,
    can_see_medical,
    medical_roles,
)
from gandrange_desk.services.families.search import SearchResult, balances, pending_counts
from gandrange_desk.services.families.search import search as _search
from gandrange_desk.services.families.validation import Checker, FieldProblems, mask_iban
from gandrange_desk.services.search import family_search_text

WHAT = "la fiche famille"
HEALTH_FIELDS = ("health_notes", "allergies", "pai", "doctor")

__all__ = [
    "search", "get_family", "create_family", "save_family", "save_foyer", "save_guardians",
    "save_children", "save_payment", "save_portal", "archive_family",
    "restore_family", "delete_family", "list_schools", "NO_QUOTIENT_TEXT", "FieldProblems",
]


def search(desk: Desk, text: str = "", limit: int = 200, *, include_archived: bool = False) -> SearchResult:
    return _search(desk, text, limit, include_archived=include_archived)


# ---------------------------------------------------------------- reading


def load_family(s: Session, family_id: int, *, lock: bool = False) -> Family:
    stmt = (select(Family).where(Family.id == family_id)
            .options(selectinload(Family.guardians),
                     selectinload(Family.children).selectinload(Child.pickup_persons),
                     selectinload(Family.quotients))
            .execution_options(populate_existing=True))
    if lock:
        # PostgreSQL: a second workstation waits here, then sees the new version and is refused.
        stmt = stmt.with_for_update(of=Family)
    family = s.execute(stmt).scalar_one_or_none()
    if family is None:
        raise NotFound(f"Famille introuvable (n° {family_id}) : elle a peut-être été supprimée.")
    return family


def get_family(desk: Desk, family_id: int) -> FamilySnapshot:
    with desk.read() as s:
        return snapshot(s, load_family(s, family_id), desk)


def snapshot(s: Session, f: Family, desk: Desk) -> FamilySnapshot:
    health = can_see_health(desk.actor)
    medical = can_see_medical(desk.actor, medical_roles(s))
    schools = dict(s.execute(select(School.id, School.name)).all())
    children = tuple(
        ChildData(
            id=c.id, ref=c.ref, first_name=c.first_name, last_name=c.last_name,
            birth_date=c.birth_date, school_id=c.school_id, school_name=schools.get(c.school_id, ""),
            class_name=c.class_name, archived=c.archived, health_visible=health,
            health_notes=c.health_notes if medical else None,
            allergies=c.allergies if health else None,
            pai=c.pai if health else None, doctor=c.doctor if medical else None,
            pickups=tuple(PickupData(p.id, p.name, p.relation, p.phone, p.forbidden)
                          for p in c.pickup_persons),
            medical_visible=medical,
        ) for c in sorted(f.children, key=lambda c: (c.archived, c.birth_date, c.id)))
    mandates = tuple(
        MandateData(m.id, m.rum, mask_iban(m.iban), m.bic, m.holder, m.signed_on, m.state,
                    m.sequence_type, m.version)
        for m in s.execute(select(Mandate).where(Mandate.family_id == f.id)
                           .order_by(Mandate.signed_on.desc(), Mandate.id.desc())).scalars())
    documents = tuple(
        DocumentData(r.id, r.kind, r.title, r.filename, r.received_at, r.state, r.reason,
                     int(r.size or 0), r.version)
        for r in s.execute(select(Document.id, Document.kind, Document.title, Document.filename,
                                  Document.received_at, Document.state, Document.reason,
                                  func.length(Document.content).label("size"), Document.version)
                           .where(Document.family_id == f.id)
                           .order_by(Document.received_at.desc(), Document.id.desc())).all())
    issued = s.execute(select(func.count(Invoice.id)).where(
        Invoice.family_id == f.id, Invoice.status == InvoiceStatus.ISSUED)).scalar_one()
    return FamilySnapshot(
        id=f.id, ref=f.ref, name=f.name, street=f.street, postcode=f.postcode, city=f.city,
        phone=f.phone, notes=f.notes, payment_mode=f.payment_mode, portal_login=f.portal_login or "",
        portal_state=f.portal_state, acknowledgement_returned=f.acknowledgement_returned,
        archived=f.archived, version=f.version, updated_at=f.updated_at, updated_by=f.updated_by,
        created_at=f.created_at,
        guardians=tuple(GuardianData(g.id, g.first_name, g.last_name, g.relation, g.email, g.phone,
                                     g.receives_email, g.holds_portal_account, g.email_doubtful)
                        for g in f.guardians),
        children=children,
        quotients=tuple(QuotientData(q.id, q.value, q.valid_from, q.source, q.recorded_at, q.recorded_by)
                        for q in sorted(f.quotients, key=lambda q: (q.valid_from, q.id))),
        mandates=mandates, documents=documents,
        balance_cents=balances(s, [f.id]).get(f.id, 0), issued_invoices=int(issued),
        pending_requests=pending_counts(s, [f.id]).get(f.id, 0), health_visible=health, medical_visible=medical,
    )


def saved_snapshot(s: Session, f: Family, desk: Desk) -> FamilySnapshot:
    """The snapshot a write returns: the family as saved, and the change every view follows."""
    return replace(snapshot(s, f, desk), changes=Changes(families={f.id}))


def list_schools(desk: Desk) -> list[tuple[int, str]]:
    with desk.read() as s:
        return [tuple(r) for r in s.execute(select(School.id, School.name).order_by(School.position, School.name))]


# ---------------------------------------------------------------- audit helpers


def _foyer_dict(f: Family) -> dict:
    return {"name": f.name, "street": f.street, "postcode": f.postcode, "city": f.city,
            "phone": f.phone, "notes": f.notes, "acknowledgement_returned": f.acknowledgement_returned}


def _guardian_dict(g: Guardian) -> dict:
    return {"id": g.id, "first_name": g.first_name, "last_name": g.last_name, "relation": g.relation,
            "email": g.email, "phone": g.phone, "receives_email": g.receives_email,
            "holds_portal_account": g.holds_portal_account}


def _child_dict(c: Child) -> dict:
    return {"id": c.id, "ref": c.ref, "first_name": c.first_name, "last_name": c.last_name,
            "birth_date": c.birth_date, "school_id": c.school_id, "class_name": c.class_name,
            "archived": c.archived, "health_notes": c.health_notes, "allergies": c.allergies,
            "pai": c.pai, "doctor": c.doctor,
            "pickups": [{"name": p.name, "relation": p.relation, "phone": p.phone,
                         "forbidden": p.forbidden} for p in c.pickup_persons]}


# ---------------------------------------------------------------- checking input


def _check_foyer(ck: Checker, foyer: FoyerInput) -> dict:
    return {
        "name": ck.text("foyer.name", "Nom de la famille", foyer.name, required=True),
        "street": ck.text("foyer.street", "Adresse", foyer.street, max_len=300),
        "postcode": ck.postcode("foyer.postcode", "Code postal", foyer.postcode),
        "city": ck.text("foyer.city", "Commune", foyer.city),
        "phone": ck.phone("foyer.phone", "Téléphone du foyer", foyer.phone),
        "notes": ck.note("foyer.notes", "Notes", foyer.notes).strip(),
        "acknowledgement_returned": bool(foyer.acknowledgement_returned),
    }


def _check_guardians(ck: Checker, guardians: list[GuardianInput]) -> list[dict]:
    out = []
    if not guardians:
        ck.fail("guardians", "Responsables : la famille doit avoir au moins un responsable légal.")
    for i, g in enumerate(guardians):
        key = f"guardians[{i}]"
        n = i + 1
        out.append({
            "id": g.id,
            "first_name": ck.text(f"{key}.first_name", f"Prénom du responsable {n}", g.first_name, required=True, max_len=100),
            "last_name": ck.text(f"{key}.last_name", f"Nom du responsable {n}", g.last_name, required=True, max_len=100),
            "relation": ck.text(f"{key}.relation", f"Lien du responsable {n}", g.relation, max_len=50),
            "email": ck.email(f"{key}.email", f"E-mail du responsable {n}", g.email,
                              required=bool(g.holds_portal_account)),
            "phone": ck.phone(f"{key}.phone", f"Téléphone du responsable {n}", g.phone),
            "receives_email": bool(g.receives_email),
            "holds_portal_account": bool(g.holds_portal_account),
        })
    if sum(1 for g in guardians if g.holds_portal_account) > 1:
        ck.fail("guardians.portal", "Compte portail : un seul responsable peut détenir le compte.")
    return out


def _check_children(ck: Checker, s: Session | None, children: list[ChildInput], today) -> list[dict]:
    out = []
    for i, c in enumerate(children):
        key = f"children[{i}]"
        n = c.first_name.strip() or f"enfant {i + 1}"
        item = {
            "id": c.id,
            "first_name": ck.text(f"{key}.first_name", "Prénom de l'enfant", c.first_name, required=True, max_len=100),
            "last_name": ck.text(f"{key}.last_name", f"Nom de {n}", c.last_name, required=True, max_len=100),
            "birth_date": ck.date(f"{key}.birth_date", f"Date de naissance de {n}", c.birth_date,
                                  required=True, not_after=today),
            "school_id": c.school_id, "class_name": ck.text(f"{key}.class_name", f"Classe de {n}", c.class_name, max_len=40),
            "archived": bool(c.archived),
            "pickups": None,
        }
        for name in HEALTH_FIELDS:
            item[name] = getattr(c, name)
        for name, label in (("health_notes", "Notes de santé"), ("allergies", "Allergies")):
            if isinstance(item[name], str):
                item[name] = ck.note(f"{key}.{name}", f"{label} de {n}", item[name])
        if c.doctor is not None:
            item["doctor"] = ck.text(f"{key}.doctor", f"Médecin de {n}", c.doctor)
        if c.pickups is not None:
            pickups = []
            for j, p in enumerate(c.pickups):
                pkey = f"{key}.pickups[{j}]"
                pickups.append({
                    "name": ck.text(f"{pkey}.name", f"Nom de la personne {j + 1} ({n})", p.name, required=True),
                    "relation": ck.text(f"{pkey}.relation", f"Lien de la personne {j + 1} ({n})", p.relation, max_len=100),
                    "phone": ck.phone(f"{pkey}.phone", f"Téléphone de la personne {j + 1} ({n})", p.phone),
                    "forbidden": bool(p.forbidden),
                })
            item["pickups"] = pickups
        out.append(item)
    return out


def _check_quotient(ck: Checker, q: QuotientInput, today) -> dict:
    return {
        "value": ck.quotient("quotient.value", "Quotient familial", q.value),
        "valid_from": ck.date("quotient.valid_from", "Date du quotient", q.valid_from, required=True),
        "source": ck.text("quotient.source", "Source du quotient", q.source, required=True, max_len=40),
    }


def _check_payment(ck: Checker, p: PaymentInput, has_active_mandate: bool, today) -> dict:
    mode = ck.choice("payment.mode", "Mode de paiement", p.mode, PaymentMode.labels())
    out = {"mode": mode, "new_iban": "", "bic": "", "holder": "", "signed_on": None,
           "mandate_state": p.mandate_state}
    needs_mandate = mode == "prelevement"
    if p.new_iban.strip() or (needs_mandate and not has_active_mandate):
        out["new_iban"] = ck.iban("mandate.iban", "IBAN", p.new_iban)
    if p.new_iban.strip() or needs_mandate or has_active_mandate:
        out["bic"] = ck.bic("mandate.bic", "BIC", p.bic)
        out["holder"] = ck.text("mandate.holder", "Titulaire du compte", p.holder, max_len=200)
        out["signed_on"] = ck.date("mandate.signed_on", "Date de signature du mandat", p.signed_on,
                                   required=bool(out["new_iban"]) or needs_mandate, not_after=today)
    if needs_mandate and p.mandate_state != MandateState.ACTIVE and not p.new_iban.strip():
        ck.fail("mandate.state", "Mandat : le prélèvement demande un mandat actif ; "
                                 "choisissez un autre mode de paiement avant de révoquer le mandat.")
    return out


def _check_portal(ck: Checker, p: PortalInput) -> dict:
    login = str(p.login or "").strip()
    if login and (len(login) < 3 or len(login) > 100 or any(ch.isspace() for ch in login)):
        ck.fail("portal.login", "Identifiant du portail : de 3 à 100 caractères, sans espace.")
    state = ck.choice("portal.state", "État du compte portail", p.state, PortalState.labels())
    return {"login": login, "state": state}


# ---------------------------------------------------------------- saving


def next_ref(s: Session, column, prefix: str) -> str:
    refs = s.execute(select(column).where(column.like(f"{prefix}%"))).scalars().all()
    digits = [r[len(prefix):] for r in refs if r[len(prefix):].isdigit()]
    # Same width as the refs already given (the demo and the portal use F-00042, tests F-0042).
    width = max([4, *(len(d) for d in digits)])
    return f"{prefix}{max((int(d) for d in digits), default=0) + 1:0{width}d}"


def create_family(desk: Desk, foyer: FoyerInput, guardian: GuardianInput) -> int:
    """"Nouvelle famille": the household and its first guardian; returns the new family's id."""
    desk.require(Role.AGENT, "Créer une famille")
    ck = Checker()
    foyer_v = _check_foyer(ck, foyer)
    guardians_v = _check_guardians(ck, [guardian])
    ck.done()
    with desk.unit_of_work() as s:
        f = Family(ref=next_ref(s, Family.ref, "F-"), created_at=desk.now(), **foyer_v)
        g = guardians_v[0]
        f.guardians.append(Guardian(**{k: v for k, v in g.items() if k != "id"}, position=0))
        f.search_text = family_search_text(f)
        stamp(f, desk)
        s.add(f)
        s.flush()
        desk.audit(s, "family.create", "family", f.id, family_id=f.id,
                   after={**_foyer_dict(f), "ref": f.ref, "guardians": [_guardian_dict(g) for g in f.guardians]})
        return f.id


def save_family(desk: Desk, family_id: int, version: int, *, foyer: FoyerInput | None = None,
                guardians: list[GuardianInput] | None = None, children: list[ChildInput] | None = None,
                quotient: QuotientInput | None = None, payment: PaymentInput | None = None,
                portal: PortalInput | None = None) -> FamilySnapshot:
    """Save the edited sections of the file at once; returns the new snapshot (new version)."""
    desk.require(Role.AGENT, "Modifier une fiche famille")
    today = desk.today()
    ck = Checker()
    foyer_v = _check_foyer(ck, foyer) if foyer is not None else None
    guardians_v = _check_guardians(ck, guardians) if guardians is not None else None
    children_v = _check_children(ck, None, children, today) if children is not None else None
    quotient_v = _check_quotient(ck, quotient, today) if quotient is not None else None
    portal_v = _check_portal(ck, portal) if portal is not None else None
    # Payment depends on whether a mandate exists: checked against the file as loaded.
    has_mandate = None
    if payment is not None:
        with desk.read() as s:
            has_mandate = s.execute(select(func.count(Mandate.id)).where(
                Mandate.family_id == family_id, Mandate.state == MandateState.ACTIVE)).scalar_one() > 0
    payment_v = _check_payment(ck, payment, has_mandate, today) if payment is not None else None
    ck.done()
    if children_v is not None and not can_see_health(desk.actor):
        for item in children_v:
            for name in HEALTH_FIELDS:
                if item[name] is not None:
                    raise PermissionDenied("Données de santé : votre rôle ne permet pas de les modifier.")
    if children_v is not None:
        with desk.read() as s:
            medical = can_see_medical(desk.actor, medical_roles(s))
        if not medical and any(item[name] is not None for item in children_v for name in MEDICAL_FIELDS):
            raise PermissionDenied("Notes médicales et médecin : réservés aux rôles que les paramètres désignent ; "
                                   "votre rôle ne permet pas de les modifier.")

    with desk.unit_of_work() as s:
        f = load_family(s, family_id, lock=True)
        check_version(f, version, WHAT)
        if f.archived:
            raise DeskError("Cette famille est archivée : restaurez-la avant de modifier sa fiche.")
        if foyer_v is not None:
            _apply_foyer(s, desk, f, foyer_v)
        if guardians_v is not None:
            _apply_guardians(s, desk, f, guardians_v)
        if children_v is not None:
            _apply_children(s, desk, f, children_v)
        if quotient_v is not None:
            _apply_quotient(s, desk, f, quotient_v)
        if payment_v is not None:
            _apply_payment(s, desk, f, payment_v)
        if portal_v is not None:
            _apply_portal(s, desk, f, portal_v)
        f.search_text = family_search_text(f)
        # Stamping dirties the row: its version moves even when only a child changed.
        stamp(f, desk)
        s.flush()
        return saved_snapshot(s, f, desk)


def save_foyer(desk: Desk, family_id: int, version: int, foyer: FoyerInput) -> FamilySnapshot:
    return save_family(desk, family_id, version, foyer=foyer)


def save_guardians(desk: Desk, family_id: int, version: int, guardians: list[GuardianInput]) -> FamilySnapshot:
    return save_family(desk, family_id, version, guardians=guardians)


def save_children(desk: Desk, family_id: int, version: int, children: list[ChildInput]) -> FamilySnapshot:
    return save_family(desk, family_id, version, children=children)


def save_payment(desk: Desk, family_id: int, version: int, payment: PaymentInput) -> FamilySnapshot:
    return save_family(desk, family_id, version, payment=payment)


def save_portal(desk: Desk, family_id: int, version: int, portal: PortalInput) -> FamilySnapshot:
    return save_family(desk, family_id, version, portal=portal)


def _apply_foyer(s, desk, f: Family, v: dict) -> None:
    before = _foyer_dict(f)
    for key, value in v.items():
        setattr(f, key, value)
    after = _foyer_dict(f)
    if before != after:
        desk.audit(s, "family.foyer", "family", f.id, family_id=f.id,
                   before={k: before[k] for k in before if before[k] != after[k]},
                   after={k: after[k] for k in after if before[k] != after[k]})


def _apply_guardians(s, desk, f: Family, items: list[dict]) -> None:
    before = [_guardian_dict(g) for g in f.guardians]
    existing = {g.id: g for g in f.guardians}
    kept = []
    for pos, item in enumerate(items):
        gid = item["id"]
        if gid is not None and gid not in existing:
            raise DeskError("Un responsable modifié n'existe plus : rechargez la fiche.")
        g = existing.get(gid) or Guardian()
        for key, value in item.items():
            if key != "id":
                setattr(g, key, value)
        g.position = pos
        kept.append(g)
    f.guardians[:] = kept
    s.flush()
    after = [_guardian_dict(g) for g in f.guardians]
    if before != after:
        desk.audit(s, "family.guardians", "family", f.id, family_id=f.id, before=before, after=after)


def _apply_children(s, desk, f: Family, items: list[dict]) -> None:
    existing = {c.id: c for c in f.children}
    schools = set(s.execute(select(School.id)).scalars())
    ck = Checker()
    for i, item in enumerate(items):
        if item["school_id"] is not None and item["school_id"] not in schools:
            ck.fail(f"children[{i}].school_id", "École : choisissez une école de la liste.")
        if item["id"] is not None and item["id"] not in existing:
            ck.fail(f"children[{i}]", "Un enfant modifié n'est plus dans cette famille : rechargez la fiche.")
    ck.done()
    for item in items:
        child = existing.get(item["id"])
        before = _child_dict(child) if child else None
        if child is None:
            child = Child(ref=next_ref(s, Child.ref, "E-"), health_notes="", allergies="", pai=False, doctor="")
            f.children.append(child)
        for key in ("first_name", "last_name", "birth_date", "school_id", "class_name", "archived"):
            setattr(child, key, item[key])
        for key in HEALTH_FIELDS:
            if item[key] is not None:
                setattr(child, key, bool(item[key]) if key == "pai" else str(item[key]).strip())
        if item["pickups"] is not None:
            child.pickup_persons[:] = [PickupPerson(**p) for p in item["pickups"]]
        s.flush()
        after = _child_dict(child)
        if before != after:
            action = "child.create" if before is None else (
                "child.archive" if after["archived"] and not before["archived"] else "child.update")
            desk.audit(s, action, "child", child.id, family_id=f.id, before=before, after=after)
            stamp(child, desk)


def _apply_quotient(s, desk, f: Family, v: dict) -> None:
    q = QuotientRecord(value=v["value"], valid_from=v["valid_from"], source=v["source"],
                       recorded_at=desk.now(), recorded_by=desk.actor.login)
    f.quotients.append(q)
    s.flush()
    desk.audit(s, "family.quotient", "quotient_record", q.id, family_id=f.id,
               after={"value": q.value, "valid_from": q.valid_from, "source": q.source})


def _next_rum(s: Session, f: Family) -> str:
    n = s.execute(select(func.count(Mandate.id)).where(Mandate.family_id == f.id)).scalar_one() + 1
    while s.execute(select(Mandate.id).where(Mandate.rum == f"GAND-{f.ref}-{n}")).first():
        n += 1
    return f"GAND-{f.ref}-{n}"


def _mandate_dict(m: Mandate) -> dict:
    return {"rum": m.rum, "iban": mask_iban(m.iban), "bic": m.bic, "holder": m.holder,
            "signed_on": m.signed_on, "state": m.state}


def _apply_payment(s, desk, f: Family, v: dict) -> None:
    if f.payment_mode != v["mode"]:
        desk.audit(s, "family.payment_mode", "family", f.id, family_id=f.id,
                   before={"payment_mode": f.payment_mode}, after={"payment_mode": v["mode"]})
        f.payment_mode = v["mode"]
    active = s.execute(select(Mandate).where(Mandate.family_id == f.id, Mandate.state == MandateState.ACTIVE)
                       .order_by(Mandate.id.desc())).scalars().first()
    if v["new_iban"]:
        if active is not None:
            before = _mandate_dict(active)
            active.state = MandateState.REVOKED
            stamp(active, desk)
            desk.audit(s, "mandate.revoke", "mandate", active.id, family_id=f.id, before=before,
                       after=_mandate_dict(active))
        m = Mandate(family_id=f.id, rum=_next_rum(s, f), iban=v["new_iban"], bic=v["bic"],
                    holder=v["holder"] or f.name, signed_on=v["signed_on"], sequence_type="FRST",
                    state=MandateState.ACTIVE)
        stamp(m, desk)
        s.add(m)
        s.flush()
        desk.audit(s, "mandate.create", "mandate", m.id, family_id=f.id, after=_mandate_dict(m))
    elif active is not None:
        before = _mandate_dict(active)
        active.bic = v["bic"]
        active.holder = v["holder"] or active.holder
        if v["signed_on"] is not None:
            active.signed_on = v["signed_on"]
        if v["mandate_state"] in (MandateState.ACTIVE, MandateState.REVOKED):
            active.state = v["mandate_state"]
        after = _mandate_dict(active)
        if before != after:
            stamp(active, desk)
            desk.audit(s, "mandate.update", "mandate", active.id, family_id=f.id, before=before, after=after)


def _apply_portal(s, desk, f: Family, v: dict) -> None:
    login = v["login"] or None
    if login and s.execute(select(Family.id).where(Family.portal_login == login, Family.id != f.id)).first():
        raise FieldProblems({"portal.login": f"Identifiant du portail : « {login} » est déjà pris par une autre famille."})
    before = {"portal_login": f.portal_login, "portal_state": f.portal_state}
    f.portal_login = login
    f.portal_state = v["state"] if login or v["state"] == PortalState.TO_CREATE else PortalState.TO_CREATE
    after = {"portal_login": f.portal_login, "portal_state": f.portal_state}
    if before != after:
        desk.audit(s, "family.portal", "family", f.id, family_id=f.id, before=before, after=after)


# ---------------------------------------------------------------- archive / delete


def archive_family(desk: Desk, family_id: int, version: int) -> FamilySnapshot:
    desk.require(Role.AGENT, "Archiver une famille")
    with desk.unit_of_work() as s:
        f = load_family(s, family_id, lock=True)
        check_version(f, version, WHAT)
        f.archived = True
        stamp(f, desk)
        desk.audit(s, "family.archive", "family", f.id, family_id=f.id,
                   before={"archived": False}, after={"archived": True})
        s.flush()
        return saved_snapshot(s, f, desk)


def restore_family(desk: Desk, family_id: int, version: int) -> FamilySnapshot:
    desk.require(Role.AGENT, "Restaurer une famille")
    with desk.unit_of_work() as s:
        f = load_family(s, family_id, lock=True)
        check_version(f, version, WHAT)
        f.archived = False
        stamp(f, desk)
        desk.audit(s, "family.restore", "family", f.id, family_id=f.id,
                   before={"archived": True}, after={"archived": False})
        s.flush()
        return saved_snapshot(s, f, desk)


def delete_family(desk: Desk, family_id: int, version: int) -> Changes:
    """Only for a family never invoiced nor paid (an entry made by mistake); otherwise archive."""
    desk.require(Role.RESPONSABLE, "Supprimer une famille")
    with desk.unit_of_work() as s:
        f = load_family(s, family_id, lock=True)
        check_version(f, version, WHAT)
        invoices = s.execute(select(func.count(Invoice.id)).where(Invoice.family_id == f.id)).scalar_one()
        payments = s.execute(select(func.count(Payment.id)).where(Payment.family_id == f.id)).scalar_one()
        if invoices or payments:
            raise DeskError(f"La famille {f.name} a des factures ou des règlements : elle ne peut pas "
                            "être supprimée (la loi impose de les conserver). Archivez-la.")
        desk.audit(s, "family.delete", "family", f.id, family_id=f.id,
                   before={**_foyer_dict(f), "ref": f.ref,
                           "guardians": [_guardian_dict(g) for g in f.guardians],
                           "children": [c.full_name for c in f.children]})
        s.delete(f)
    return Changes(families={family_id}, everything=True)  # its cells, requests and e-mails went too


def audit_entries(desk: Desk, family_id: int) -> list[AuditEntry]:
    with desk.read() as s:
        return list(s.execute(select(AuditEntry).where(AuditEntry.family_id == family_id)
                              .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())).scalars())
