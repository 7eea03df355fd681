"""Decisions taken one by one reach the family as one e-mail per family and activity.

The clerk presses A on three requests of one family in a row: each decision is its own
transaction, but the e-mail of the first waits a few minutes (`hold`) and the next ones join it,
so the family reads one message with the three dates. Leaving the family, or a grouped decision,
sends it at once; a message a sender already took is never rewritten.
"""

from __future__ import annotations

import json
from datetime import date, timedelta

import pytest
from sqlalchemy import select, update

from gandrange_desk.models import OutboxMessage, OutboxStatus
from gandrange_desk.services import queue
from gandrange_desk.services.intake import feed as intake
from gandrange_desk.services.mail import outbox
from gandrange_desk.services.mail.sender import claim_batch
from tests.builders import load_example_settings, make_family

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")

HOLD = timedelta(minutes=3)


@pytest.fixture
def office(desk, clock):
    clock.set(2026, 3, 11, 12, 0)
    load_example_settings(desk)
    make_family(desk, "Keller", ref="F-0042", guardians=[
        {"first_name": "Sophie", "last_name": "Keller", "email": "sophie.keller@example.org"}],
        children=[{"ref": "E-0107", "first_name": "Jules", "birth_date": date(2019, 5, 2)}])
    intake.import_feed(desk, json.dumps({"requests": [
        {"ref": f"P-{n}", "kind": "booking", "submitted_at": "2026-03-11T09:00:00+01:00", "family_ref": "F-0042",
         "child_ref": "E-0107", "activity": "PERISCOLAIRE", "unit": "Repas", "dates": [day]}
        for n, day in enumerate(["2026-03-13", "2026-03-16", "2026-03-17"])]}))
    return desk


def messages(desk) -> list[OutboxMessage]:
    with desk.read() as s:
        return list(s.execute(select(OutboxMessage).order_by(OutboxMessage.id)).scalars())


def one_by_one(desk, hold=HOLD):
    for item in sorted(queue.pending_items(desk), key=lambda i: i.day):
        queue.accept(desk, [item.id], hold=hold)


def test_three_presses_of_a_make_one_message_held_then_due(office, clock):
    one_by_one(office)
    [mail] = messages(office)
    assert "3 réservations acceptées les : 13/03, 16/03, 17/03" in mail.body_text
    assert len(mail.related_requests.split(",")) == 3
    assert mail.next_attempt_at == office.now() + HOLD
    assert claim_batch(office, 10, "test") == []  # not due yet: nothing leaves
    clock.value += HOLD
    assert claim_batch(office, 10, "test") == [mail.id]


def test_leaving_the_family_sends_it_now(office):
    one_by_one(office)
    changes = outbox.release_held(office, family_id=messages(office)[0].family_id)
    assert changes.outbox == 1
    [mail] = messages(office)
    assert (mail.next_attempt_at, mail.announce_key) == (office.now(), None)
    assert claim_batch(office, 10, "test") == [mail.id]


def test_a_grouped_decision_joins_and_releases_what_was_held(office):
    first = sorted(queue.pending_items(office), key=lambda i: i.day)[0]
    queue.accept(office, [first.id], hold=HOLD)
    result = queue.accept(office, None)  # "Tout accepter": leaves at once
    assert result.messages == 1
    [mail] = messages(office)
    assert "3 réservations acceptées les : 13/03, 16/03, 17/03" in mail.body_text
    assert mail.next_attempt_at == office.now()


def test_a_message_a_sender_took_is_never_rewritten(office):
    items = sorted(queue.pending_items(office), key=lambda i: i.day)
    queue.accept(office, [items[0].id], hold=HOLD)
    with office.unit_of_work() as s:  # a sender claimed it (the hold ended on its clock)
        s.execute(update(OutboxMessage).values(status=OutboxStatus.SENDING, claimed_by="autre poste"))
    queue.accept(office, [items[1].id], hold=HOLD)
    first, second = messages(office)
    assert "1 réservation acceptée le : 13/03" in first.body_text
    assert "1 réservation acceptée le : 16/03" in second.body_text
    assert first.status == OutboxStatus.SENDING and second.status == OutboxStatus.PENDING


def test_refusals_one_by_one_keep_their_reasons(office):
    for item, reason in zip(sorted(queue.pending_items(office), key=lambda i: i.day),
                            ["Plus de place disponible.", "Plus de place disponible.", "Demande en double."]):
        queue.refuse(office, [item.id], reason, hold=HOLD)
    [mail] = messages(office)
    assert "2 réservations refusées les : 13/03, 16/03\nMotif : Plus de place disponible." in mail.body_text
    assert "1 réservation refusée le : 17/03\nMotif : Demande en double." in mail.body_text


def test_release_leaves_alone_what_another_clerk_holds(office):
    from tests.conftest import AGENT

    items = sorted(queue.pending_items(office), key=lambda i: i.day)
    queue.accept(office.as_actor(AGENT), [items[0].id], hold=HOLD)
    assert outbox.release_held(office, created_by="autre").outbox == 0  # another workstation closes
    assert outbox.release_held(office, [items[0].family_id], created_by=AGENT.login).outbox == 1
    [mail] = messages(office)
    assert mail.next_attempt_at == office.now()


def test_the_command_line_sends_at_once_with_what_was_held(office, db_url, capsys, clock):
    from gandrange_desk.cli import main
    from gandrange_desk.clock import now

    clock.value = now()  # the command runs on the real clock: the window holds on it too
    items = sorted(queue.pending_items(office), key=lambda i: i.day)
    queue.accept(office, [items[0].id], hold=HOLD)  # the window held a Périscolaire e-mail
    # A MERCREDI cancellation of the same family, decided from the command line.
    intake.import_feed(office, json.dumps({"requests": [
        {"ref": "P-M", "kind": "booking", "submitted_at": "2026-03-11T09:30:00+01:00", "family_ref": "F-0042",
         "child_ref": "E-0107", "activity": "MERCREDI", "unit": "Journée complète", "dates": ["2026-03-18"]}]}))
    mercredi = next(i for i in queue.pending_items(office) if i.ref == "P-M")
    assert main(["--db", db_url, "queue", "accept", str(mercredi.id)]) == 0
    assert "1 demande acceptée, 1 e-mail mis en file d'envoi." in capsys.readouterr().out
    mails = messages(office)
    assert len(mails) == 2 and all(m.announce_key is None and m.next_attempt_at <= now() for m in mails)
