"""Two settings windows saving at the same moment: one saved, the other refused by name."""

from __future__ import annotations

import threading

from gandrange_desk.services.context import Actor


def test_two_settings_windows_saving_at_once(desk, monkeypatch):
    """Two windows opened on the same settings change different units and save together: one
    is saved, the other refused as stale by name (never a silent mix of both)."""
    from gandrange_desk.errors import StaleEdit
    from gandrange_desk.services.settings import service as svc
    from tests.builders import load_example_settings

    load_example_settings(desk)
    drafts = [svc.current_document(desk), svc.current_document(desk)]
    drafts[0].document["activity"][0]["unit"][0]["capacity"] = 31
    drafts[1].document["activity"][1]["unit"][0]["capacity"] = 41
    barrier = threading.Barrier(2, timeout=2)
    original = svc._keep_prices_and_smtp

    def held(spec, fresh):
        try:
            barrier.wait()
        except threading.BrokenBarrierError:
            pass
        original(spec, fresh)

    monkeypatch.setattr(svc, "_keep_prices_and_smtp", held)
    outcomes = {}

    def save(i, login):
        actor = desk.as_actor(Actor(login, login, "responsable"))
        try:
            svc.apply_document(actor, drafts[i].document, drafts[i].versions)
            outcomes[login] = "ok"
        except StaleEdit as exc:
            outcomes[login] = str(exc)

    threads = [threading.Thread(target=save, args=(0, "marc")), threading.Thread(target=save, args=(1, "nadia"))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["marc", "nadia"]
    winner = next(k for k, v in outcomes.items() if v == "ok")
    loser = next(k for k, v in outcomes.items() if v != "ok")
    assert f"modifiée par {winner}" in outcomes[loser] or f"modifiés par {winner}" in outcomes[loser]
    text = svc.export_text(desk)
    assert ("capacity = 31" in text) != ("capacity = 41" in text)
