"""The audit trail as supervisors read it: filters, readable labels, paging, who may look."""

from __future__ import annotations

from datetime import date

import pytest

from gandrange_desk.errors import PermissionDenied
from gandrange_desk.models import DeskUser
from gandrange_desk.services.system import audit as audit_log
from gandrange_desk.services.families import file as families
from gandrange_desk.services.system.audit import AuditFilter
from gandrange_desk.services.families.data import FoyerInput, GuardianInput
from tests.conftest import AGENT, RESPONSABLE


def trail(desk, clock, agent_desk, responsable_desk) -> dict:
    """A few days of work by two people on two families, plus a tariff change."""
    with desk.unit_of_work() as s:
        s.add(DeskUser(login=AGENT.login, full_name=AGENT.full_name, role="agent"))
        s.add(DeskUser(login=RESPONSABLE.login, full_name=RESPONSABLE.full_name, role="responsable"))
    clock.set(2026, 3, 2, 9, 0)
    muller = families.create_family(agent_desk, FoyerInput(name="Müller", city="Gandrange"),
                                    GuardianInput(first_name="Claire", last_name="Müller", email="c.muller@example.org"))
    clock.set(2026, 3, 3, 10, 0)
    snap = families.get_family(agent_desk, muller)
    families.save_foyer(agent_desk, muller, snap.version, FoyerInput(name="Müller", city="Gandrange", phone="03 87 12 34 56"))
    clock.set(2026, 3, 5, 11, 0)
    weber = families.create_family(responsable_desk, FoyerInput(name="Weber"),
                                   GuardianInput(first_name="Paul", last_name="Weber"))
    clock.set(2026, 3, 6, 17, 30)
    snap = families.get_family(responsable_desk, weber)
    families.archive_family(responsable_desk, weber, snap.version)
    with desk.unit_of_work() as s:
        responsable_desk.audit(s, "tariff.update", "tariff", 7, before={"price_cents": 450},
                               after={"price_cents": 470})
    return {"muller": muller, "weber": weber}


def test_filters_and_labels(desk, clock, agent_desk, responsable_desk):
    ids = trail(desk, clock, agent_desk, responsable_desk)
    rows = audit_log.query(responsable_desk)
    assert [r.action_label for r in rows] == [
        "Tarif modifié", "Famille archivée", "Création de la fiche", "Foyer modifié", "Création de la fiche"]
    foyer = rows[3]
    assert (foyer.user_name, foyer.family_ref, foyer.family_name, foyer.entity_text) == (
        "Sandrine Foncin", families.get_family(desk, ids["muller"]).ref, "Müller",
        f"Famille {families.get_family(desk, ids['muller']).ref}")  # its ref, never an internal id
    assert foyer.change == "téléphone : — → 03 87 12 34 56"
    assert rows[1].change == "archivé : non → oui"
    assert rows[0].change == "prix : 4,50\u00a0€ → 4,70\u00a0€" and rows[0].family_ref == ""

    by_agent = audit_log.query(responsable_desk, AuditFilter(user=AGENT.login))
    assert {r.user_login for r in by_agent} == {AGENT.login} and len(by_agent) == 2
    assert [r.action for r in audit_log.query(desk, AuditFilter(action="family.archive"))] == ["family.archive"]
    assert len(audit_log.query(desk, AuditFilter(action="family."))) == 4
    # Dates are inclusive, in Paris time.
    days = audit_log.query(desk, AuditFilter(date_from=date(2026, 3, 3), date_to=date(2026, 3, 5)))
    assert [r.action for r in days] == ["family.create", "family.foyer"]
    # The family filter works like the Familles search: no accents, no case.
    assert {r.family_id for r in audit_log.query(desk, AuditFilter(family_text="muller"))} == {ids["muller"]}
    assert audit_log.query(desk, AuditFilter(family_id=ids["weber"], user=AGENT.login)) == []
    assert audit_log.count(desk, AuditFilter(family_text="weber")) == 2
    assert audit_log.count(desk) == 5
    assert audit_log.users(desk) == [("mresp", "Marc Responsable"), ("sfoncin", "Sandrine Foncin")]
    assert ("family.archive", "Famille archivée") in audit_log.actions(desk)


def test_paging_by_keyset(desk):
    with desk.unit_of_work() as s:
        for i in range(450):
            desk.audit(s, "decide", "request", i, family_id=None, after={"status": "accepted"})
    seen = []
    page = audit_log.query(desk, limit=200)
    while page:
        seen += [r.id for r in page]
        page = audit_log.query(desk, before_id=page[-1].id, limit=200)
    assert len(seen) == 450 and seen == sorted(seen, reverse=True) and len(set(seen)) == 450
    assert audit_log.query(desk, limit=3)[0].action_label == "Demande traitée"


def test_only_supervisors_read_the_trail(desk, clock, agent_desk, responsable_desk):
    trail(desk, clock, agent_desk, responsable_desk)
    for call in (audit_log.query, audit_log.count, audit_log.users, audit_log.actions):
        with pytest.raises(PermissionDenied, match="Consulter le journal des opérations : réservé au rôle "
                                                   "« responsable » ou supérieur."):
            call(agent_desk)
    assert len(audit_log.query(responsable_desk)) == len(audit_log.query(desk)) == 5


def test_anonymisation_reads_plainly_in_the_journal(desk):
    from tests.families.test_retention import old_family
    from gandrange_desk.services.families import retention

    fid = old_family(desk)
    retention.anonymise(desk, [fid])
    rows = audit_log.query(desk, AuditFilter(family_id=fid))
    assert rows[0].action_label == "Famille anonymisée (RGPD)"
    assert rows[0].family_name.startswith("Famille anonymisée F-")
    assert "enfants : 2" in rows[0].change and "responsables : 2" in rows[0].change
    # The earlier entries no longer show the old values.
    assert all("Muller" not in r.change for r in rows)
    assert any("[anonymisé]" in r.change for r in rows)


def test_invoices_read_in_plain_french(desk, responsable_desk):
    with desk.unit_of_work() as s:
        responsable_desk.audit(s, "invoice.issue", "invoice", 621, after={
            "month": "2026-11-01", "number": "2026-000667", "total_cents": 15060})
        responsable_desk.audit(s, "invoice.send", "invoice", 621, after={
            "number": "2026-000667", "recipients": ["a@example.org", "b@example.org"]})
        responsable_desk.audit(s, "invoice.remind", "invoice", 622, after={
            "number": "2026-000668", "remaining_cents": 1234, "channel": "courrier"})
    remind, send, issue = audit_log.query(responsable_desk)
    assert (issue.action_label, issue.entity_text) == ("Facture émise", "Facture 2026-000667")
    assert issue.change == "mois : novembre 2026 ; numéro : 2026-000667 ; total : 150,60\u00a0€"
    assert send.change == "numéro : 2026-000667 ; destinataires : a@example.org, b@example.org"
    assert remind.change == "envoi : par courrier ; numéro : 2026-000668 ; reste dû : 12,34\u00a0€"
    assert "621" not in issue.entity_text + issue.change
