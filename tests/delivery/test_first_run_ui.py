"""The first-run wizard, driven as the IT person would on a new workstation."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QWizard
from sqlalchemy import select

from gandrange_desk import config
from gandrange_desk.db import make_engine
from gandrange_desk.models import DeskUser, School, Structure
from gandrange_desk.services.context import Desk
from gandrange_desk.services.system import first_run
from gandrange_desk.ui.setup.wizard import FirstRunWizard
from tests.builders import EXAMPLE_SETTINGS


@pytest.fixture
def workstation(tmp_path, monkeypatch):
    monkeypatch.setenv(config.ENV_CONFIG, str(tmp_path / "poste.toml"))
    monkeypatch.setattr("gandrange_desk.db.default_sqlite_path", lambda: tmp_path / "data" / "gandrange-desk.sqlite3")
    monkeypatch.delenv("GANDRANGE_DESK_DB", raising=False)
    return tmp_path


def fill_admin(wizard) -> None:
    page = wizard.admin_page
    page.login.setText("mdupont")
    page.full_name.setText("Marie Dupont")
    page.password.setText("motdepasse1")
    page.confirm.setText("motdepasse1")


def test_sqlite_in_a_folder_first_admin_and_structure(qtbot, workstation):
    folder = workstation / "Gandrange"
    folder.mkdir()
    wizard = FirstRunWizard(need_database=True)
    qtbot.addWidget(wizard)
    wizard.show()
    page = wizard.database_page
    page.folder.setText(str(folder))
    wizard.next()
    assert wizard.currentPage() is wizard.admin_page
    fill_admin(wizard)
    wizard.next()
    structure = wizard.structure_page
    structure.name.setText("Service Enfance-Jeunesse — Commune de Gandrange")
    structure.schools.setPlainText("École maternelle\nÉcole élémentaire\n")
    wizard.accept()
    assert wizard.result() == QWizard.Accepted
    assert wizard.result_db == f"sqlite:///{folder / 'gandrange-desk.sqlite3'}"
    assert config.database_url() == wizard.result_db
    engine = make_engine(wizard.result_db)
    with engine.connect() as conn:
        user = conn.execute(select(DeskUser.login, DeskUser.role)).one()
        assert tuple(user) == ("mdupont", "admin")
        assert conn.execute(select(Structure.school_zone, Structure.holiday_subdivision)).one() == ("B", "57")
        assert conn.execute(select(School.name).order_by(School.position)).scalars().all() == \
            ["École maternelle", "École élémentaire"]
    engine.dispose()


def test_a_network_folder_is_refused_with_a_pointer_to_postgresql(qtbot, workstation, monkeypatch):
    monkeypatch.setattr("gandrange_desk.paths.is_network_path", lambda path: True)
    wizard = FirstRunWizard(need_database=True)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.database_page.folder.setText(r"Z:\Partage\Periscolaire")
    wizard.next()
    assert wizard.currentPage() is wizard.database_page
    assert "lecteur réseau" in wizard.database_page.error.text()
    assert "PostgreSQL" in wizard.database_page.error.text()
    assert not (workstation / "poste.toml").exists()


def test_admin_passwords_must_match(qtbot, workstation):
    wizard = FirstRunWizard(need_database=False, desk=None, need_structure=False)
    qtbot.addWidget(wizard)
    wizard.show()
    fill_admin(wizard)
    wizard.admin_page.confirm.setText("autre-chose")
    assert not wizard.admin_page.validatePage()
    assert wizard.admin_page.error.text() == "Les deux mots de passe ne sont pas identiques."


def test_existing_base_without_users_gets_its_admin_and_imported_settings(qtbot, desk):
    """A base made by `db upgrade` on the command line: never opened as the system account."""
    wizard = FirstRunWizard(need_database=False, desk=desk, need_structure=not first_run.has_structure(desk))
    qtbot.addWidget(wizard)
    wizard.show()
    fill_admin(wizard)
    wizard.next()
    wizard.structure_page.import_choice.setChecked(True)
    wizard.structure_page.toml.setText(str(EXAMPLE_SETTINGS))
    wizard.accept()
    assert wizard.result() == QWizard.Accepted
    with desk.read() as s:
        assert s.execute(select(DeskUser.login)).scalars().all() == ["mdupont"]
        assert s.execute(select(Structure.name)).scalar_one().startswith("Service Enfance-Jeunesse")


def test_postgresql_connection_is_tested_and_password_kept(qtbot, workstation, monkeypatch):
    tried = {}

    def refuse(url, password):
        tried["url"] = url
        from gandrange_desk.errors import DatabaseUnavailable

        raise DatabaseUnavailable("Impossible d'ouvrir la base de données : le serveur ne répond pas.")

    monkeypatch.setattr(first_run, "test_postgres", refuse)
    wizard = FirstRunWizard(need_database=True)
    qtbot.addWidget(wizard)
    wizard.show()
    page = wizard.database_page
    page.postgres.setChecked(True)
    page.host.setText("db.mairie")
    page.user.setText("desk")
    page.password.setText("secret")
    wizard.next()
    assert wizard.currentPage() is page
    assert "le serveur ne répond pas" in page.error.text()
    assert tried["url"].render_as_string() == "postgresql+psycopg://desk@db.mairie:5432/gandrange_desk"


def test_structure_form_is_checked(desk):
    from gandrange_desk.errors import ValidationFailed

    with pytest.raises(ValidationFailed) as caught:
        first_run.create_structure(desk, first_run.StructureForm(name="", holiday_subdivision="99", schools=[]))
    assert caught.value.problems == [
        "Le nom de la structure est obligatoire.",
        "Département inconnu pour les jours fériés : « 99 » (par exemple 57 pour la Moselle).",
        "Indiquez au moins une école (une par ligne).",
    ]


def test_postgresql_test_connects_and_keeps_the_password(backend, db_url):
    if backend != "postgresql":
        pytest.skip("PostgreSQL only")
    from sqlalchemy.engine import make_url

    from gandrange_desk.services.system import secrets

    url = make_url(db_url)
    try:
        # No keyring in the tests: kept for this session only (False), readable by the next connection.
        assert first_run.test_postgres(url.set(password=None), "mot-de-passe") is False
        assert secrets.get_postgres_password(url.username, url.host) == "mot-de-passe"
    finally:
        secrets.forget_session()


def test_the_demo_is_a_separate_base_and_configures_nothing(qtbot, workstation, monkeypatch):
    made = []

    def fake_demo(desk, **kw):
        made.append(desk.engine.url.database)

    monkeypatch.setattr("gandrange_desk.demo.run_demo", fake_demo)
    wizard = FirstRunWizard(need_database=True)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.database_page.demo.setChecked(True)
    assert wizard.database_page.isFinalPage()
    wizard.accept()
    assert wizard.result() == QWizard.Accepted
    demo = workstation / "data" / first_run.DEMO_NAME
    assert wizard.result_db == str(demo) and demo.exists()
    assert made and made[0].endswith(".partiel")  # built aside, renamed when complete
    assert not (workstation / "poste.toml").exists()  # the next start asks again
