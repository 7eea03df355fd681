"""Passwords for the SMTP and PostgreSQL servers: the OS keyring, an environment variable, or
the running session — never a file.

Keyring entries use the service `gandrange-desk` and the username `smtp:{user}@{host}` or
`postgresql:{user}@{host}`. Where the machine has no keyring backend (a bare Linux box, the
tests), the window asks and keeps the password in `_SESSION` for the life of the process, and
the command reads the environment variable.
"""

from __future__ import annotations

import os

KEYRING_SERVICE = "gandrange-desk"
ENV_SMTP_PASSWORD = "GANDRANGE_DESK_SMTP_PASSWORD"
ENV_DB_PASSWORD = "GANDRANGE_DESK_DB_PASSWORD"

NO_BACKEND_SMTP = (
    "Aucun trousseau de mots de passe n'est disponible sur ce poste : définissez la variable "
    f"d'environnement {ENV_SMTP_PASSWORD}, ou cliquez « Envoyer maintenant » (onglet Courriels) : "
    "le mot de passe vous est demandé et gardé pour la session seulement."
)

# Passwords typed in the window on a machine without keyring: memory only, this process only.
_SESSION: dict[str, str] = {}


def smtp_account(user: str, host: str) -> str:
    return f"smtp:{user}@{host}"


def postgres_account(user: str, host: str) -> str:
    return f"postgresql:{user}@{host}"


def keyring_available() -> bool:
    """True when a real keyring backend (Windows Credential Manager, Secret Service…) exists."""
    try:
        import keyring
        from keyring.backends import fail, null

        backend = keyring.get_keyring()
    except Exception:
        return False
    chained = getattr(backend, "backends", None)
    if chained is not None:  # ChainerBackend: usable if any member is
        return any(not isinstance(b, (fail.Keyring, null.Keyring)) for b in chained)
    return not isinstance(backend, (fail.Keyring, null.Keyring))


def _keyring_get(account: str) -> str | None:
    if not keyring_available():
        return None
    try:
        import keyring

        return keyring.get_password(KEYRING_SERVICE, account)
    except Exception:  # a locked or broken keyring reads as "nothing stored"
        return None


def _lookup(account: str, env_var: str) -> tuple[str | None, str]:
    """The password and where it came from: 'session', 'env', 'keyring' or ''."""
    if account in _SESSION:
        return _SESSION[account], "session"
    env = os.environ.get(env_var)
    if env:
        return env, "env"
    stored = _keyring_get(account)
    if stored:
        return stored, "keyring"
    return None, ""


def get_smtp_password(user: str, host: str) -> str | None:
    return _lookup(smtp_account(user, host), ENV_SMTP_PASSWORD)[0]


def smtp_password_source(user: str, host: str) -> str:
    return _lookup(smtp_account(user, host), ENV_SMTP_PASSWORD)[1]


def set_smtp_password(user: str, host: str, password: str) -> bool:
    """Keep the password: in the keyring when there is one (True), else for this session (False)."""
    return _store(smtp_account(user, host), password)


def get_postgres_password(user: str, host: str) -> str | None:
    return _lookup(postgres_account(user, host), ENV_DB_PASSWORD)[0]


def set_postgres_password(user: str, host: str, password: str) -> bool:
    return _store(postgres_account(user, host), password)


def remember_postgres_for_session(user: str, host: str, password: str) -> None:
    _SESSION[postgres_account(user, host)] = password


def _store(account: str, password: str) -> bool:
    if keyring_available():
        try:
            import keyring

            keyring.set_password(KEYRING_SERVICE, account, password)
            _SESSION.pop(account, None)
            return True
        except Exception:
            pass
    _SESSION[account] = password
    return False


def forget_session() -> None:
    _SESSION.clear()


def desk_account(login: str) -> str:
    return f"desk:{login}"


def get_desk_password(login: str) -> str | None:
    """A desk user's password for the command line (scheduled tasks): the keyring only."""
    return _keyring_get(desk_account(login))


def set_desk_password(login: str, password: str) -> bool:
    return _store(desk_account(login), password) if keyring_available() else False
