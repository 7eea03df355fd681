"""Issue 11: a family change from the portal may add a guardian or a child, change a child's
allergies and PAI, and add, change or remove an authorised pick-up person. Each value is checked
as the family file's form checks it; the clerk reads old and new and accepts field by field;
refusing writes nothing."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import Child, Family, Guardian, PickupPerson, Request, RequestStatus
from gandrange_desk.services import queue
from gandrange_desk.services.intake import feed as intake
from tests.builders import load_example_settings, make_family
from tests.intake.test_intake import entry, feed
from tests.intake.test_intake_boundary import refused

NEW_CHILD = {"first_name": "Tom", "last_name": "Keller", "birth_date": "2021-06-02",
             "school": "École maternelle", "class": "PS"}
NEW_GUARDIAN = {"first_name": "Anne", "last_name": "Weber", "relation": "Belle-mère",
                "email": "Anne.Weber@Example.ORG", "phone": "+33 6 11 22 33 44"}


@pytest.fixture
def office(desk, clock):
    clock.set(2026, 3, 11, 12, 0)
    load_example_settings(desk)
    make_family(desk, "Keller", ref="F-0042", guardians=[
        {"first_name": "Claire", "last_name": "Keller", "email": "claire@example.org"}],
        children=[{"ref": "E-0107", "first_name": "Jules", "birth_date": date(2019, 5, 2),
                   "allergies": "Arachide", "pickup": [
                       {"name": "Odile Keller", "relation": "Grand-mère", "phone": "06 10 10 10 10"},
                       {"name": "Paul Hoffmann", "relation": "Voisin", "phone": ""}]}])
    return desk


def change(desk, **changes) -> int:
    intake.import_feed(desk, feed(entry("P-1", kind="family_change", changes=changes)))
    return next(i.id for i in queue.pending_items(desk) if i.kind == "family_change")


def members(desk) -> tuple[list, list, list]:
    with desk.read() as s:
        family = s.execute(select(Family).where(Family.ref == "F-0042")).scalar_one()
        guardians = [(g.full_name, g.email, g.phone, g.relation) for g in family.guardians]
        children = [(c.ref, c.full_name, c.birth_date, c.class_name, c.allergies, c.pai) for c in family.children]
        pickups = [(p.name, p.relation, p.phone, p.forbidden) for p in s.execute(
            select(PickupPerson).order_by(PickupPerson.id)).scalars()]
    return guardians, children, pickups


def test_adding_a_child_and_a_guardian_is_shown_then_created_on_acceptance(office):
    rid = change(office, **{"children[+1]": NEW_CHILD, "guardians[+1]": NEW_GUARDIAN})
    view = queue.family_change_view(office, rid)
    assert [(c.label, c.old, c.new) for c in view] == [
        ("Nouvel enfant", "", "Tom Keller, né(e) le 02/06/2021, École maternelle, PS"),
        ("Nouveau responsable", "", "Anne Weber (Belle-mère), Anne.Weber@example.org, 06 11 22 33 44"),
    ]
    queue.accept_family_change(office, rid, ["children[+1]", "guardians[+1]"])
    guardians, children, _ = members(office)
    assert guardians[-1] == ("Anne Weber", "Anne.Weber@example.org", "06 11 22 33 44", "Belle-mère")
    assert ("E-0108", "Tom Keller", date(2021, 6, 2), "PS", "", False) in children
    with office.read() as s:
        tom = s.execute(select(Child).where(Child.first_name == "Tom")).scalar_one()
        assert tom.school_id is not None
        family = s.execute(select(Family).where(Family.ref == "F-0042")).scalar_one()
        assert "tom" in family.search_text and "weber" in family.search_text


def test_refusing_an_addition_writes_nothing(office):
    before = members(office)
    rid = change(office, **{"children[+1]": NEW_CHILD, "guardians[+1]": NEW_GUARDIAN})
    with pytest.raises(ValidationFailed) as info:
        queue.accept_family_change(office, rid, [])  # refusing everything needs a reason
    assert "Un refus doit être motivé" in str(info.value)
    queue.accept_family_change(office, rid, [], reason="Merci de passer en mairie avec le livret de famille.")
    assert members(office) == before
    with office.read() as s:
        assert s.get(Request, rid).status == RequestStatus.REFUSED
        assert s.execute(select(func.count()).select_from(Guardian)).scalar() == 1


def test_a_new_member_is_checked_like_the_form(office):
    assert refused(office, entry("P-1", kind="family_change", changes={
        "guardians[+1]": {**NEW_GUARDIAN, "last_name": "We\x00ber"}})) == [
        "Entrée P-1 : « changes.guardians[+1].last_name » : caractère de contrôle interdit (NUL) (position 3)."]
    problems = refused(office, entry("P-1", kind="family_change", changes={
        "children[+1]": {**NEW_CHILD, "birth_date": "2027-01-01"},
        "children[+2]": {"first_name": "Léo", "birth_date": "2020-01-01", "school": "École maternelle", "iban": "x"},
        "children[+3]": {**NEW_CHILD, "school": "École de Metz"},
        "guardians[+1]": {**NEW_GUARDIAN, "last_name": ""},
        "guardians[+3]": {**NEW_GUARDIAN, "phone": "12"},
        "guardians[+2]": "Anne Weber"}))
    assert problems == [
        "Entrée P-1 : « children[+1].birth_date » : date de naissance dans le futur (01/01/2027).",
        "Entrée P-1 : « children[+2] » : clé inconnue : « iban ».",
        "Entrée P-1 : « children[+3].school » : école inconnue « École de Metz ».",
        "Entrée P-1 : « guardians[+1].last_name » ne doit pas être vide.",
        "Entrée P-1 : « guardians[+3].phone » : « 12 » n'est pas un numéro de téléphone valide (10 chiffres, "
        "exemple : 03 87 67 17 79, ou +352… pour l'étranger).",
        "Entrée P-1 : « guardians[+2] » : un responsable attendu (un objet JSON : first_name, last_name, "
        "relation, email, phone), pas un texte.",
    ]


def test_allergies_and_pai_old_and_new_accepted_field_by_field(office):
    rid = change(office, **{"children[E-0107].allergies": "Arachide\nKiwi", "children[E-0107].pai": True})
    view = queue.family_change_view(office, rid)
    assert [(c.label, c.old, c.new) for c in view] == [
        ("Allergies de Jules Keller", "Arachide", "Arachide\nKiwi"),
        ("PAI de Jules Keller", "non", "oui"),
    ]
    queue.accept_family_change(office, rid, ["children[E-0107].allergies"], reason="PAI signé à fournir.")
    _, children, _ = members(office)
    assert children == [("E-0107", "Jules Keller", date(2019, 5, 2), "", "Arachide\nKiwi", False)]
    with office.read() as s:
        assert s.get(Request, rid).reason == "PAI signé à fournir."


def test_health_values_are_checked(office):
    assert refused(office, entry("P-1", kind="family_change", changes={
        "children[E-0107].pai": "peut-être", "children[E-0107].allergies": "x" * 10_001})) == [
        "Entrée P-1 : « children[E-0107].pai » : true ou false attendu, pas « peut-être ».",
        "Entrée P-1 : « children[E-0107].allergies » : trop long (10001 caractères, au plus 10000).",
    ]


def test_pickup_persons_added_changed_removed(office):
    rid = change(office, **{
        "children[E-0107].pickups[+1]": {"name": "Luc Keller", "relation": "Oncle", "phone": "0387671779"},
        "children[E-0107].pickups[0]": {"name": "Odile Keller", "relation": "Grand-mère",
                                        "phone": "06 20 20 20 20"},
        "children[E-0107].pickups[1]": None})
    view = queue.family_change_view(office, rid)
    assert [(c.label, c.old, c.new) for c in view] == [
        ("Nouvelle personne autorisée pour Jules Keller", "", "Luc Keller (Oncle), 03 87 67 17 79"),
        ("Personne autorisée pour Jules Keller", "Odile Keller (Grand-mère), 06 10 10 10 10",
         "Odile Keller (Grand-mère), 06 20 20 20 20"),
        ("Personne autorisée pour Jules Keller", "Paul Hoffmann (Voisin)", "(retirée de la liste)"),
    ]
    queue.accept_family_change(office, rid, [c.path for c in view])
    _, _, pickups = members(office)
    assert pickups == [("Odile Keller", "Grand-mère", "06 20 20 20 20", False),
                       ("Luc Keller", "Oncle", "03 87 67 17 79", False)]


def test_a_pickup_change_is_pinned_to_its_person(office):
    rid = change(office, **{"children[E-0107].pickups[1]": None})
    # The first person is removed from the family file before the clerk decides.
    with office.unit_of_work() as s:
        s.delete(s.execute(select(PickupPerson).where(PickupPerson.name == "Odile Keller")).scalar_one())
    view = queue.family_change_view(office, rid)
    assert [(c.old, c.new) for c in view] == [("Paul Hoffmann (Voisin)", "(retirée de la liste)")]
    queue.accept_family_change(office, rid, ["children[E-0107].pickups[1]"])
    assert members(office)[2] == []


def test_pickup_values_are_checked(office):
    assert refused(office, entry("P-1", kind="family_change", changes={
        "children[E-0107].pickups[+1]": {"name": "Luc\u2028Keller"}})) == [
        "Entrée P-1 : « changes.children[E-0107].pickups[+1].name » : caractère de contrôle interdit (position 4)."]
    assert refused(office, entry("P-1", kind="family_change", changes={
        "children[E-0107].pickups[+1]": {"name": "Luc Keller", "phone": "12"},
        "children[E-0107].pickups[+2]": {"name": "Luc", "forbidden": "oui"},
        "children[E-0107].pickups[+3]": None,
        "children[E-0107].pickups[5]": None})) == [
        "Entrée P-1 : « children[E-0107].pickups[+1].phone » : « 12 » n'est pas un numéro de téléphone valide "
        "(10 chiffres, exemple : 03 87 67 17 79, ou +352… pour l'étranger).",
        "Entrée P-1 : « children[E-0107].pickups[+2].forbidden » : true ou false attendu, pas un texte.",
        "Entrée P-1 : « children[E-0107].pickups[+3] » : une personne à ajouter ne peut pas être vide (null).",
        "Entrée P-1 : « children[E-0107].pickups[5] » : la famille F-0042 n'a pas de personne autorisée n° 6 "
        "pour l'enfant E-0107.",
    ]


def test_a_change_held_for_a_waiting_registration_is_replayed_with_its_additions(office):
    from tests.intake.test_intake_boundary import registration

    intake.import_feed(office, feed(registration("P-9", email="anne@example.org"), {
        **entry("P-10", kind="family_change", changes={
            "children[E-3000].pickups[+1]": {"name": "Odile Weber", "phone": "06 10 10 10 10"},
            "guardians[+1]": {"first_name": "Marc", "last_name": "Weber"}}), "family_ref": "F-2000"}))
    assert refused(office, {**entry("P-11", kind="family_change", changes={
        "children[E-3000].pickups[0]": None}), "family_ref": "F-2000"}) == [
        "Entrée P-11 : « children[E-3000].pickups[0] » : la famille F-2000 n'a pas encore de personne "
        "autorisée (inscription en attente) ; ajoutez-en une avec pickups[+1]."]
    reg = next(i for i in queue.pending_items(office) if i.kind == "registration")
    queue.accept_registration(office, reg.id)
    rid = next(i.id for i in queue.pending_items(office) if i.kind == "family_change")
    assert [(c.label, c.new) for c in queue.family_change_view(office, rid)] == [
        ("Nouvelle personne autorisée pour Tom Weber", "Odile Weber, 06 10 10 10 10"),
        ("Nouveau responsable", "Marc Weber")]
