"""Where passwords live: a keyring when the machine has one, else the session; never a file."""

from __future__ import annotations

import keyring
import pytest
from keyring.backend import KeyringBackend

from gandrange_desk.services.system import secrets


class MemoryKeyring(KeyringBackend):
    priority = 1

    def __init__(self):
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service, username):
        return self.store.get((service, username))

    def set_password(self, service, username, password):
        self.store[(service, username)] = password

    def delete_password(self, service, username):
        self.store.pop((service, username), None)


@pytest.fixture
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)
        secrets.forget_session()


def test_no_backend_keeps_the_password_for_the_session_only(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    assert not secrets.keyring_available()
    assert secrets.get_smtp_password("periscolaire", "smtp.example.org") is None
    try:
        assert secrets.set_smtp_password("periscolaire", "smtp.example.org", "s3cret") is False
        assert secrets.get_smtp_password("periscolaire", "smtp.example.org") == "s3cret"
        assert secrets.smtp_password_source("periscolaire", "smtp.example.org") == "session"
        assert list(tmp_path.iterdir()) == []  # nothing written next to us
    finally:
        secrets.forget_session()
    assert secrets.get_smtp_password("periscolaire", "smtp.example.org") is None
    assert "GANDRANGE_DESK_SMTP_PASSWORD" in secrets.NO_BACKEND_SMTP


def test_keyring_entries_use_the_documented_names(memory_keyring):
    assert secrets.keyring_available()
    assert secrets.set_smtp_password("periscolaire", "smtp.example.org", "motdepasse") is True
    assert memory_keyring.store == {("gandrange-desk", "smtp:periscolaire@smtp.example.org"): "motdepasse"}
    assert secrets.smtp_password_source("periscolaire", "smtp.example.org") == "keyring"
    assert secrets.set_postgres_password("desk", "db.mairie", "pg") is True
    assert memory_keyring.store[("gandrange-desk", "postgresql:desk@db.mairie")] == "pg"
    assert secrets.get_postgres_password("desk", "db.mairie") == "pg"


def test_environment_variable_wins_over_the_keyring(memory_keyring, monkeypatch):
    secrets.set_smtp_password("periscolaire", "smtp.example.org", "du-trousseau")
    monkeypatch.setenv(secrets.ENV_SMTP_PASSWORD, "de-l-environnement")
    assert secrets.get_smtp_password("periscolaire", "smtp.example.org") == "de-l-environnement"
    assert secrets.smtp_password_source("periscolaire", "smtp.example.org") == "env"
