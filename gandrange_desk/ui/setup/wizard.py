"""The first-run wizard: where the base lives, the first administrator, the structure.

Shown when nothing names a database (no --db, no GANDRANGE_DESK_DB, no workstation file, no
default SQLite file), and — administrator and structure pages only — when a configured base
has no desk user yet, so the window never opens as the system account on an empty base.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QApplication, QButtonGroup, QComboBox, QFileDialog, QFormLayout,
                               QHBoxLayout, QLabel, QLineEdit, QMessageBox, QPlainTextEdit,
                               QPushButton, QRadioButton, QSpinBox, QVBoxLayout, QWidget, QWizard,
                               QWizardPage)

from gandrange_desk.errors import DeskError
from gandrange_desk.services.system import first_run

TITLE = "Premier démarrage — Gandrange Desk"


def _error_label() -> QLabel:
    label = QLabel("")
    label.setWordWrap(True)
    label.setStyleSheet("color: #b00020;")
    label.setTextInteractionFlags(Qt.TextSelectableByMouse)
    return label


def _browse_row(edit: QLineEdit, pick) -> QWidget:
    row = QWidget()
    layout = QHBoxLayout(row)
    layout.setContentsMargins(0, 0, 0, 0)
    layout.addWidget(edit, 1)
    button = QPushButton("Parcourir…")
    button.clicked.connect(pick)
    layout.addWidget(button)
    return row


class DatabasePage(QWizardPage):
    SQLITE, POSTGRES, DEMO = 0, 1, 2

    def __init__(self):
        super().__init__()
        self.setTitle("Où garder la base de données ?")
        self.setSubTitle("Un seul poste : un fichier SQLite sur ce poste. Plusieurs postes : "
                         "un serveur PostgreSQL (demandez ses coordonnées au service informatique).")
        self.choice = QButtonGroup(self)
        self.sqlite = QRadioButton("Un &fichier SQLite sur ce poste")
        self.postgres = QRadioButton("Un serveur &PostgreSQL partagé")
        self.demo = QRadioButton("Ouvrir la &démonstration (base d'essai, sans rien configurer)")
        for button, value in ((self.sqlite, self.SQLITE), (self.postgres, self.POSTGRES), (self.demo, self.DEMO)):
            self.choice.addButton(button, value)
        self.sqlite.setChecked(True)

        self.folder = QLineEdit(str(_default_folder()))
        self.host = QLineEdit()
        self.port = QSpinBox()
        self.port.setRange(1, 65535)
        self.port.setValue(5432)
        self.base = QLineEdit("gandrange_desk")
        self.user = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.test_button = QPushButton("&Tester la connexion")
        self.test_button.clicked.connect(self.test_connection)
        self.result = QLabel("")
        self.result.setWordWrap(True)
        self.error = _error_label()

        sqlite_form = QFormLayout()
        sqlite_form.addRow("Dossier :", _browse_row(self.folder, self.pick_folder))
        pg_form = QFormLayout()
        pg_form.addRow("Serveur :", self.host)
        pg_form.addRow("Port :", self.port)
        pg_form.addRow("Base :", self.base)
        pg_form.addRow("Utilisateur :", self.user)
        pg_form.addRow("Mot de passe :", self.password)
        pg_form.addRow("", self.test_button)
        pg_form.addRow("", self.result)
        self.sqlite_box, self.pg_box = QWidget(), QWidget()
        self.sqlite_box.setLayout(sqlite_form)
        self.pg_box.setLayout(pg_form)

        layout = QVBoxLayout(self)
        layout.addWidget(self.sqlite)
        layout.addWidget(self.sqlite_box)
        layout.addWidget(self.postgres)
        layout.addWidget(self.pg_box)
        layout.addWidget(self.demo)
        layout.addWidget(self.error)
        layout.addStretch(1)
        self.choice.idToggled.connect(lambda *_: self._enable())
        self._enable()
        self.url = None

    def _enable(self) -> None:
        self.sqlite_box.setEnabled(self.sqlite.isChecked())
        self.pg_box.setEnabled(self.postgres.isChecked())
        self.error.setText("")
        self.completeChanged.emit()  # the demo ends the wizard here: "Terminer" instead of "Suivant"

    def pick_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dossier de la base", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def _pg_url(self):
        return first_run.postgres_url(self.host.text(), self.port.value(), self.base.text(), self.user.text())

    def test_connection(self) -> bool:
        self.result.setText("")
        try:
            with _busy():
                in_keyring = first_run.test_postgres(self._pg_url(), self.password.text())
        except DeskError as exc:
            self.error.setText(str(exc))
            return False
        self.error.setText("")
        if not self.password.text():
            self.result.setText("Connexion réussie (sans mot de passe).")
        elif in_keyring:
            self.result.setText("Connexion réussie. Le mot de passe est gardé dans le trousseau de Windows.")
        else:
            self.result.setText("Connexion réussie. Aucun trousseau sur ce poste : le mot de passe est gardé "
                                "pour cette session seulement (ou GANDRANGE_DESK_DB_PASSWORD).")
        return True

    def validatePage(self) -> bool:  # noqa: N802 - Qt API
        self.error.setText("")
        try:
            if self.sqlite.isChecked():
                self.url = first_run.sqlite_in_folder(self.folder.text())
            elif self.postgres.isChecked():
                if not self.test_connection():
                    return False
                self.url = self._pg_url()
            else:
                self.url = None
        except DeskError as exc:
            self.error.setText(str(exc))
            return False
        return True

    def nextId(self) -> int:  # noqa: N802 - Qt API
        return -1 if self.demo.isChecked() else super().nextId()


class AdminPage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("Le premier administrateur")
        self.setSubTitle("Il se connecte ensuite avec cet identifiant et crée les comptes des agents "
                         "(Outils › Utilisateurs du bureau).")
        self.login = QLineEdit()
        self.full_name = QLineEdit()
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.Password)
        self.confirm = QLineEdit()
        self.confirm.setEchoMode(QLineEdit.Password)
        self.error = _error_label()
        form = QFormLayout(self)
        form.addRow("&Identifiant :", self.login)
        form.addRow("&Nom et prénom :", self.full_name)
        form.addRow("&Mot de passe (8 caractères au moins) :", self.password)
        form.addRow("&Confirmation :", self.confirm)
        form.addRow(self.error)

    def validatePage(self) -> bool:  # noqa: N802 - Qt API
        problems = []
        if not self.login.text().strip():
            problems.append("L'identifiant est obligatoire.")
        if len(self.password.text()) < 8:
            problems.append("Le mot de passe doit comporter au moins 8 caractères.")
        elif self.password.text() != self.confirm.text():
            problems.append("Les deux mots de passe ne sont pas identiques.")
        self.error.setText("\n".join(problems))
        return not problems


class StructurePage(QWizardPage):
    def __init__(self):
        super().__init__()
        self.setTitle("La structure")
        self.setSubTitle("Importez le fichier de réglages préparé (structure, écoles, activités, tarifs), "
                         "ou saisissez la structure maintenant et le reste ensuite dans Réglages.")
        self.import_choice = QRadioButton("&Importer un fichier de réglages (.toml)")
        self.form_choice = QRadioButton("&Saisir la structure")
        self.form_choice.setChecked(True)
        self.toml = QLineEdit()
        self.name = QLineEdit()
        self.address = QLineEdit()
        self.email = QLineEdit()
        self.phone = QLineEdit()
        self.zone = QComboBox()
        self.zone.addItems(["A", "B", "C"])
        self.zone.setCurrentText("B")
        self.subdivision = QLineEdit("57")
        self.schools = QPlainTextEdit()
        self.schools.setPlaceholderText("Une école par ligne")
        self.schools.setFixedHeight(70)
        self.error = _error_label()
        toml_form = QFormLayout()
        toml_form.addRow("Fichier :", _browse_row(self.toml, self.pick_toml))
        form = QFormLayout()
        form.addRow("&Nom :", self.name)
        form.addRow("&Adresse :", self.address)
        form.addRow("&Courriel :", self.email)
        form.addRow("&Téléphone :", self.phone)
        form.addRow("&Zone scolaire :", self.zone)
        form.addRow("&Département (jours fériés) :", self.subdivision)
        form.addRow("É&coles :", self.schools)
        self.toml_box, self.form_box = QWidget(), QWidget()
        self.toml_box.setLayout(toml_form)
        self.form_box.setLayout(form)
        layout = QVBoxLayout(self)
        for widget in (self.import_choice, self.toml_box, self.form_choice, self.form_box, self.error):
            layout.addWidget(widget)
        self.import_choice.toggled.connect(self._enable)
        self._enable()

    def _enable(self) -> None:
        self.toml_box.setEnabled(self.import_choice.isChecked())
        self.form_box.setEnabled(self.form_choice.isChecked())

    def pick_toml(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Fichier de réglages", "", "Réglages (*.toml)")
        if path:
            self.toml.setText(path)

    def form(self) -> first_run.StructureForm:
        return first_run.StructureForm(
            name=self.name.text(), address=self.address.text(), email=self.email.text(),
            phone=self.phone.text(), school_zone=self.zone.currentText(),
            holiday_subdivision=self.subdivision.text().strip(),
            schools=self.schools.toPlainText().splitlines())


class FirstRunWizard(QWizard):
    """`need_database`: ask where the base is; `desk`: an existing base without desk user."""

    def __init__(self, need_database: bool = True, desk=None, need_structure: bool = True, parent=None):
        super().__init__(parent)
        self.setWindowTitle(TITLE)
        self.setWizardStyle(QWizard.ClassicStyle)
        self.setButtonText(QWizard.NextButton, "&Suivant >")
        self.setButtonText(QWizard.BackButton, "< &Précédent")
        self.setButtonText(QWizard.FinishButton, "&Terminer")
        self.setButtonText(QWizard.CancelButton, "&Annuler")
        self.desk = desk
        self.result_db: str | None = None
        self.database_page = DatabasePage() if need_database else None
        self.admin_page = AdminPage()
        self.structure_page = StructurePage() if need_structure else None
        for page in (self.database_page, self.admin_page, self.structure_page):
            if page is not None:
                self.addPage(page)
        self.resize(640, 520)

    def accept(self) -> None:
        try:
            with _busy():
                self.finish()
        except DeskError as exc:
            page = self.currentPage()
            if hasattr(page, "error"):
                page.error.setText(str(exc))
            else:  # pragma: no cover
                QMessageBox.warning(self, TITLE, str(exc))
            return
        super().accept()

    def finish(self) -> None:
        """Everything the pages asked for, in order; the workstation file is written last."""
        from gandrange_desk import config
        from gandrange_desk.services.settings import service as settings_service
        from gandrange_desk.services.system.users import create_user, has_users

        if self.database_page is not None and self.database_page.demo.isChecked():
            self.result_db = str(first_run.build_demo(_default_folder()))
            return
        url = self.database_page.url if self.database_page is not None else None
        desk = self.desk if url is None else first_run.prepare_base(url)
        if not has_users(desk):
            page = self.admin_page
            create_user(desk, page.login.text().strip(), page.full_name.text().strip(), "admin",
                        page.password.text())
        if self.structure_page is not None and not first_run.has_structure(desk):
            page = self.structure_page
            if page.import_choice.isChecked():
                if not page.toml.text().strip():
                    raise DeskError("Choisissez le fichier de réglages à importer.")
                settings_service.import_file(desk, page.toml.text().strip())
            else:
                first_run.create_structure(desk, page.form())
        if url is not None:
            text = url.render_as_string(hide_password=False)
            config.save_database_url(text)
            self.result_db = text
            desk.engine.dispose()


class _busy:
    def __enter__(self):
        QApplication.setOverrideCursor(Qt.WaitCursor)

    def __exit__(self, *exc):
        QApplication.restoreOverrideCursor()
        return False


def _default_folder() -> Path:
    from gandrange_desk.db import default_sqlite_path

    return default_sqlite_path().parent


def run_first_run() -> str | None:
    """The wizard on a workstation with no base: the database to open, or None if cancelled."""
    wizard = FirstRunWizard(need_database=True)
    return wizard.result_db if wizard.exec() == QWizard.Accepted else None


def run_first_admin(desk) -> bool:
    """A base without desk users: create the first administrator (and the structure if missing)."""
    wizard = FirstRunWizard(need_database=False, desk=desk,
                            need_structure=not first_run.has_structure(desk))
    return wizard.exec() == QWizard.Accepted
