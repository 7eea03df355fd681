"""The settings window's service: the same document and validation as the TOML file."""

import copy
import json

import pytest
from sqlalchemy import select

from gandrange_desk.errors import PermissionDenied, StaleEdit, ValidationFailed
from gandrange_desk.models import Activity, AuditEntry, Closure, School, SmtpSettings, Structure, Tariff, Unit
from gandrange_desk.services.settings import service as svc
from gandrange_desk.services.context import Actor
from tests.builders import load_example_settings, unit_id


def _unit(desk, code, name):
    with desk.read() as s:
        return s.get(Unit, unit_id(s, code, name))


def _audit(desk, action):
    with desk.read() as s:
        return list(s.execute(select(AuditEntry).where(AuditEntry.action == action)).scalars())


def test_document_round_trips_the_file_and_a_capacity_edit_is_saved(desk):
    load_example_settings(desk)
    draft = svc.current_document(desk)
    doc = draft.document
    assert doc["structure"]["name"] == "Service Enfance-Jeunesse — Commune de Gandrange"
    assert [u["name"] for u in doc["activity"][0]["unit"]] == ["Accueil matin", "Repas", "Accueil soir"]
    doc["activity"][0]["unit"][1]["capacity"] = 125
    doc["structure"]["phone"] = "03 87 00 00 00"
    summary = svc.apply_document(desk, doc, draft.versions)
    assert "unité PERISCOLAIRE / Repas" in summary.updated
    assert _unit(desk, "PERISCOLAIRE", "Repas").capacity == 125
    with desk.read() as s:
        assert s.execute(select(Structure)).scalar_one().phone == "03 87 00 00 00"
        repas = s.get(Unit, unit_id(s, "PERISCOLAIRE", "Repas"))
        assert len(s.execute(select(Tariff).where(Tariff.unit_id == repas.id)).all()) == 1
    entry, = _audit(desk, "settings.unit.update")
    assert json.loads(entry.before) == {"capacity": 110} and json.loads(entry.after) == {"capacity": 125}
    assert _audit(desk, "settings.edit")
    # The file export now says the same as the window.
    assert "capacity = 125" in svc.export_text(desk)


def test_bad_values_are_refused_whole_with_their_place(desk):
    load_example_settings(desk)
    draft = svc.current_document(desk)
    doc = copy.deepcopy(draft.document)
    doc["activity"][0]["unit"][1]["capacity"] = 0
    doc["activity"][1]["booking_deadline"]["time"] = "25:00"
    doc["structure"]["name"] = "  "
    doc["structure"]["phone"] = "changé"
    with pytest.raises(ValidationFailed) as err:
        svc.apply_document(desk, doc, draft.versions)
    assert err.value.problems == [
        "structure.name : ne doit pas être vide",
        # The window's form goes through the same validation layer as the file.
        "structure.phone : « changé » n'est pas un numéro de téléphone valide (10 chiffres, exemple : "
        "03 87 67 17 79, ou +352… pour l'étranger)",
        "activity[0].unit[1].capacity : valeur 0 hors limites (entre 1 et 10000)",
        "activity[1].booking_deadline.time : heure invalide « 25:00 » (attendu HH:MM, par exemple \"10:00\")",
    ]
    assert _unit(desk, "PERISCOLAIRE", "Repas").capacity == 110
    with desk.read() as s:
        assert s.execute(select(Structure)).scalar_one().phone == "03 87 67 17 79"
    assert _audit(desk, "settings.edit") == []


def test_stale_save_is_refused_naming_who(desk, clock):
    load_example_settings(desk)
    mine = svc.current_document(desk)
    theirs = svc.current_document(desk)
    colleague = desk.as_actor(Actor("mresp", "Marc Responsable", "responsable"))
    theirs.document["activity"][1]["unit"][0]["capacity"] = 44
    svc.apply_document(colleague, theirs.document, theirs.versions)
    mine.document["structure"]["email"] = "autre@example.org"
    with pytest.raises(StaleEdit) as err:
        svc.apply_document(desk, mine.document, mine.versions)
    assert "l'activité MERCREDI a été modifiée par mresp le 26/11/2026 à 09:00" in str(err.value)
    with desk.read() as s:
        assert s.execute(select(Structure)).scalar_one().email == "periscolaire@mairie-gandrange.example"
    # Reloaded, the same edit goes through and keeps the colleague's capacity.
    fresh = svc.current_document(desk)
    fresh.document["structure"]["email"] = "autre@example.org"
    svc.apply_document(desk, fresh.document, fresh.versions)
    assert _unit(desk, "MERCREDI", "Journée complète").capacity == 44


def test_stale_closures_refused_and_schools_stamp_the_structure(desk):
    load_example_settings(desk)
    mine = svc.current_document(desk)
    theirs = svc.current_document(desk)
    theirs.document["structure"]["closures"].append(["2027-05-07", "2027-05-07", "Pont"])
    colleague = desk.as_actor(Actor("mresp", "Marc Responsable", "responsable"))
    svc.apply_document(colleague, theirs.document, theirs.versions)
    with pytest.raises(StaleEdit, match="la fiche de la structure a été modifiée par mresp"):
        svc.apply_document(desk, mine.document, mine.versions)
    with desk.read() as s:
        assert [c.label for c in s.execute(select(Closure).order_by(Closure.first_day)).scalars()] == [
            "Fermeture", "Pont"]


def test_prices_and_smtp_saved_elsewhere_are_kept(desk):
    load_example_settings(desk)
    draft = svc.current_document(desk)
    # Meanwhile the SMTP dialog changes the host (not part of the window's document).
    with desk.unit_of_work() as s:
        s.execute(select(SmtpSettings)).scalar_one().host = "relais.local"
    draft.document.pop("smtp", None)
    draft.document["activity"][0]["unit"][0]["prices"] = [{"price": "9.99"}]
    svc.apply_document(desk, draft.document, draft.versions)
    with desk.read() as s:
        assert s.execute(select(SmtpSettings)).scalar_one().host == "relais.local"
    assert "price = \"9.99\"" not in svc.export_text(desk)


def test_new_unit_and_school_from_the_window(desk):
    load_example_settings(desk)
    draft = svc.current_document(desk)
    draft.document["structure"]["schools"].append("École Jean Moulin")
    draft.document["activity"][2]["unit"].append({"name": "Demi-journée", "capacity": 24, "meal": False,
                                                   "prices": [{"price": "6.00"}]})
    summary = svc.apply_document(desk, draft.document, draft.versions)
    assert "unité VACANCES / Demi-journée" in summary.created
    with desk.read() as s:
        assert "École Jean Moulin" in s.execute(select(School.name)).scalars().all()
        vacances = s.execute(select(Activity).where(Activity.code == "VACANCES")).scalar_one()
        assert vacances.version == draft.versions["activity"]["VACANCES"] + 1
    # The next window sees it; an old draft is refused.
    with pytest.raises(StaleEdit):
        svc.apply_document(desk, draft.document, draft.versions)


def test_roles(desk, agent_desk, responsable_desk):
    load_example_settings(desk)
    draft = svc.current_document(agent_desk)  # an agent may look
    draft.document["activity"][0]["unit"][1]["capacity"] = 5
    with pytest.raises(PermissionDenied, match="Modifier les réglages : réservé au rôle « responsable »"):
        svc.apply_document(agent_desk, draft.document, draft.versions)
    assert _unit(desk, "PERISCOLAIRE", "Repas").capacity == 110
    svc.apply_document(responsable_desk, draft.document, draft.versions)
    assert _unit(desk, "PERISCOLAIRE", "Repas").capacity == 5
