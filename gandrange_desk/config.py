"""This workstation's own settings: which database it opens (never a password).

A small TOML file in the user's configuration folder (`GANDRANGE_DESK_CONFIG` names another
file, for tests and for an IT person who deploys it). Written by the first-run wizard; the
database URL in it comes after `--db` and `GANDRANGE_DESK_DB`, before the default SQLite file.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

ENV_CONFIG = "GANDRANGE_DESK_CONFIG"
FILE_NAME = "poste.toml"


def config_path() -> Path:
    override = os.environ.get(ENV_CONFIG)
    if override:
        return Path(override)
    from platformdirs import user_config_dir

    return Path(user_config_dir("gandrange-desk", "Commune de Gandrange", roaming=True)) / FILE_NAME


def load() -> dict:
    path = config_path()
    try:
        with path.open("rb") as fh:
            return tomllib.load(fh)
    except FileNotFoundError:
        return {}
    except (OSError, tomllib.TOMLDecodeError):
        return {}


def database_url() -> str | None:
    value = load().get("database", {}).get("url")
    return value if isinstance(value, str) and value.strip() else None


def _quote(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def save_database_url(url: str) -> Path:
    """Remember the database of this workstation (a URL without password)."""
    path = config_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    text = ("# Gandrange Desk — poste de travail (écrit par l'assistant de premier démarrage).\n"
            "# Le mot de passe PostgreSQL n'est jamais ici : il est dans le trousseau de Windows.\n"
            f"[database]\nurl = {_quote(url)}\n")
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)
    return path
