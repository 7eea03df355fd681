"""What the first-run wizard does, without Qt: the base, the first administrator, the structure."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.engine import URL

from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.models import School, Structure

SQLITE_NAME = "gandrange-desk.sqlite3"
DEMO_NAME = "demonstration.sqlite3"


@dataclass
class StructureForm:
    name: str = ""
    address: str = ""
    email: str = ""
    phone: str = ""
    school_zone: str = "B"
    holiday_subdivision: str = "57"
    schools: list[str] = field(default_factory=list)


def sqlite_in_folder(folder: str) -> URL:
    """The SQLite base of a chosen folder; refused on a network drive or a missing folder."""
    from gandrange_desk.db import sqlite_url

    if not folder.strip():
        raise DeskError("Choisissez le dossier de la base.")
    url = sqlite_url(Path(folder.strip()) / SQLITE_NAME)  # refuses network drives first
    if not Path(folder.strip()).expanduser().is_dir():
        raise DeskError(f"Le dossier {folder} n'existe pas.")
    return url


def postgres_url(host: str, port: int, database: str, user: str) -> URL:
    problems = []
    if not host.strip():
        problems.append("L'adresse du serveur PostgreSQL est obligatoire.")
    if not database.strip():
        problems.append("Le nom de la base est obligatoire.")
    if not user.strip():
        problems.append("L'utilisateur PostgreSQL est obligatoire.")
    if problems:
        raise ValidationFailed(problems)
    return URL.create("postgresql+psycopg", username=user.strip(), host=host.strip(), port=port,
                      database=database.strip())


def test_postgres(url: URL, password: str) -> bool:
    """Connect once with the typed password; keep it in the keyring (True) or for this session."""
    from gandrange_desk.db import make_engine
    from gandrange_desk.services.system import secrets

    engine = make_engine(url.set(password=password) if password else url)
    engine.dispose()
    if not password:
        return False
    return secrets.set_postgres_password(url.username or "", url.host or "localhost", password)


def prepare_base(url: URL):
    """Open the base and create or migrate its schema: the Desk the next steps use."""
    from gandrange_desk.db import make_engine
    from gandrange_desk.services.context import Desk
    from gandrange_desk.services.system import schema

    engine = make_engine(url)
    schema.upgrade_on_start(engine)
    return Desk(engine)


def has_structure(desk) -> bool:
    with desk.read() as s:
        return s.execute(select(Structure.id).limit(1)).first() is not None


def create_structure(desk, form: StructureForm) -> None:
    """The structure's identity and schools; activities and tariffs come next, in Réglages."""
    import holidays

    problems = []
    if not form.name.strip():
        problems.append("Le nom de la structure est obligatoire.")
    if form.school_zone not in ("A", "B", "C"):
        problems.append("Zone scolaire : A, B ou C.")
    if form.holiday_subdivision and form.holiday_subdivision not in holidays.France.subdivisions:
        problems.append(f"Département inconnu pour les jours fériés : « {form.holiday_subdivision} » "
                        "(par exemple 57 pour la Moselle).")
    schools = [name.strip() for name in form.schools if name.strip()]
    if not schools:
        problems.append("Indiquez au moins une école (une par ligne).")
    if len(set(schools)) != len(schools):
        problems.append("Une école est en double.")
    if problems:
        raise ValidationFailed(problems)
    with desk.unit_of_work() as s:
        if s.execute(select(Structure.id).limit(1)).first() is not None:
            raise DeskError("La structure existe déjà : modifiez-la dans Réglages.")
        values = {"name": form.name.strip(), "address": form.address.strip(), "email": form.email.strip(),
                  "phone": form.phone.strip(), "school_zone": form.school_zone,
                  "holiday_subdivision": form.holiday_subdivision}
        row = Structure(**values)
        s.add(row)
        s.flush()
        desk.audit(s, "settings.structure.create", "structure", row.id, after=values)
        for position, name in enumerate(schools):
            s.add(School(name=name, position=position))


def build_demo(folder: Path, progress=None) -> Path:
    """A separate demonstration base (never the real one), built once."""
    from gandrange_desk.db import sqlite_url
    from gandrange_desk.demo import run_demo

    path = folder / DEMO_NAME
    if path.exists():
        return path
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / ("." + DEMO_NAME + ".partiel")
    partial.unlink(missing_ok=True)
    desk = prepare_base(sqlite_url(partial))
    try:
        run_demo(desk, progress=progress) if progress is not None else run_demo(desk)
    finally:
        desk.engine.dispose()
    partial.replace(path)
    return path
