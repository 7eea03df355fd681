"""The after-paint warm-up: a background thread from source, the calling thread when frozen
(PyInstaller's importer is not safe for two importing threads)."""

from __future__ import annotations

import sys
import threading

from gandrange_desk import preload


def test_frozen_program_warms_up_on_the_calling_thread(monkeypatch):
    monkeypatch.setattr(sys, "frozen", True, raising=False)
    monkeypatch.delenv("GANDRANGE_DESK_NO_PRELOAD", raising=False)
    seen = []
    result = preload.warm_modules(("json",), then=lambda: seen.append(threading.current_thread()))
    assert result is None
    assert seen == [threading.current_thread()]


def test_from_source_warms_up_in_a_thread(monkeypatch):
    monkeypatch.delattr(sys, "frozen", raising=False)
    monkeypatch.delenv("GANDRANGE_DESK_NO_PRELOAD", raising=False)
    seen = []
    thread = preload.warm_modules(("json",), then=lambda: seen.append(threading.current_thread()))
    assert thread is not None
    thread.join(10)
    assert seen and seen[0] is not threading.current_thread()


def test_no_preload_switch_warms_nothing(monkeypatch):
    monkeypatch.setenv("GANDRANGE_DESK_NO_PRELOAD", "1")
    seen = []
    assert preload.warm_modules(("json",), then=lambda: seen.append(1)) is None
    assert seen == []
