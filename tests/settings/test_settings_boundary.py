"""Issue 11, the settings file's boundary: an import leaves alone what the file does not say,
identities are checked as a bank or INSEE would, numbers and closures stay within sane bounds."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import Closure, SmtpSettings, Structure
from gandrange_desk.services.settings.service import import_settings
from tests.builders import EXAMPLE_SETTINGS

EXAMPLE = EXAMPLE_SETTINGS.read_text(encoding="utf-8")
SEPA = ('sepa_ics = "FR42ZZZ572427"\nsepa_iban = "FR76 3000 6000 0112 3456 7890 189"\n'
        'sepa_bic = "AGRIFRPP"\nissuer_name = "Marie Dupont"\nappeal_text = "Recours : tribunal administratif."\n')


def with_structure(extra: str, text: str = EXAMPLE) -> str:
    return text.replace('school_zone = "B"\n', f'school_zone = "B"\n{extra}', 1)


def structure(desk) -> Structure:
    with desk.read() as s:
        return s.execute(select(Structure)).scalar_one()


def refused(desk, text: str) -> list[str]:
    with pytest.raises(ValidationFailed) as info:
        import_settings(desk, text)
    return info.value.problems


@pytest.fixture
def configured(desk, clock):
    clock.set(2026, 3, 11, 12, 0)
    import_settings(desk, with_structure(SEPA))
    return desk


def test_an_import_without_the_sepa_keys_leaves_them_as_they_are(configured):
    without_smtp = EXAMPLE.split("[smtp]")[0] + "[[activity]]" + EXAMPLE.split("[[activity]]", 1)[1]
    import_settings(configured, without_smtp)
    st = structure(configured)
    assert (st.sepa_ics, st.sepa_iban, st.sepa_bic, st.issuer_name, st.appeal_text) == (
        "FR42ZZZ572427", "FR7630006000011234567890189", "AGRIFRPP", "Marie Dupont",
        "Recours : tribunal administratif.")
    with configured.read() as s:
        assert s.execute(select(SmtpSettings.host)).scalar_one() == "smtp.mairie-gandrange.example"


@pytest.mark.usefixtures("cli_user")
def test_replace_resets_what_the_file_does_not_mention(configured, db_url, tmp_path, capsys):
    from gandrange_desk.cli import main

    path = tmp_path / "settings.toml"
    path.write_text(EXAMPLE, encoding="utf-8")
    assert main(["--db", db_url, "settings", "import", str(path)]) == 0
    assert structure(configured).sepa_iban == "FR7630006000011234567890189"
    assert main(["--db", db_url, "settings", "import", "--replace", str(path)]) == 0
    st = structure(configured)
    assert (st.sepa_ics, st.sepa_iban, st.issuer_name, st.appeal_text) == ("", "", "", "")


def test_bad_identities_are_refused_in_french(configured):
    before = structure(configured).sepa_iban
    problems = refused(configured, with_structure(
        'sepa_iban = "FR76 3000 6000 0112 3456 7890 180"\nsepa_bic = "XX"\nsepa_ics = "pas un ICS"\n',
        EXAMPLE.replace('siret = "00000000000000"', 'siret = "abc"')))
    assert problems == [
        "structure.siret : « abc » n'est pas un SIRET (14 chiffres)",
        "structure.sepa_iban : « FR76 3000 6000 0112 3456 7890 180 » n'est pas un IBAN valide "
        "(pays, longueur ou clé de contrôle)",
        "structure.sepa_bic : « XX » n'est pas un BIC valide (8 ou 11 caractères)",
        "structure.sepa_ics : « pas un ICS » n'est pas un identifiant créancier SEPA (exemple : FR42ZZZ572427)",
    ]
    assert structure(configured).sepa_iban == before


def test_a_siret_with_a_wrong_key_is_refused(configured):
    assert refused(configured, EXAMPLE.replace('siret = "00000000000000"', 'siret = "21570242700019"')) == [
        "structure.siret : « 21570242700019 » n'est pas un SIRET valide (clé de contrôle)"]


def test_huge_name_price_capacity_and_closures_are_refused(configured):
    text = EXAMPLE.replace('name = "Service Enfance-Jeunesse — Commune de Gandrange"', f'name = "{"x" * 100_000}"')
    text = text.replace('closures = [["2026-12-24", "2026-12-24"]]',
                        'closures = [[0001-01-01, 9999-12-31], ["2062-12-24", "2062-12-24"]]')
    text = text.replace('capacity = 110', 'capacity = 1000000', 1)
    text = text.replace('price = "4.90"', "price = 1e30", 1)
    problems = refused(configured, text)
    assert "structure.name : trop long (100000 caractères, au plus 200)" in problems
    assert "structure.closures[0] : fermeture de 3652059 jours (au plus 366)" in problems
    assert ("structure.closures[1] : fermeture du 24/12/2062 au 24/12/2062 hors de la période admise "
            "(du 01/09/2024 au 31/08/2027, l'année scolaire à un an près)") in problems
    assert any(p.endswith("capacity : valeur 1000000 hors limites (entre 1 et 10000)") for p in problems)
    assert any(p.endswith("« 1e+30 » trop élevé (au plus 1000 €)") for p in problems)
    with configured.read() as s:
        assert [c.first_day.year for c in s.execute(select(Closure)).scalars()] == [2026]


def test_a_control_character_in_a_text_is_refused(configured):
    text = EXAMPLE.replace('name = "Périscolaire"', 'name = "Péri\\u0000scolaire"')
    assert refused(configured, text) == ["activity[0].name : caractère de contrôle interdit (NUL) (position 5)"]
