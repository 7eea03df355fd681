"""The portal feed: every kind, all or nothing, idempotent by ref, lateness judged on submitted_at."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from gandrange_desk.cli import main
from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.models import (
    AuditEntry, Booking, CellState, Child, Family, FeedEntry, OutboxMessage, Request, RequestKind,
    RequestStatus,
)
from gandrange_desk.services.reservations import bookings
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.services import queue
from gandrange_desk.services.calendar import Calendar
from tests.builders import load_example_settings, make_family, unit_id

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")


def counts(desk) -> dict:
    with desk.read() as s:
        return {m.__name__: s.execute(select(func.count()).select_from(m)).scalar()
                for m in (Request, FeedEntry, Booking, Family, Child, OutboxMessage)}


@pytest.fixture
def office(desk, clock):
    """Settings of the example and one family (F-0042, child E-0107), on 11 March 2026."""
    clock.set(2026, 3, 11, 12, 0)
    load_example_settings(desk)
    make_family(desk, "Keller", ref="F-0042", children=[
        {"ref": "E-0107", "first_name": "Jules", "birth_date": date(2019, 5, 2)}])
    make_family(desk, "Muller", ref="F-0050", children=[{"ref": "E-0200", "first_name": "Léa"}])
    return desk


def entry(ref, kind="booking", **kw):
    base = {"ref": ref, "kind": kind, "submitted_at": "2026-03-11T09:12:00+01:00"}
    if kind != "registration":
        base["family_ref"] = "F-0042"
    if kind in ("booking", "cancellation", "period_booking"):
        base.update({"child_ref": "E-0107", "activity": "PERISCOLAIRE", "unit": "Repas"})
    if kind in ("booking", "cancellation"):
        base["dates"] = ["2026-03-13"]
    base.update(kw)
    return base


def feed(*entries) -> str:
    return json.dumps({"requests": list(entries)})


def test_booking_becomes_dr_with_lateness_judged_on_submitted_at(office):
    result = intake.import_feed(office, feed(
        entry("P-1", dates=["2026-03-13", "2026-03-16"]),  # 13/03 deadline 11/03 10:00: on time
        entry("P-2", dates=["2026-03-12"], submitted_at="2026-03-11T10:30:00+01:00"),  # late
    ))
    assert (result.entries, result.requests, result.late) == (2, 3, 1)
    items = queue.pending_items(office)
    assert [(i.ref, i.day, i.late, i.kind) for i in sorted(items, key=lambda i: i.day)] == [
        ("P-2", date(2026, 3, 12), True, "booking"),
        ("P-1", date(2026, 3, 13), False, "booking"),
        ("P-1", date(2026, 3, 16), False, "booking")]
    with office.read() as s:
        assert set(s.execute(select(Booking.state)).scalars()) == {CellState.DR}


def test_same_feed_twice_changes_nothing(office):
    data = feed(entry("P-1"), entry("P-3", kind="family_change", changes={"address.city": "Rombas"}))
    intake.import_feed(office, data)
    before = counts(office)
    again = intake.import_feed(office, data)
    assert again.entries == 0 and again.skipped == ["P-1", "P-3"]
    assert counts(office) == before
    assert "2 entrées déjà importées ignorées" in again.summary()


def test_bad_feed_is_refused_whole_with_one_line_per_problem(office):
    bad = feed(
        entry("P-1"),  # fine, but the file is refused whole
        entry("P-2", family_ref="F-9999"),
        entry("P-3", child_ref="E-0200"),  # Léa is not a Keller
        entry("P-4", dates=["2026-03-14"]),  # Saturday
        entry("P-5", dates=["2026-13-01"]),
        entry("P-6", activity="PISCINE"),
        entry("P-7", unit="Goûter"),
        entry("P-8", submitted_at="2026-03-12T08:00:00+01:00"),  # tomorrow
        entry("P-9", kind="registration", family={"ref": "F-2000", "name": "Weber", "guardians": [
            {"first_name": "Anne", "last_name": "Weber"}], "children": [
            {"ref": "E-3000", "first_name": "Tom", "last_name": "Weber", "birth_date": "2019-01-01",
             "school": "Collège Jean Moulin"}]}),
        {"ref": "P-10", "kind": "booking"},
        entry("P-11", dates="2026-03-13"),
        entry("P-12", kind="holiday"),
    )
    before = counts(office)
    with pytest.raises(ValidationFailed) as info:
        intake.import_feed(office, bad)
    lines = info.value.problems
    text = "\n".join(lines)
    assert "Entrée P-2 : famille inconnue : « F-9999 »." in lines
    assert "Entrée P-3 : l'enfant E-0200 n'est pas un enfant de la famille F-0042." in lines
    assert "Entrée P-4 : le 14/03/2026 est fermé pour PERISCOLAIRE (Week-end)." in lines
    assert "Entrée P-5 : date invalide dans « dates[0] » : « 2026-13-01 » (attendu AAAA-MM-JJ)." in lines
    assert "Entrée P-6 : activité inconnue : « PISCINE »." in lines
    assert "Entrée P-7 : unité inconnue pour l'activité PERISCOLAIRE : « Goûter »." in lines
    assert "Entrée P-8 : « submitted_at » est dans le futur (12/03/2026 à 08:00)." in lines
    assert ("Entrée P-9 : école inconnue pour E-3000 : « Collège Jean Moulin » "
            "(écoles : École maternelle, École élémentaire).") in lines
    assert "Entrée P-10 : « submitted_at » manquant." in lines and "Entrée P-10 : « family_ref » manquant." in lines
    assert "Entrée P-11 : « dates » doit être une liste non vide de dates AAAA-MM-JJ." in lines
    assert "Entrée P-12 : « kind » inconnu" in text
    assert "P-1 " not in text and "P-1:" not in text
    assert str(info.value).startswith("Flux refusé, rien n'a été importé")
    assert counts(office) == before


def test_closed_days_name_their_reason(office):
    with pytest.raises(ValidationFailed) as info:
        intake.import_feed(office, feed(entry("P-1", dates=["2026-04-03", "2026-04-14", "2026-12-24"],
                                              submitted_at="2026-03-01T08:00:00+01:00")))
    assert info.value.problems == [
        "Entrée P-1 : le 03/04/2026 est fermé pour PERISCOLAIRE (Jour férié : Vendredi saint).",
        "Entrée P-1 : le 14/04/2026 est fermé pour PERISCOLAIRE (Vacances scolaires (zone B) : Vacances de printemps).",
        "Entrée P-1 : le 24/12/2026 est fermé pour PERISCOLAIRE (Fermeture).",
    ]


def test_past_days_are_taken_and_flagged(office, clock):
    clock.set(2026, 4, 20, 9, 0)  # the office imports a feed after the spring holidays
    result = intake.import_feed(office, feed(entry("P-1", dates=["2026-03-13", "2026-03-16"])))
    assert result.past_days == 2 and result.late == 0  # asked in time, decided late
    assert all(i.past and not i.late for i in queue.pending_items(office))
    assert "2 jours déjà passés" in result.summary()


def test_period_booking_keeps_open_days_of_the_week_type(office):
    result = intake.import_feed(office, feed(
        entry("P-1", kind="period_booking", **{"from": "2026-03-16", "to": "2026-04-17",
                                                "week_type": "odd", "weekdays": ["mon", "thu"]}),
    ))
    days = sorted(i.day for i in queue.pending_items(office))
    # odd ISO weeks 13 (23-27/03) and 15 (06/04 is Easter Monday); 13-17/04: spring holidays
    assert days == [date(2026, 3, 23), date(2026, 3, 26), date(2026, 4, 9)]
    assert all(d.isocalendar()[1] % 2 == 1 for d in days)
    assert result.requests == 3
    even = intake.import_feed(office, feed(
        entry("P-2", kind="period_booking", **{"from": "2026-03-16", "to": "2026-04-10",
                                                "week_type": "even", "weekdays": ["mon"]})))
    assert even.requests == 2  # 16/03 (week 12) and 30/03 (week 14); 06/04 is Easter Monday


def test_period_booking_problems(office):
    with pytest.raises(ValidationFailed) as info:
        intake.import_feed(office, feed(
            entry("P-1", kind="period_booking", **{"from": "2026-04-13", "to": "2026-04-17",
                                                    "week_type": "all", "weekdays": ["mon"]}),
            entry("P-2", kind="period_booking", **{"from": "2026-04-20", "to": "2026-04-01",
                                                    "week_type": "weekly", "weekdays": ["monday"]}),
        ))
    assert info.value.problems == [
        "Entrée P-1 : aucun jour ouvert de PERISCOLAIRE entre le 13/04/2026 et le 17/04/2026 pour ces jours et ce type de semaine.",
        "Entrée P-2 : « week_type » doit être all, even ou odd, pas « weekly ».",
        "Entrée P-2 : jour de semaine inconnu dans « weekdays » : « monday ».",
        "Entrée P-2 : la période commence après sa fin (20/04/2026 > 01/04/2026).",
    ]


def test_cancellation_goes_through_the_cell_rules(office):
    with office.unit_of_work() as s:
        child = s.execute(select(Child).where(Child.ref == "E-0107")).scalar_one()
        from gandrange_desk.models import Unit
        unit = s.get(Unit, unit_id(s, "PERISCOLAIRE", "Repas"))
        bookings.ask_booking(s, office, Calendar.load(s), child, unit, date(2026, 3, 19),
                             source="desk_office", submitted_at=office.now())
    result = intake.import_feed(office, feed(
        entry("P-1", kind="cancellation", dates=["2026-03-19"]),
        entry("P-2", dates=["2026-03-20"], submitted_at="2026-03-11T08:00:00+01:00"),
        entry("P-3", kind="cancellation", dates=["2026-03-20"]),  # its DR, not yet decided: withdrawn
    ))
    assert result.requests == 3
    items = queue.pending_items(office)
    assert [(i.kind, i.day, i.proposed_billing) for i in items] == [
        ("cancellation", date(2026, 3, 19), "excused")]
    with pytest.raises(ValidationFailed) as info:
        intake.import_feed(office, feed(entry("P-4", kind="cancellation", dates=["2026-03-23"])))
    assert info.value.problems[0].startswith("Entrée P-4 : 23/03/2026 : Jules Keller — Repas du lundi 23/03/2026 : "
                                             "impossible d'annuler, la case est vide.")


def test_example_feed_registration_then_its_requests(desk, clock, feed_path):
    clock.set(2026, 9, 26, 9, 0)
    load_example_settings(desk)
    result = intake.import_feed_file(desk, feed_path)
    assert (result.entries, result.registrations, result.waiting) == (5, 1, 4)
    items = queue.pending_items(desk)
    assert [(i.kind, i.family_ref, i.family_name) for i in items] == [("registration", "F-1001", "Keller")]
    assert counts(desk)["Family"] == 0
    assert intake.import_feed_file(desk, feed_path).skipped == ["P-100001", "P-100002", "P-100003",
                                                                 "P-100004", "P-100005"]
    decided = queue.accept(desk, [items[0].id])
    ref, login, password, mailed = decided.credentials[0]
    assert (ref, login, mailed) == ("F-1001", "sophie.keller@example.org", True)
    items = queue.pending_items(desk)
    kinds = [(i.kind, i.activity_code, i.unit_name) for i in items]
    # 27 school days booked from the period, 22/09 withdrawn by the cancellation; 2 Wednesdays
    assert kinds.count(("booking", "PERISCOLAIRE", "Repas")) == 26
    assert kinds.count(("booking", "MERCREDI", "Journée complète")) == 2
    assert kinds.count(("family_change", "", "")) == 1
    assert date(2026, 9, 22) not in [i.day for i in items]
    assert all(i.past for i in items if i.day and i.day < date(2026, 9, 26))


def test_family_change_validation(office):
    with pytest.raises(ValidationFailed) as info:
        intake.import_feed(office, feed(
            entry("P-1", kind="family_change", changes={"guardians[3].phone": "06", "iban": "FR76",
                                                         "address.city": 57}),
            entry("P-2", kind="family_change", changes={}),
        ))
    assert info.value.problems == [
        "Entrée P-1 : « guardians[3].phone » : la famille F-0042 n'a pas de responsable n° 4.",
        "Entrée P-1 : champ modifiable inconnu : « iban ».",
        "Entrée P-1 : la nouvelle valeur de « address.city » doit être un texte, pas un nombre.",
        "Entrée P-2 : « changes » doit être un objet non vide (champ → nouvelle valeur).",
    ]


@pytest.mark.parametrize("data, message", [
    (b"", "Flux refusé : JSON invalide ligne 1, colonne 1 (valeur attendue)."),
    (b'{"requests": [', "Flux refusé : JSON invalide ligne 1, colonne 15 (valeur attendue)."),
    (b"\xff\xfe", "Flux refusé : le fichier n'est pas en UTF-8 (octet 0)."),
    (b"[]", "Flux refusé : le document doit être un objet JSON avec une liste « requests »."),
    (b'{"requests": {}}', "Flux refusé : « requests » doit être une liste."),
    (b"[" * 100000, "Flux refusé : JSON invalide ou trop profondément imbriqué."),
])
def test_unreadable_documents(office, data, message):
    with pytest.raises(DeskError) as info:
        intake.import_feed(office, data)
    assert str(info.value) == message


def test_intake_command(office, db_url, tmp_path, capsys):
    path = tmp_path / "feed.json"
    path.write_text(feed(entry("P-1"), entry("P-2", family_ref="F-9")), encoding="utf-8")
    assert main(["--db", db_url, "intake", str(path)]) == 1
    err = capsys.readouterr().err
    assert "Entrée P-2 : famille inconnue : « F-9 »." in err and "Traceback" not in err
    path.write_text(feed(entry("P-1")), encoding="utf-8")
    assert main(["--db", db_url, "intake", str(path)]) == 0
    assert capsys.readouterr().out.startswith("Flux importé : 1 entrée importée, 1 demande de case")
    assert main(["--db", db_url, "intake", str(tmp_path / "missing.json")]) == 1
    assert "Fichier introuvable" in capsys.readouterr().err
    with office.read() as s:
        assert s.execute(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.action == "feed.import")).scalar() == 1


def test_period_booking_leaves_cells_already_booked(office):
    intake.import_feed(office, feed(entry("P-1", dates=["2026-03-16"])))
    result = intake.import_feed(office, feed(
        entry("P-2", kind="period_booking", **{"from": "2026-03-16", "to": "2026-03-20",
                                                "week_type": "all", "weekdays": ["mon", "tue"]})))
    assert (result.requests, result.already) == (1, 1)
    assert "1 case déjà réservée ou demandée laissée telle quelle" in result.summary()
    with pytest.raises(ValidationFailed) as info:  # an explicit date on a taken cell is an error
        intake.import_feed(office, feed(entry("P-3", dates=["2026-03-16"])))
    assert "une demande est déjà en attente sur cette case" in info.value.problems[0]


def test_same_feed_from_two_workstations_at_once(office):
    import threading

    data = feed(entry("P-1"), entry("P-2", dates=["2026-03-16"]))
    results, errors = [], []

    def run():
        try:
            results.append(intake.import_feed(office, data))
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(repr(exc))

    threads = [threading.Thread(target=run) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    assert sorted(r.entries for r in results) == [0, 0, 2]
    assert counts(office)["Request"] == 2


def test_a_second_import_checked_while_the_first_commits_skips_its_refs(office, monkeypatch):
    """The second workstation checks its refs before the first commits and its cells after:
    it must still skip the taken refs, not refuse its own requests as « déjà en attente »."""
    import threading
    import time

    from gandrange_desk.services.intake import feed as feed_module

    checked = feed_module.check_feed

    def slow_check(*args, **kwargs):
        out = checked(*args, **kwargs)
        time.sleep(0.6)  # between the refs' check and the cells' load
        return out

    monkeypatch.setattr(feed_module, "check_feed", slow_check)
    data = feed(entry("P-1"), entry("P-2", dates=["2026-03-16"]))
    results, errors = [], []

    def run():
        try:
            results.append(intake.import_feed(office, data))
        except Exception as exc:  # noqa: BLE001 - the test reports any failure
            errors.append(repr(exc))

    first = threading.Thread(target=run)
    second = threading.Thread(target=run)
    first.start()
    time.sleep(0.3)
    second.start()
    for t in (first, second):
        t.join(60)
    assert errors == []
    assert sorted(r.entries for r in results) == [0, 2]
    assert counts(office)["Request"] == 2
