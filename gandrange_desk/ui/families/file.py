"""The family file: one dialog with its tabs, Enregistrer / Annuler, and the file's actions.

Open it from anywhere with `open_family_file(desk, family_id, parent)`; create a family with
`new_family(desk, parent)`. Saving sends every edited tab in one service call (one transaction,
the version loaded); field errors show beside the fields and nothing is written; a stale save
offers "Recharger". The file follows what other operations change about its family (a payment,
an invoice, a decision, another file saved): it reloads itself, or — when the clerk is editing —
says so and offers "Recharger".
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from gandrange_desk.errors import DeskError, StaleEdit
from gandrange_desk.services.changes import Changes
from gandrange_desk.services.families import file as fam
from gandrange_desk.services.families import export as family_export
from gandrange_desk.services.families import portal as family_portal
from gandrange_desk.services.families.data import FoyerInput, GuardianInput
from gandrange_desk.services.families.validation import FieldProblems
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.refresh import inside
from gandrange_desk.ui.families import docs as family_docs
from gandrange_desk.ui.families.docs import DocumentsPage, HistoryPage, MailPage
from gandrange_desk.ui.families.money import PaymentPage, PortalPage, QuotientPage
from gandrange_desk.ui.families.people import ChildrenPage, FoyerPage, GuardiansPage
from gandrange_desk.ui.families.widgets import Form, line

BANNER_STYLES = {
    "error": "background:#fdecea; color:#8a1c1c; border:1px solid #f5c2c0; border-radius:4px;",
    "warning": "background:#fff4e5; color:#7a4a00; border:1px solid #ffd8a8; border-radius:4px;",
    "ok": "background:#e8f5e9; color:#1b5e20; border:1px solid #b7dfb9; border-radius:4px;",
}

TAB_TITLES = ("Foyer", "Responsables", "Enfants", "Quotient familial", "Paiement", "Compte portail",
              "Documents", "Courriels", "Historique")


class Banner(QFrame):
    reload_requested = Signal()

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("banner")
        lay = QHBoxLayout(self)
        lay.setContentsMargins(10, 6, 10, 6)
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextInteractionFlags(Qt.TextSelectableByMouse)
        lay.addWidget(self.label, 1)
        self.reload = QPushButton("&Recharger")
        self.reload.clicked.connect(self.reload_requested.emit)
        lay.addWidget(self.reload)
        self.hide()

    def say(self, text: str, kind: str = "error", reload: bool = False) -> None:
        # QLabel is a QFrame too: the selector must name the banner only.
        self.setStyleSheet(f"QFrame#banner {{{BANNER_STYLES[kind]}}}")
        self.label.setText(text)
        self.reload.setVisible(reload)
        self.show()

    def clear(self) -> None:
        self.label.clear()
        self.hide()


class FamilyFileDialog(QDialog):
    saved = Signal(int)  # family id, after any change the list should show

    def __init__(self, desk, family_id: int, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.family_id = family_id
        self.snap = None
        self.resize(1100, 720)
        lay = QVBoxLayout(self)
        self.title = QLabel()
        self.title.setStyleSheet("font-size: 17px; font-weight: bold;")
        lay.addWidget(self.title)
        self.banner = Banner()
        self.banner.reload_requested.connect(self.reload)
        lay.addWidget(self.banner)
        self.tabs = QTabWidget()
        self.foyer = FoyerPage()
        self.guardians = GuardiansPage()
        self.children_page = ChildrenPage(fam.list_schools(desk))
        self.quotient = QuotientPage()
        self.payment = PaymentPage()
        self.portal = PortalPage()
        self.documents = DocumentsPage(desk)
        self.mails = MailPage(desk)
        self.history = HistoryPage(desk)
        self.pages = (self.foyer, self.guardians, self.children_page, self.quotient, self.payment,
                      self.portal, self.documents, self.mails, self.history)
        for page, title in zip(self.pages, TAB_TITLES):
            self.tabs.addTab(page, title)
            page.edited.connect(self._edited)
        self.portal.send_requested.connect(self.send_credentials)
        lay.addWidget(self.tabs, 1)

        bottom = QHBoxLayout()
        self.export_btn = QPushButton("E&xporter les données…")
        self.export_btn.clicked.connect(self.export_dialog)
        self.archive_btn = QPushButton("Archiver")
        self.archive_btn.clicked.connect(self.toggle_archive)
        self.delete_btn = QPushButton("Supprimer…")
        self.delete_btn.clicked.connect(self.delete)
        for b in (self.export_btn, self.archive_btn, self.delete_btn):
            bottom.addWidget(b)
        bottom.addStretch(1)
        self.buttons = QDialogButtonBox()
        self.save_btn = self.buttons.addButton("&Enregistrer", QDialogButtonBox.AcceptRole)
        self.cancel_btn = self.buttons.addButton("Annuler", QDialogButtonBox.RejectRole)
        self.save_btn.clicked.connect(self.save)
        self.cancel_btn.clicked.connect(self.reject)
        self.save_btn.setDefault(False)
        self.save_btn.setAutoDefault(False)
        bottom.addWidget(self.buttons)
        lay.addLayout(bottom)
        QShortcut(QKeySequence.Save, self, activated=self.save)
        self.reload()

    # ------------------------------------------------------------------ loading

    def reload(self) -> None:
        snap = ops.run(self, "Fiche famille", lambda: fam.get_family(self.desk, self.family_id),
                       on_error=self._error)
        if snap is not None:
            self.show_snapshot(snap)
            self.banner.clear()

    def apply_changes(self, changes: Changes, origin=None) -> None:
        """Another operation changed this family (its file, balance, invoices): show it."""
        if inside(origin, self) or not (changes.everything or self.family_id in changes.families
                                        or self.family_id in changes.payments):
            return
        if self.is_dirty():
            self.banner.say("Cette fiche vient de changer ailleurs : « Recharger » montre la nouvelle version "
                            "(vos modifications en cours seront perdues).", "warning", reload=True)
        else:
            self.reload()

    def _error(self, text: str) -> None:
        self.banner.say(text, "error")

    def _refused(self, exc: DeskError) -> None:
        """A refusal in the banner; a stale edit offers "Recharger"."""
        self.banner.say(str(exc), "warning" if isinstance(exc, StaleEdit) else "error",
                        reload=isinstance(exc, StaleEdit))

    def show_snapshot(self, snap) -> None:
        self.snap = snap
        today = self.desk.today()
        self.foyer.set_today(today)
        for page in self.pages:
            if page is self.quotient:
                page.load(snap, today)
            else:
                page.load(snap)
        archived = " — archivée" if snap.archived else ""
        self.title.setText(f"Famille {snap.name} — {snap.ref}{archived}")
        self.setWindowTitle(f"Fiche famille — {snap.name} ({snap.ref})")
        self.archive_btn.setText("Restaurer" if snap.archived else "Archiver")
        self.delete_btn.setEnabled(snap.issued_invoices == 0)
        self.delete_btn.setToolTip("" if snap.issued_invoices == 0 else
                                   "Une famille qui a des factures est archivée, jamais supprimée.")
        self.save_btn.setEnabled(not snap.archived)
        self._edited()

    def is_dirty(self) -> bool:
        return any(p.dirty for p in self.pages)

    def _edited(self) -> None:
        for i, page in enumerate(self.pages):
            self.tabs.setTabText(i, TAB_TITLES[i] + (" *" if page.dirty else ""))

    # ------------------------------------------------------------------ saving

    def sections(self) -> dict:
        out = {}
        if self.foyer.dirty:
            out["foyer"] = self.foyer.collect()
        if self.guardians.dirty:
            out["guardians"] = self.guardians.collect()
        if self.children_page.dirty:
            out["children"] = self.children_page.collect()
        if self.quotient.dirty and self.quotient.collect() is not None:
            out["quotient"] = self.quotient.collect()
        if self.payment.dirty:
            out["payment"] = self.payment.collect()
        if self.portal.dirty:
            out["portal"] = self.portal.collect()
        return out

    def save(self) -> bool:
        sections = self.sections()
        if not sections:
            self.banner.say("Aucune modification à enregistrer.", "ok")
            return True
        for page in self.pages:
            page.show_errors({})

        def refused(exc: DeskError) -> None:
            if isinstance(exc, FieldProblems):
                self.show_problems(exc.fields)
            elif isinstance(exc, StaleEdit):
                self.banner.say(str(exc) + "\nVos modifications ne sont pas enregistrées.", "warning", reload=True)
            else:
                self.banner.say(str(exc), "error")

        snap = ops.run(self, "Enregistrer la fiche", lambda: fam.save_family(
            self.desk, self.family_id, self.snap.version, **sections), on_refused=refused, on_error=self._error)
        if snap is None:
            return False
        self.show_snapshot(snap)
        self.banner.say("Fiche enregistrée.", "ok")
        self.saved.emit(self.family_id)
        return True

    def show_problems(self, fields: dict[str, str]) -> None:
        first = None
        for i, page in enumerate(self.pages):
            if page.show_errors(fields) and first is None:
                first = i
        if first is not None:
            self.tabs.setCurrentIndex(first)
        n = len(fields)
        self.banner.say(f"{n} champ{'s' if n > 1 else ''} à corriger (en rouge) : rien n'a été enregistré.\n"
                        + "\n".join(fields.values()), "error")

    def _needs_clean(self, what: str) -> bool:
        if self.is_dirty():
            self.banner.say(f"{what} : enregistrez ou annulez d'abord vos modifications en cours.", "warning")
            return True
        return False

    # ------------------------------------------------------------------ actions

    def send_credentials(self) -> family_portal.CredentialsResult | None:
        if self._needs_clean("Envoyer les identifiants"):
            return None
        result = ops.run(self, "Envoyer les identifiants", lambda: family_portal.send_credentials(
            self.desk, self.family_id, self.snap.version), on_refused=self._refused, on_error=self._error)
        if result is None:
            return None
        self.show_snapshot(result.family)
        self.portal.result.setText(result.summary)
        if result.letter_pdf:
            path = Path(tempfile.mkdtemp(prefix="gandrange-lettre-")) / f"identifiants-{result.family.ref}.pdf"
            path.write_bytes(result.letter_pdf)
            self.last_letter = path
            family_docs.show_file(path)
            self.banner.say(f"Lettre d'identifiants prête à imprimer : {path}", "ok")
        else:
            self.banner.say(result.summary, "ok")
        self.saved.emit(self.family_id)
        return result

    def export_to(self, folder: Path) -> tuple[Path, Path]:
        raw_json, pdf, base = family_export.export_family(self.desk, self.family_id)
        folder = Path(folder)
        json_path, pdf_path = folder / f"{base}.json", folder / f"{base}.pdf"
        json_path.write_bytes(raw_json)
        pdf_path.write_bytes(pdf)
        self.banner.say(f"Données exportées : {json_path.name} et {pdf_path.name} dans {folder}", "ok")
        self.history.load(self.snap)
        return json_path, pdf_path

    def export_dialog(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dossier où enregistrer l'export (JSON et PDF)")
        if folder:
            ops.run(self, "Exporter les données", lambda: self.export_to(Path(folder)), on_error=self._error)

    def toggle_archive(self) -> None:
        if self._needs_clean("Archiver"):
            return
        op = fam.restore_family if self.snap.archived else fam.archive_family
        snap = ops.run(self, "Archiver", lambda: op(self.desk, self.family_id, self.snap.version),
                       on_refused=self._refused, on_error=self._error)
        if snap is None:
            return
        self.show_snapshot(snap)
        self.banner.say("Famille archivée : elle n'apparaît plus dans la recherche (sauf « archivées »)."
                        if snap.archived else "Famille restaurée.", "ok")
        self.saved.emit(self.family_id)

    def delete(self) -> None:
        answer = QMessageBox.question(
            self, "Supprimer la famille",
            f"Supprimer définitivement la famille {self.snap.name} ({self.snap.ref}) et tout ce qui la concerne ?\n"
            "Réservé à une fiche créée par erreur, sans facture ni règlement.",
            QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
        if answer != QMessageBox.Yes:
            return
        if ops.run(self, "Supprimer la famille", lambda: fam.delete_family(self.desk, self.family_id, self.snap.version),
                   on_refused=lambda exc: self.banner.say(str(exc), "error", reload=isinstance(exc, StaleEdit)),
                   on_error=self._error) is None:
            return
        self.saved.emit(self.family_id)
        self.accept()

    def reject(self) -> None:
        if self.is_dirty():
            answer = QMessageBox.question(self, "Modifications non enregistrées",
                                          "Fermer la fiche sans enregistrer vos modifications ?",
                                          QMessageBox.Yes | QMessageBox.No, QMessageBox.No)
            if answer != QMessageBox.Yes:
                return
        super().reject()


class NewFamilyDialog(QDialog):
    """"Nouvelle famille": the household and its first guardian; the file opens next."""

    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.family_id: int | None = None
        self.setWindowTitle("Nouvelle famille")
        self.resize(520, 420)
        lay = QVBoxLayout(self)
        w = QWidget()
        self.form = Form(w)
        self.name = self.form.add("foyer.name", "&Nom de la famille", line())
        self.street = self.form.add("foyer.street", "&Adresse", line())
        self.postcode = self.form.add("foyer.postcode", "Code &postal", line(placeholder="57175"))
        self.city = self.form.add("foyer.city", "&Commune", line("Gandrange"))
        self.first = self.form.add("guardians[0].first_name", "Prénom du &responsable", line())
        self.last = self.form.add("guardians[0].last_name", "Nom du responsable", line())
        self.email = self.form.add("guardians[0].email", "&E-mail", line(placeholder="prenom.nom@exemple.fr"))
        self.phone = self.form.add("guardians[0].phone", "&Téléphone", line(placeholder="06 12 34 56 78"))
        self.name.textEdited.connect(lambda t: self.last.setText(t) if not self.last.isModified() else None)
        lay.addWidget(w)
        self.error = QLabel()
        self.error.setStyleSheet("color:#b00020;")
        self.error.setWordWrap(True)
        lay.addWidget(self.error)
        buttons = QDialogButtonBox()
        create = buttons.addButton("&Créer la fiche", QDialogButtonBox.AcceptRole)
        buttons.addButton("Annuler", QDialogButtonBox.RejectRole)
        create.clicked.connect(self.create)
        buttons.rejected.connect(self.reject)
        lay.addWidget(buttons)

    def create(self) -> None:
        def refused(exc: DeskError) -> None:
            if isinstance(exc, FieldProblems):
                self.form.show_errors(exc.fields)
                self.error.setText("Rien n'a été enregistré : corrigez les champs en rouge.")
            else:
                self.error.setText(str(exc))

        def created(family_id: int) -> None:
            self.family_id = family_id
            self.accept()

        # The service returns the new id: the change it made is that family.
        ops.run(self, "Nouvelle famille", lambda: fam.create_family(
            self.desk,
            FoyerInput(self.name.text(), self.street.text(), self.postcode.text(), self.city.text()),
            GuardianInput(self.first.text(), self.last.text(), email=self.email.text(), phone=self.phone.text(),
                          holds_portal_account=bool(self.email.text().strip()))),
            changes=lambda family_id: Changes(families={family_id}), on_done=created, on_refused=refused,
            on_error=self.error.setText)


def open_family_file(desk, family_id: int, parent=None, on_saved=None) -> FamilyFileDialog:
    """Show a family's file (non-modal: the list stays usable); `on_saved(family_id)` after changes."""
    dialog = FamilyFileDialog(desk, family_id, parent)
    dialog.setAttribute(Qt.WA_DeleteOnClose)
    if on_saved is not None:
        dialog.saved.connect(on_saved)
    dialog.show()
    return dialog


def new_family(desk, parent=None, on_saved=None) -> FamilyFileDialog | None:
    """Ask for the household and first guardian, create the family, then open its file."""
    dialog = NewFamilyDialog(desk, parent)
    if dialog.exec() != QDialog.Accepted or dialog.family_id is None:
        return None
    if on_saved is not None:
        on_saved(dialog.family_id)
    return open_family_file(desk, dialog.family_id, parent, on_saved)
