"""A bad settings file is refused whole: one French line per problem, with its place; nothing written."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from gandrange_desk.cli import main
from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import Activity, AuditEntry, School, Structure, Tariff
from gandrange_desk.services.settings.service import import_settings
from gandrange_desk.services.settings.toml import parse_settings

# Commands act as an authenticated desk user (tests/conftest.py).
pytestmark = pytest.mark.usefixtures("cli_user")


@pytest.fixture
def example(settings_path) -> str:
    return settings_path.read_text(encoding="utf-8")


def problems_of(text: str) -> list[str]:
    with pytest.raises(ValidationFailed) as err:
        parse_settings(text)
    return err.value.problems


CASES = [
    # (replace this, by that, expected line)
    ('phone = "03 87 67 17 79"', 'phone = "03 87 67 17 79"\ncolour = "bleu"', "structure.colour : clé inconnue"),
    ('name = "Service Enfance-Jeunesse — Commune de Gandrange"\n', "",
     "structure.name : clé obligatoire manquante"),
    ('closures = [["2026-12-24", "2026-12-24"]]', 'closures = [["2026-12-24", "2026-13-02"]]',
     "structure.closures[0][1] : date invalide « 2026-13-02 » (attendu AAAA-MM-JJ, par exemple \"2026-05-15\")"),
    ('closures = [["2026-12-24", "2026-12-24"]]', 'closures = [["2026-12-24", "2026-12-20"]]',
     "structure.closures[0] : le dernier jour (2026-12-20) précède le premier (2026-12-24)"),
    ('price = "3.30"', 'price = "3,3O"',
     "activity[0].unit[1].prices[0].price : prix invalide « 3,3O » (attendu par exemple \"3.10\")"),
    ('price = "3.30"', 'price = "3.305"', "activity[0].unit[1].prices[0].price : prix invalide « 3.305 » : "
                                         "au plus deux décimales"),
    ('price = "3.30"', "price = 3.305", "activity[0].unit[1].prices[0].price : prix invalide « 3.305 » : "
                                       "au plus deux décimales"),
    ('price = "3.30"', "price = -3.30", "activity[0].unit[1].prices[0].price : prix négatif « -3.3 »"),
    ('price = "3.30"', 'price = "-3.30"',
     "activity[0].unit[1].prices[0].price : prix négatif « -3.30 »"),
    ('weekdays = ["mon", "tue", "thu", "fri"]', 'weekdays = ["mon", "tue", "jeu", "fri"]',
     "activity[0].weekdays[2] : jour inconnu « jeu » (mon, tue, wed, thu, fri, sat ou sun)"),
    ('name = "Matin"', 'name = "Journée complète"',
     "activity[1].unit[1].name : unité en double « Journée complète » (déjà définie en unit[0])"),
    ('code = "VACANCES"', 'code = "MERCREDI"',
     "activity[2].code : code d'activité en double « MERCREDI » (déjà utilisé par activity[1])"),
    ('opens = "wednesdays"', 'opens = "mercredis"',
     "activity[1].opens : valeur inconnue « mercredis » (school_days, wednesdays ou holiday_weekdays)"),
    ('school_zone = "B"', 'school_zone = "D"', "structure.school_zone : zone inconnue « D » (A, B ou C)"),
    ('holiday_subdivision = "57"', 'holiday_subdivision = "99"',
     "structure.holiday_subdivision : subdivision inconnue « 99 » (par exemple \"57\" pour la Moselle)"),
    ('booking_deadline = { working_days = 2, time = "10:00" }',
     'booking_deadline = { working_days = 2, time = "25:00" }',
     "activity[0].booking_deadline.time : heure invalide « 25:00 » (attendu HH:MM, par exemple \"10:00\")"),
    ('booking_deadline = { working_days = 2, time = "10:00" }',
     'booking_deadline = { working_days = -1, time = "10:00" }',
     "activity[0].booking_deadline.working_days : valeur -1 hors limites (entre 0 et 60)"),
    ('security = "starttls"', 'security = "tls"', "smtp.security : sécurité inconnue « tls » (starttls, ssl ou none)"),
    ('port = 587', 'port = "587"', "smtp.port : nombre entier attendu, trouvé « 587 »"),
    ('user = "periscolaire"', 'user = "periscolaire"\npassword = "secret"',
     "smtp.password : le mot de passe n'a pas sa place dans ce fichier : il se range dans le trousseau du "
     "poste ou dans GANDRANGE_DESK_SMTP_PASSWORD"),
    ('weekdays = ["wed"]', 'weekdays = ["thu"]',
     "activity[1].weekdays : une activité ouverte le mercredi (opens = \"wednesdays\") doit compter « wed » "
     "parmi ses jours"),
    ("capacity = 110", "capacity = 0", "activity[0].unit[1].capacity : valeur 0 hors limites (entre 1 et 10000)"),
    ("meal = true", 'meal = "oui"', "activity[0].unit[1].meal : true ou false attendu, trouvé « oui »"),
    ('schools = ["École maternelle", "École élémentaire"]', 'schools = ["École maternelle", "École maternelle"]',
     "structure.schools[1] : école en double « École maternelle »"),
    ('{ qf_max = 1200, price = "4.20" }', '{ qf_max = 600, price = "4.20" }',
     "activity[0].unit[1].prices[1].qf_max : les tranches doivent être croissantes (600 après 700)"),
    ('{ price = "4.90" }', '{ qf_max = 2000, price = "4.90" }',
     "activity[0].unit[1].prices[2].qf_max : le dernier prix ne doit pas avoir de qf_max "
     "(il s'applique au-delà, et sans quotient connu)"),
]


@pytest.mark.parametrize("old,new,expected", CASES, ids=[c[2].split(" : ")[0] + "|" + c[1][:12] for c in CASES])
def test_each_problem_has_its_line(example, old, new, expected):
    assert old in example
    assert problems_of(example.replace(old, new, 1)) == [expected]


def test_missing_required_sections():
    assert problems_of('[structure]\nname = "X"\n') == [
        "structure.school_zone : clé obligatoire manquante",
        "structure.holiday_subdivision : clé obligatoire manquante",
        "structure.schools : clé obligatoire manquante",
        "activity : au moins une activité [[activity]] est obligatoire",
    ]
    lines = problems_of('[structure]\nname = "X"\nschool_zone = "B"\nholiday_subdivision = "57"\n'
                        'schools = ["A"]\n[[activity]]\ncode = "X"\nname = "x"\n')
    assert lines == ["activity[0].unit : au moins une unité [[activity.unit]] est obligatoire"]


def test_unit_without_prices(example):
    text = example.replace('  prices = [{ qf_max = 700, price = "3.50" }, { price = "5.50" }]\n', "", 1)
    assert problems_of(text) == ["activity[1].unit[1].prices : clé obligatoire manquante"]


def test_several_problems_all_reported(example):
    text = (example.replace('price = "3.30"', 'price = "abc"').replace('"thu"', '"thursday"', 1)
            .replace('school_zone = "B"', 'school_zone = "Z"'))
    assert problems_of(text) == [
        "structure.school_zone : zone inconnue « Z » (A, B ou C)",
        "activity[0].weekdays[2] : jour inconnu « thursday » (mon, tue, wed, thu, fri, sat ou sun)",
        "activity[0].unit[1].prices[0].price : prix invalide « abc » (attendu par exemple \"3.10\")",
    ]


def test_toml_syntax_error_names_line_and_column(example):
    broken = example.replace('siret = "00000000000000"', 'siret "00000000000000"')
    lines = problems_of(broken)
    line = next(i for i, l in enumerate(broken.splitlines(), 1) if l.startswith("siret"))
    assert lines == [f"Fichier TOML illisible, ligne {line}, colonne 7 : « = » attendu après une clé."]


def test_bad_file_writes_nothing(desk, example):
    with pytest.raises(ValidationFailed) as err:
        import_settings(desk, example.replace('price = "4.90"', 'price = "4.9.0"'))
    assert str(err.value).startswith("Paramètres refusés, rien n'a été enregistré :\n")
    with desk.read() as s:
        for model in (Structure, School, Activity, Tariff, AuditEntry):
            assert s.execute(select(func.count()).select_from(model)).scalar_one() == 0


def test_bad_reimport_changes_nothing(desk, example):
    import_settings(desk, example)
    with desk.read() as s:
        audits = s.execute(select(func.count(AuditEntry.id))).scalar_one()
    with pytest.raises(ValidationFailed):
        import_settings(desk, example.replace('name = "Périscolaire"', 'name = "Péri"')
                        .replace('"fri"]', '"fri", "xyz"]', 1))
    with desk.read() as s:
        assert s.execute(select(Activity.name).where(Activity.code == "PERISCOLAIRE")).scalar_one() == "Périscolaire"
        assert s.execute(select(func.count(AuditEntry.id))).scalar_one() == audits


def test_command_prints_one_line_per_problem(db_url, example, tmp_path, capsys):
    bad = tmp_path / "bad.toml"
    bad.write_text(example.replace('price = "3.30"', 'price = "3,10"').replace("capacity = 30", "capacity = -2"),
                   encoding="utf-8")
    assert main(["--db", db_url, "settings", "import", str(bad)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "Paramètres refusés, rien n'a été enregistré :",
        "activity[0].unit[0].capacity : valeur -2 hors limites (entre 1 et 10000)",
        "activity[0].unit[1].prices[0].price : prix invalide « 3,10 » (attendu par exemple \"3.10\")",
    ]
    assert main(["--db", db_url, "settings", "import", str(tmp_path / "absent.toml")]) == 1
    assert "Fichier de paramètres introuvable" in capsys.readouterr().err
