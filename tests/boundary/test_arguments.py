"""Issue 11: command arguments a person may mistype get one French sentence and a non-zero
status, on both databases; nothing is written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gandrange_desk.cli import main
from gandrange_desk.models import AuditEntry, Invoice
from tests.builders import load_example_settings

HUGE = "12345678901234567890123"

pytestmark = pytest.mark.usefixtures("cli_user")


@pytest.fixture
def base(desk, clock, db_url):
    clock.set(2026, 3, 11, 12, 0)
    load_example_settings(desk)
    return db_url


def run(capsys, *argv) -> tuple[int, str]:
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse's usage errors
        code = exc.code
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, out.err.strip().splitlines()[0] if out.err.strip() else ""


@pytest.mark.parametrize("argv, code, message", [
    (["invoices", "prepare", "--month", "9999-12"], 1,
     "Mois invalide : « 9999-12 » hors des années admises (2000 à 2100)."),
    (["invoices", "prepare", "--month", "2026-13"], 1,
     "Mois invalide : « 2026-13 » (attendu AAAA-MM, par exemple 2026-11)."),
    (["sepa", "preview", "--month", "9999-12"], 1,
     "Mois illisible : « 9999-12 » hors des années admises (2000 à 2100)."),
    (["export", "grid", "--month", "9999-12", "--out", "grille.csv"], 1,
     "Mois invalide : « 9999-12 » hors des années admises (2000 à 2100)."),
    (["lists", "day", "--date", "9999-12-31", "--out", "liste.csv"], 1,
     "Date refusée pour le jour des listes : « 9999-12-31 » hors des années admises (2000 à 2100)."),
    (["queue", "accept", HUGE], 2,
     f"Commande invalide (gandrange-desk queue accept) : argument ID : numéro de demande invalide : "
     f"« {HUGE} » (un nombre entier positif attendu)."),
    (["payments", "reverse", HUGE, "--reason", "erreur"], 2,
     f"Commande invalide (gandrange-desk payments reverse) : argument ID : numéro invalide : « {HUGE} » "
     "(un nombre entier positif attendu)."),
    (["outbox", "list", "--family", "F-\udcff"], 2,
     "Argument n° 6 illisible : « F-� » n'est pas du texte UTF-8."),
])
def test_bad_arguments_get_a_french_sentence(base, capsys, tmp_path, monkeypatch, argv, code, message):
    monkeypatch.chdir(tmp_path)
    before = _audit_count(base)
    assert run(capsys, "--db", base, *argv) == (code, message)
    assert _audit_count(base) == before


def test_a_feed_that_is_not_a_regular_file_is_refused(base, capsys):
    assert run(capsys, "--db", base, "intake", "/dev/zero") == (
        1, "Flux refusé : /dev/zero n'est pas un fichier ordinaire.")


def _audit_count(url) -> int:
    from gandrange_desk.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(AuditEntry)).scalar() + \
                conn.execute(select(func.count()).select_from(Invoice)).scalar()
    finally:
        engine.dispose()
