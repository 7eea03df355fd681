"""Backups from the window: restore one (Fichier › Restaurer une sauvegarde…) and the settings of
the automatic ones (Fichier › Sauvegardes automatiques…)."""

from __future__ import annotations

from PySide6.QtWidgets import (QDialog, QDialogButtonBox, QFileDialog, QFormLayout, QHBoxLayout,
                               QLineEdit, QMessageBox, QPushButton, QSpinBox, QWidget)

from gandrange_desk.errors import DeskError
from gandrange_desk.services.system import auto_backup


def restore_backup(desk, window) -> bool:
    """Ask for a backup file, confirm, restore; the window then closes (its data is stale)."""
    from gandrange_desk.services.system.restore import restore

    folder = str(auto_backup.read_settings(desk).path())
    path, _ = QFileDialog.getOpenFileName(window, "Restaurer une sauvegarde", folder,
                                          "Sauvegardes (*.sqlite3 *.pgdump *.backup);;Tous les fichiers (*)")
    if not path:
        return False
    answer = QMessageBox.question(
        window, "Restaurer une sauvegarde",
        f"Remplacer toute la base par la sauvegarde {path} ?\n\nLa base actuelle est d'abord copiée "
        "à part. Les autres postes doivent fermer Gandrange Desk. La fenêtre se fermera ensuite.")
    if answer != QMessageBox.Yes:
        return False
    aside = str(auto_backup.read_settings(desk).path()) if desk.engine.url.get_backend_name() != "sqlite" else None
    try:
        result = restore(desk, path, aside_folder=aside)
    except DeskError as exc:
        QMessageBox.warning(window, "Restaurer une sauvegarde", str(exc))
        return False
    QMessageBox.information(window, "Restaurer une sauvegarde",
                            result.text() + "\n\nRelancez Gandrange Desk pour travailler sur la base restaurée.")
    window.close()
    return True


class BackupSettingsDialog(QDialog):
    def __init__(self, desk, parent=None):
        super().__init__(parent)
        self.desk = desk
        self.setWindowTitle("Sauvegardes automatiques")
        current = auto_backup.read_settings(desk)
        self.folder = QLineEdit(str(current.path()))
        browse = QPushButton("Parcourir…")
        browse.clicked.connect(self.pick)
        row = QWidget()
        line = QHBoxLayout(row)
        line.setContentsMargins(0, 0, 0, 0)
        line.addWidget(self.folder, 1)
        line.addWidget(browse)
        self.keep = QSpinBox()
        self.keep.setRange(1, 3650)
        self.keep.setSuffix(" jours")
        self.keep.setValue(current.keep_days)
        form = QFormLayout(self)
        form.addRow("Dossier :", row)
        form.addRow("Conserver :", self.keep)
        buttons = QDialogButtonBox(QDialogButtonBox.Save | QDialogButtonBox.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def pick(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Dossier des sauvegardes", self.folder.text())
        if folder:
            self.folder.setText(folder)

    def accept(self) -> None:
        try:
            auto_backup.save_settings(self.desk, folder=self.folder.text().strip(), keep_days=self.keep.value())
        except DeskError as exc:
            QMessageBox.warning(self, "Sauvegardes automatiques", str(exc))
            return
        super().accept()
