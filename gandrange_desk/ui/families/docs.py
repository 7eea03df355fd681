"""Documents, Courriels and Historique tabs of the family file, and the published documents."""

from __future__ import annotations

import mimetypes
import tempfile
from pathlib import Path

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
)

from gandrange_desk import formats
from gandrange_desk.models import DocumentState
from gandrange_desk.services.families import portal as family_portal
from gandrange_desk.services.families.history import family_history
from gandrange_desk.ui.common import ops
from gandrange_desk.ui.common.table_model import Column, ColumnsTableModel
from gandrange_desk.ui.families.mail_list import FamilyMailList
from gandrange_desk.ui.families.widgets import ERROR_STYLE, Page, line, table_view

DOCUMENT_KINDS = ("Attestation CAF", "Attestation d'assurance", "Justificatif de domicile", "Certificat médical",
                  "PAI", "Fiche sanitaire", "Autre")


def _when(value) -> str:
    return formats.instant(value) if value else ""


def show_file(path: Path) -> None:
    """Hand a file to the system viewer (tests replace this)."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(str(path)))


def open_document(desk, document_id: int) -> Path:
    """Write the document to a temporary file and hand it to the system viewer."""
    filename, _mime, content = family_portal.document_content(desk, document_id)
    folder = Path(tempfile.mkdtemp(prefix="gandrange-doc-"))
    path = folder / (Path(filename).name or "document")
    path.write_bytes(content)
    show_file(path)
    return path


class DocumentsPage(Page):
    """What the family sent ("Mes envois"); each one marked reçu, vérifié or à refaire."""

    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.family_id = None
        self.docs = []
        lay = QVBoxLayout(self)
        lay.addWidget(QLabel("<b>Mes envois</b> — documents envoyés par la famille"))
        self.model = ColumnsTableModel([
            ("Type", lambda d: d.kind), ("Reçu le", lambda d: _when(d.received_at)),
            ("Fichier", lambda d: d.filename), ("État", lambda d: d.state_label), ("Motif", lambda d: d.reason),
        ], self)
        self.view = table_view(self.model, stretch=4)
        self.view.setColumnWidth(0, 170)
        self.view.setColumnWidth(1, 130)
        self.view.setColumnWidth(2, 200)
        self.view.setColumnWidth(3, 80)
        self.view.doubleClicked.connect(lambda _i: self.open_selected())
        lay.addWidget(self.view, 1)
        row = QHBoxLayout()
        self.open_btn = QPushButton("&Ouvrir")
        self.open_btn.clicked.connect(self.open_selected)
        self.checked_btn = QPushButton("Marquer &vérifié")
        self.checked_btn.clicked.connect(lambda: self.set_state(DocumentState.CHECKED))
        self.reason = line(placeholder="Motif si à refaire (envoyé à la famille)")
        self.reason.setMinimumWidth(300)
        self.redo_btn = QPushButton("À &refaire")
        self.redo_btn.clicked.connect(lambda: self.set_state(DocumentState.REDO))
        self.add_btn = QPushButton("Enregistrer un document &reçu…")
        self.add_btn.clicked.connect(self.add_document)
        for w in (self.open_btn, self.checked_btn, self.reason, self.redo_btn):
            row.addWidget(w)
        row.addStretch(1)
        row.addWidget(self.add_btn)
        lay.addLayout(row)
        self.message = QLabel()
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        pub = QHBoxLayout()
        pub.addWidget(QLabel("Documents proposés à toutes les familles (règlement intérieur, menus, notice) :"))
        self.published_btn = QPushButton("Documents &publiés…")
        self.published_btn.clicked.connect(self.manage_published)
        pub.addWidget(self.published_btn)
        pub.addStretch(1)
        lay.addLayout(pub)

    def load(self, snap) -> None:
        keep = self.selected().id if self.family_id == snap.id and self.selected() else None
        self.family_id = snap.id
        self.docs = list(snap.documents)
        self._show(keep)

    def _show(self, keep: int | None = None) -> None:
        self.model.set_rows(self.docs)
        if self.docs:
            self.view.selectRow(next((i for i, d in enumerate(self.docs) if d.id == keep), 0))

    def selected(self):
        index = self.view.currentIndex()
        return self.docs[index.row()] if index.isValid() else None

    def _say(self, text: str, error: bool = False) -> None:
        self.message.setStyleSheet(ERROR_STYLE if error else "color:#1b5e20;")
        self.message.setText(text)

    def set_state(self, state: str) -> None:
        doc = self.selected()
        if doc is None:
            self._say("Choisissez d'abord un document dans la liste.", True)
            return
        new = ops.run(self, "Document", lambda: family_portal.set_document_state(
            self.desk, doc.id, doc.version, state, self.reason.text()), on_error=lambda text: self._say(text, True))
        if new is None:
            return
        row = self.docs.index(doc)
        self.docs[row] = new
        self._show()
        self.view.selectRow(row)
        self.reason.clear()
        self._say(f"« {new.kind} » : {new.state_label.lower()}"
                  + (" ; le motif a été envoyé à la famille." if state == DocumentState.REDO else "."))

    def open_selected(self) -> None:
        doc = self.selected()
        if doc is not None:
            open_document(self.desk, doc.id)

    def add_document(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Document reçu de la famille")
        if not path or self.family_id is None:
            return
        from PySide6.QtWidgets import QInputDialog

        kind, ok = QInputDialog.getItem(self, "Type de document", "Type :", list(DOCUMENT_KINDS), 0, True)
        if not ok:
            return
        new = ops.run(self, "Document reçu", lambda: family_portal.add_family_document(
            self.desk, self.family_id, kind, Path(path).name, Path(path).read_bytes(),
            mimetypes.guess_type(path)[0] or "application/octet-stream"), on_error=lambda text: self._say(text, True))
        if new is None:
            return
        self.docs.insert(0, new)
        self._show()
        self._say(f"Document « {new.kind} » enregistré.")

    def manage_published(self) -> None:
        PublishedDocumentsDialog(self.desk, self).exec()


class PublishedDocumentsDialog(QDialog):
    """The documents every family can download from the portal, managed in one place."""

    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle("Documents publiés à toutes les familles")
        self.resize(760, 420)
        lay = QVBoxLayout(self)
        self.model = ColumnsTableModel([
            ("Type", lambda d: d.kind), ("Titre", lambda d: d.title), ("Fichier", lambda d: d.filename),
            ("Publié le", lambda d: _when(d.received_at)), ("Taille", lambda d: f"{max(1, d.size // 1024)} Ko", True),
        ], self)
        self.view = table_view(self.model, stretch=1)
        lay.addWidget(self.view, 1)
        form = QHBoxLayout()
        self.kind = QLineEdit()
        self.kind.setPlaceholderText("Type (Règlement, Menus, Notice…)")
        self.title = QLineEdit()
        self.title.setPlaceholderText("Titre affiché aux familles")
        add = QPushButton("&Publier un fichier…")
        add.clicked.connect(self.publish)
        remove = QPushButton("&Retirer")
        remove.clicked.connect(self.unpublish)
        for w in (self.kind, self.title, add, remove):
            form.addWidget(w)
        lay.addLayout(form)
        self.message = QLabel()
        self.message.setStyleSheet(ERROR_STYLE)
        self.message.setWordWrap(True)
        lay.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.Close)
        buttons.rejected.connect(self.reject)
        buttons.button(QDialogButtonBox.Close).setText("Fermer")
        lay.addWidget(buttons)
        self.refresh()

    def refresh(self) -> None:
        self.docs = family_portal.list_published(self.desk)
        self.model.set_rows(self.docs)

    def publish_bytes(self, filename: str, content: bytes, mime: str = "application/pdf") -> bool:
        if ops.run(self, "Publier un document", lambda: family_portal.publish_document(
                self.desk, self.kind.text(), self.title.text(), filename, content, mime),
                on_error=self.message.setText) is None:
            return False
        self.message.clear()
        self.kind.clear()
        self.title.clear()
        self.refresh()
        return True

    def publish(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Document à publier")
        if path:
            self.publish_bytes(Path(path).name, Path(path).read_bytes(),
                               mimetypes.guess_type(path)[0] or "application/octet-stream")

    def unpublish(self) -> None:
        index = self.view.currentIndex()
        if not index.isValid():
            return
        doc = self.docs[index.row()]
        ops.run(self, "Retirer un document", lambda: family_portal.unpublish_document(self.desk, doc.id, doc.version),
                on_error=self.message.setText)
        self.refresh()


class MailPage(Page):
    """The family's e-mails, as the Courriels view lists them."""

    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.lay = QVBoxLayout(self)
        self.inner: FamilyMailList | None = None
        self.family_id = None

    def load(self, snap) -> None:
        if self.family_id == snap.id and self.inner is not None:
            self.inner.refresh()
            return
        self.family_id = snap.id
        if self.inner is not None:
            self.inner.setParent(None)
        self.inner = FamilyMailList(self.desk, snap.id)
        self.lay.addWidget(self.inner)


class HistoryPage(Page):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        lay = QVBoxLayout(self)
        details = lambda e: "\n".join(e.details)  # noqa: E731 - the whole entry, on every column
        self.model = ColumnsTableModel([
            Column("Date", lambda e: formats.instant(e.at), tooltip=details),
            Column("Par", lambda e: e.user, tooltip=details),
            Column("Action", lambda e: e.label, tooltip=details),
            Column("Détails", lambda e: " ; ".join(e.details), tooltip=details),
        ], self)
        self.view = table_view(self.model, stretch=3)
        self.view.setColumnWidth(0, 130)
        self.view.setColumnWidth(1, 90)
        self.view.setColumnWidth(2, 250)
        lay.addWidget(self.view)

    def load(self, snap) -> None:
        self.model.set_rows(family_history(self.desk, snap.id))
