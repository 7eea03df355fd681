"""Health data: what a clerk needs to feed and hand over a child (allergies, PAI, pick-up
persons) is visible to agents; medical notes and the doctor only to the roles a setting names."""

from __future__ import annotations

from datetime import date

import pytest

from gandrange_desk.errors import DeskError, PermissionDenied
from gandrange_desk.services.families import file as fam
from gandrange_desk.services.families.data import ChildInput
from gandrange_desk.services.families.health import get_medical_roles, set_medical_roles
from gandrange_desk.services.families.history import family_history
from gandrange_desk.services.system.audit import query
from tests.builders import make_family

pytestmark = pytest.mark.db


@pytest.fixture
def keller(desk):
    return make_family(desk, "Keller", children=[{
        "first_name": "Zoé", "last_name": "Keller", "birth_date": date(2017, 5, 2), "class_name": "CM1",
        "allergies": "Arachide", "pai": True, "doctor": "Dr Lang, Hagondange",
        "health_notes": "Asthme : Ventoline dans le cartable.",
        "pickup": [{"name": "Paul Weber", "relation": "Voisin", "phone": "06 12 34 56 78"}]}])


def test_agents_see_allergies_pai_and_pickups_not_the_medical_notes(desk, agent_desk, responsable_desk, keller):
    zoe = fam.get_family(agent_desk, keller.id).children[0]
    assert (zoe.allergies, zoe.pai, [p.name for p in zoe.pickups]) == ("Arachide", True, ["Paul Weber"])
    assert (zoe.health_notes, zoe.doctor, zoe.medical_visible) == (None, None, False)
    assert not fam.get_family(agent_desk, keller.id).medical_visible
    full = fam.get_family(responsable_desk, keller.id).children[0]
    assert (full.health_notes, full.doctor) == ("Asthme : Ventoline dans le cartable.", "Dr Lang, Hagondange")


def test_an_agent_keeps_the_notes_on_file_and_cannot_write_them(desk, agent_desk, keller):
    snap = fam.get_family(agent_desk, keller.id)
    zoe = snap.children[0]
    keep = ChildInput(id=zoe.id, first_name=zoe.first_name, last_name=zoe.last_name, birth_date=zoe.birth_date,
                      class_name="CM2", allergies="Arachide, kiwi", pai=True)
    new = fam.save_children(agent_desk, keller.id, snap.version, [keep])
    with pytest.raises(PermissionDenied, match="Notes médicales et médecin : réservés aux rôles"):
        fam.save_children(agent_desk, keller.id, new.version, [ChildInput(
            id=zoe.id, first_name="Zoé", last_name="Keller", birth_date=zoe.birth_date, health_notes="")])
    after = fam.get_family(desk, keller.id).children[0]
    assert (after.class_name, after.allergies) == ("CM2", "Arachide, kiwi")
    assert after.health_notes == "Asthme : Ventoline dans le cartable."  # untouched, not erased


def test_the_setting_names_who_reads_them_and_the_history_follows(desk, agent_desk, responsable_desk, keller):
    snap = fam.get_family(desk, keller.id)
    zoe = snap.children[0]
    fam.save_children(desk, keller.id, snap.version, [ChildInput(
        id=zoe.id, first_name="Zoé", last_name="Keller", birth_date=zoe.birth_date, allergies="Arachide",
        pai=True, doctor=zoe.doctor, health_notes="Asthme sévère.")])
    lines = [d for e in family_history(agent_desk, keller.id) for d in e.details]
    assert any("notes de santé : modifié (donnée de santé)" in d for d in lines)
    assert not any("Asthme sévère" in d for d in lines)
    assert get_medical_roles(desk) == ["responsable", "admin"]
    with pytest.raises(PermissionDenied):
        set_medical_roles(responsable_desk, ["agent", "responsable", "admin"])
    with pytest.raises(DeskError, match="au moins un rôle"):
        set_medical_roles(desk, [])
    with pytest.raises(DeskError, match="Rôle inconnu ou non autorisé pour les notes médicales : taches"):
        set_medical_roles(desk, ["taches"])
    set_medical_roles(desk, ["agent", "responsable", "admin"])
    assert fam.get_family(agent_desk, keller.id).children[0].health_notes == "Asthme sévère."
    assert any("Asthme sévère" in d for e in family_history(agent_desk, keller.id) for d in e.details)
    set_medical_roles(desk, ["admin"])
    assert fam.get_family(responsable_desk, keller.id).children[0].health_notes is None
    trail = query(responsable_desk)
    assert trail[0].action_label == "Lecteurs des notes médicales"
    assert not any("Asthme" in row.change for row in trail)
