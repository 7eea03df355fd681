"""Family services: search, the file snapshot, validated saves, optimistic locking, archive."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from gandrange_desk.errors import DeskError, PermissionDenied, StaleEdit
from gandrange_desk.models import (
    AuditEntry, Child, Family, Guardian, Invoice, InvoiceStatus, Mandate, OutboxMessage, Payment,
    PaymentAllocation, Request, RequestStatus,
)
from gandrange_desk.services.families import file as fam
from gandrange_desk.services.context import Actor
from gandrange_desk.services.families.data import (
    ChildInput, FoyerInput, GuardianInput, PaymentInput, PickupInput, PortalInput, QuotientInput,
)
from gandrange_desk.services.families.validation import FieldProblems, format_french_phone, mask_iban
from tests.builders import make_family

IBAN_OK = "FR76 3000 6000 0112 3456 7890 189"


def foyer_of(snap, **changes) -> FoyerInput:
    values = dict(name=snap.name, street=snap.street, postcode=snap.postcode, city=snap.city,
                  phone=snap.phone, notes=snap.notes, acknowledgement_returned=snap.acknowledgement_returned)
    values.update(changes)
    return FoyerInput(**values)


def guardians_of(snap) -> list[GuardianInput]:
    return [GuardianInput(id=g.id, first_name=g.first_name, last_name=g.last_name, relation=g.relation,
                          email=g.email, phone=g.phone, receives_email=g.receives_email,
                          holds_portal_account=g.holds_portal_account) for g in snap.guardians]


def count(desk, model, *where) -> int:
    with desk.read() as s:
        return s.execute(select(func.count()).select_from(model).where(*where)).scalar_one()


@pytest.fixture
def muller(desk):
    return make_family(desk, "Müller", guardians=[
        {"first_name": "Léa", "last_name": "Müller", "email": "lea.muller@example.org", "phone": "06 11 22 33 44"},
        {"first_name": "Jérôme", "last_name": "Müller", "email": "", "phone": "0387671779"},
    ], children=[{"first_name": "Zoé", "birth_date": date(2017, 3, 2), "allergies": "Arachide", "pai": True}])


def test_search_is_accent_and_case_insensitive(desk, muller):
    make_family(desk, "Martin")
    assert [r.name for r in fam.search(desk, "lea muller").rows] == ["Müller"]
    assert [r.name for r in fam.search(desk, "ZOE").rows] == ["Müller"]
    assert [r.name for r in fam.search(desk, "0387671779").rows] == ["Müller"]
    assert [r.name for r in fam.search(desk, "06 11 22").rows] == ["Müller"]
    assert [r.name for r in fam.search(desk, "lea.muller@").rows] == ["Müller"]
    assert [r.name for r in fam.search(desk, muller.ref.lower()).rows] == ["Müller"]
    assert fam.search(desk, "lea dupont").rows == []
    assert fam.search(desk, "50%").rows == []  # LIKE wildcards typed are literal
    assert {r.name for r in fam.search(desk, "").rows} == {"Müller", "Martin"}


def test_search_rows_show_balance_mode_portal_pending_and_acknowledgement(desk, muller):
    with desk.unit_of_work() as s:
        inv = Invoice(family_id=muller.id, month=date(2026, 9, 1), status=InvoiceStatus.ISSUED, total_cents=7055)
        draft = Invoice(family_id=muller.id, month=date(2026, 10, 1), status=InvoiceStatus.DRAFT, total_cents=999)
        s.add_all([inv, draft])
        s.flush()
        pay = Payment(family_id=muller.id, mode="cheque", received_on=date(2026, 10, 5), amount_cents=2000)
        pay.allocations.append(PaymentAllocation(invoice_id=inv.id, amount_cents=2000))
        s.add(pay)
        for n in range(2):
            s.add(Request(kind="booking", family_id=muller.id, submitted_at=desk.now(), status=RequestStatus.PENDING))
        s.add(Request(kind="booking", family_id=muller.id, submitted_at=desk.now(), status=RequestStatus.ACCEPTED))
        s.get(Family, muller.id).acknowledgement_returned = False
    row = fam.search(desk, "muller").rows[0]
    assert row.balance_cents == 5055
    assert row.pending_requests == 2
    assert row.acknowledgement_missing
    assert row.payment_mode_label == "Chèque" and row.portal_state_label == "Actif"
    assert row.children == "Zoé"


def test_snapshot_hides_health_from_a_role_without_it(desk, muller):
    snap = fam.get_family(desk, muller.id)
    assert snap.children[0].allergies == "Arachide" and snap.children[0].pai is True
    reader = desk.as_actor(Actor("lecteur", "Lecteur", "lecture"))
    hidden = fam.get_family(reader, muller.id)
    assert hidden.children[0].allergies is None and hidden.children[0].pai is None
    assert not hidden.health_visible


def test_bad_fields_are_refused_per_field_and_nothing_is_written(desk, muller):
    snap = fam.get_family(desk, muller.id)
    bad = guardians_of(snap)
    bad[0].email = "lea.muller@example"
    bad[1].phone = "12345"
    with pytest.raises(FieldProblems) as err:
        fam.save_family(desk, muller.id, snap.version, foyer=foyer_of(snap, postcode="5717", street="1 rue Neuve"),
                        guardians=bad, quotient=QuotientInput("-3", "31/02/2026"))
    fields = err.value.fields
    assert "Code postal" in fields["foyer.postcode"] and "5 chiffres" in fields["foyer.postcode"]
    assert "E-mail du responsable 1" in fields["guardians[0].email"]
    assert "Téléphone du responsable 2" in fields["guardians[1].phone"]
    assert "Quotient familial" in fields["quotient.value"]
    assert "n'est pas une date valide" in fields["quotient.valid_from"]
    after = fam.get_family(desk, muller.id)
    assert after.street == snap.street and after.version == snap.version and after.quotients == snap.quotients


def test_save_sections_updates_search_audit_and_version(desk, muller):
    snap = fam.get_family(desk, muller.id)
    guardians = guardians_of(snap)
    guardians[1].email = "jerome@example.org"
    guardians.append(GuardianInput(first_name="Anaïs", last_name="Koenig", relation="Grand-mère",
                                   phone="+33 6 98 76 54 32"))
    children = [ChildInput(id=c.id, first_name=c.first_name, last_name=c.last_name, birth_date=c.birth_date,
                           school_id=c.school_id, class_name="CM1", allergies="Arachide, kiwi", pai=True,
                           pickups=[PickupInput("Paul Weber", "Voisin", "0612345678"),
                                    PickupInput("Marc Dupuis", "Oncle", "", forbidden=True)])
                for c in snap.children]
    children.append(ChildInput(first_name="Hugo", last_name="Müller", birth_date="02/09/2021"))
    new = fam.save_family(desk, muller.id, snap.version, foyer=foyer_of(snap, street="3 rue des Écoles"),
                          guardians=guardians, children=children, quotient=QuotientInput("780", "01/01/2026", "CAF"))
    assert new.version > snap.version and new.street == "3 rue des Écoles"
    assert new.guardians[2].phone == "06 98 76 54 32"
    zoe, hugo = new.children
    assert zoe.class_name == "CM1" and zoe.allergies == "Arachide, kiwi"
    assert [(p.name, p.forbidden) for p in zoe.pickups] == [("Paul Weber", False), ("Marc Dupuis", True)]
    assert hugo.birth_date == date(2021, 9, 2) and hugo.ref.startswith("E-")
    assert new.quotient_on(date(2026, 3, 1)).value == 780
    assert [r.name for r in fam.search(desk, "hugo koenig").rows] == ["Müller"]
    actions = {a.action for a in fam.audit_entries(desk, muller.id)}
    assert {"family.foyer", "family.guardians", "child.update", "child.create", "family.quotient"} <= actions
    foyer_audit = next(a for a in fam.audit_entries(desk, muller.id) if a.action == "family.foyer")
    assert "3 rue des Écoles" in foyer_audit.after and "12 rue de la Gare" in foyer_audit.before


def test_remove_guardian_and_archive_child(desk, muller):
    snap = fam.get_family(desk, muller.id)
    new = fam.save_guardians(desk, muller.id, snap.version, guardians_of(snap)[:1])
    assert [g.first_name for g in new.guardians] == ["Léa"]
    c = new.children[0]
    new = fam.save_children(desk, muller.id, new.version, [ChildInput(
        id=c.id, first_name=c.first_name, last_name=c.last_name, birth_date=c.birth_date, archived=True)])
    assert new.children[0].archived and new.children[0].allergies == "Arachide"  # health kept
    assert fam.search(desk, "muller").rows[0].children == ""
    assert any(a.action == "child.archive" for a in fam.audit_entries(desk, muller.id))


def test_no_quotient_is_said_plainly(desk):
    f = make_family(desk, "Sans", quotient=None)
    assert fam.get_family(desk, f.id).quotient_on(date(2026, 11, 1)) is None
    assert fam.NO_QUOTIENT_TEXT == "Aucun quotient : tarif de la tranche la plus haute"


def test_stale_save_is_refused_naming_who_and_when(desk, clock, muller):
    clerk_a = desk.as_actor(Actor("sfoncin", "Sandrine Foncin", "agent"))
    clerk_b = desk.as_actor(Actor("jdupont", "Julie Dupont", "agent"))
    seen_a = fam.get_family(clerk_a, muller.id)
    seen_b = fam.get_family(clerk_b, muller.id)
    clock.set(2026, 11, 26, 10, 41)
    fam.save_foyer(clerk_a, muller.id, seen_a.version, foyer_of(seen_a, notes="Appeler après 17 h"))
    with pytest.raises(StaleEdit) as err:
        fam.save_foyer(clerk_b, muller.id, seen_b.version, foyer_of(seen_b, city="Rombas"))
    assert "sfoncin" in str(err.value) and "26/11/2026 à 10:41" in str(err.value)
    now = fam.get_family(desk, muller.id)
    assert now.city == "Gandrange" and now.notes == "Appeler après 17 h"
    # Reloaded, the second clerk's save goes through.
    fam.save_foyer(clerk_b, muller.id, now.version, foyer_of(now, city="Rombas"))
    assert fam.get_family(desk, muller.id).city == "Rombas"


def test_payment_mode_and_mandate(desk, muller):
    snap = fam.get_family(desk, muller.id)
    with pytest.raises(FieldProblems) as err:
        fam.save_payment(desk, muller.id, snap.version, PaymentInput("prelevement", new_iban="FR76 3000 6000 0112 3456 7890 188",
                                                                    signed_on="01/09/2026"))
    assert "IBAN" in err.value.fields["mandate.iban"]
    with pytest.raises(FieldProblems) as err:
        fam.save_payment(desk, muller.id, snap.version, PaymentInput("prelevement"))
    assert "obligatoire" in err.value.fields["mandate.iban"]
    new = fam.save_payment(desk, muller.id, snap.version, PaymentInput(
        "prelevement", new_iban=IBAN_OK, bic="AGRIFRPP", holder="Léa Müller", signed_on="01/09/2026"))
    m = new.active_mandate
    assert m.rum == f"GAND-{muller.ref}-1"
    assert m.iban_masked == "FR76 **** **** **** **** **** 0189"
    assert new.payment_mode_label == "Prélèvement"
    new = fam.save_payment(desk, muller.id, new.version, PaymentInput(
        "prelevement", new_iban="FR1420041010050500013M02606", signed_on="02/10/2026"))
    assert [x.state for x in new.mandates] == ["active", "revoked"]
    assert new.active_mandate.rum == f"GAND-{muller.ref}-2"
    with desk.read() as s:
        assert s.execute(select(Mandate.iban).where(Mandate.rum == f"GAND-{muller.ref}-1")).scalar_one() == \
            "FR7630006000011234567890189"


def test_portal_login_must_be_unique(desk, muller):
    other = make_family(desk, "Autre")
    snap = fam.get_family(desk, muller.id)
    with pytest.raises(FieldProblems) as err:
        fam.save_portal(desk, muller.id, snap.version, PortalInput(other.ref.lower(), "sent"))
    assert "déjà pris" in err.value.fields["portal.login"]


def test_archive_instead_of_delete_when_invoiced(desk, responsable_desk, muller):
    with desk.unit_of_work() as s:
        s.add(Invoice(family_id=muller.id, month=date(2026, 9, 1), status=InvoiceStatus.ISSUED, total_cents=100))
    snap = fam.get_family(desk, muller.id)
    with pytest.raises(DeskError, match="Archivez-la"):
        fam.delete_family(responsable_desk, muller.id, snap.version)
    archived = fam.archive_family(desk, muller.id, snap.version)
    assert archived.archived and fam.search(desk, "muller").rows == []
    assert fam.search(desk, "muller", include_archived=True).rows[0].archived
    with pytest.raises(DeskError, match="archivée"):
        fam.save_foyer(desk, muller.id, archived.version, foyer_of(archived, city="Metz"))
    assert fam.restore_family(desk, muller.id, archived.version).archived is False


def test_delete_a_family_without_invoices(desk, agent_desk, responsable_desk):
    f = make_family(desk, "Erreur")
    snap = fam.get_family(desk, f.id)
    with pytest.raises(PermissionDenied):
        fam.delete_family(agent_desk, f.id, snap.version)
    fam.delete_family(responsable_desk, f.id, snap.version)
    assert count(desk, Family) == 0 and count(desk, Child) == 0 and count(desk, Guardian) == 0
    assert count(desk, AuditEntry, AuditEntry.action == "family.delete") == 1


def test_create_family_generates_ref(desk):
    make_family(desk, "Existante", ref="F-0041")
    fid = fam.create_family(desk, FoyerInput("Nouvelle", postcode="57175", city="Gandrange"),
                            GuardianInput("Inès", "Nouvelle", email="ines@example.org"))
    snap = fam.get_family(desk, fid)
    assert snap.ref == "F-0042" and snap.guardians[0].full_name == "Inès Nouvelle"
    with pytest.raises(FieldProblems) as err:
        fam.create_family(desk, FoyerInput(""), GuardianInput("", "X", email="pas-un-mail"))
    assert set(err.value.fields) == {"foyer.name", "guardians[0].first_name", "guardians[0].email"}
    assert count(desk, Family) == 2


def test_health_cannot_be_changed_without_the_right(desk, muller):
    snap = fam.get_family(desk, muller.id)
    c = snap.children[0]
    lecture = desk.as_actor(Actor("lecteur", "Lecteur", "lecture"))
    with pytest.raises(PermissionDenied):
        fam.save_children(lecture, muller.id, snap.version, [ChildInput(
            id=c.id, first_name=c.first_name, last_name=c.last_name, birth_date=c.birth_date, allergies="")])


def test_phone_and_iban_helpers():
    assert format_french_phone("+33 3 87 67 17 79") == "03 87 67 17 79"
    assert format_french_phone("06.12.34.56.78") == "06 12 34 56 78"
    assert format_french_phone("0012345678") is None and format_french_phone("061234567") is None
    assert mask_iban("FR7630006000011234567890185") == "FR76 **** **** **** **** **** 0185"


def test_two_workstations_saving_at_once_one_wins_the_other_is_told(desk, muller):
    import threading

    clerks = [desk.as_actor(Actor("sfoncin", "Sandrine Foncin", "agent")),
              desk.as_actor(Actor("jdupont", "Julie Dupont", "agent"))]
    seen = fam.get_family(desk, muller.id)
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def save(clerk, city):
        barrier.wait()
        try:
            fam.save_foyer(clerk, muller.id, seen.version, foyer_of(seen, city=city))
            outcomes[clerk.actor.login] = "saved"
        except StaleEdit as exc:
            outcomes[clerk.actor.login] = str(exc)

    threads = [threading.Thread(target=save, args=(c, city)) for c, city in zip(clerks, ("Rombas", "Amnéville"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    winner = [login for login, out in outcomes.items() if out == "saved"]
    assert len(winner) == 1, outcomes
    loser = next(out for out in outcomes.values() if out != "saved")
    assert f"a été modifiée par {winner[0]} le" in loser
    assert fam.get_family(desk, muller.id).city == {"sfoncin": "Rombas", "jdupont": "Amnéville"}[winner[0]]


def test_history_in_words_hides_health_values_from_a_reader(desk, muller):
    from gandrange_desk.services.families.history import family_history

    snap = fam.get_family(desk, muller.id)
    guardians = guardians_of(snap)
    guardians[1].email = "jerome@example.org"
    c = snap.children[0]
    fam.save_family(desk, muller.id, snap.version, guardians=guardians, children=[ChildInput(
        id=c.id, first_name=c.first_name, last_name=c.last_name, birth_date=c.birth_date, school_id=c.school_id,
        class_name=c.class_name, allergies="Kiwi")])
    entries = {e.label: e.details for e in family_history(desk, muller.id)}
    # The phone typed without spaces is stored formatted: that is a change too.
    assert entries["Responsables modifiés"] == ["Jérôme Müller — e-mail : — → jerome@example.org",
                                                "Jérôme Müller — téléphone : 0387671779 → 03 87 67 17 79"]
    assert entries["Enfant modifié"] == ["Zoé Müller — allergies : Arachide → Kiwi"]
    reader = {e.label: e.details for e in family_history(desk.as_actor(Actor("l", "L", "lecture")), muller.id)}
    assert reader["Enfant modifié"] == ["Zoé Müller — allergies : modifié (donnée de santé)"]
