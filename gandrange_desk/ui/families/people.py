"""Foyer, Responsables and Enfants tabs of the family file."""

from __future__ import annotations

import re
from dataclasses import replace

from PySide6.QtCore import QModelIndex, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gandrange_desk import formats
from gandrange_desk.services.families.data import ChildInput, FoyerInput, GuardianInput, PickupInput
from gandrange_desk.ui.common.table_model import RowsTableModel
from gandrange_desk.ui.families.widgets import (
    ERROR_STYLE, Form, Page, check, combo, date_text, line, set_combo, table_view, text_area,
)


def _sub_errors(fields: dict[str, str], prefix: str) -> dict[str, str]:
    """'guardians[1].email' with prefix 'guardians[1].' -> {'email': …}."""
    return {k[len(prefix):]: v for k, v in fields.items() if k.startswith(prefix)}


def _indexes_with_errors(fields: dict[str, str], name: str) -> set[int]:
    return {int(m.group(1)) for k in fields for m in [re.match(rf"{name}\[(\d+)\]", k)] if m}


class FoyerPage(Page):
    def __init__(self, parent=None):
        super().__init__(parent)
        outer = QHBoxLayout(self)
        left = QWidget()
        self.form = Form(left)
        m = self.mark
        self.name = self.form.add("foyer.name", "&Nom de la famille", line(on_change=m))
        self.street = self.form.add("foyer.street", "&Adresse", line(placeholder="12 rue de la Gare", on_change=m))
        self.postcode = self.form.add("foyer.postcode", "Code &postal", line(placeholder="57175", on_change=m))
        self.postcode.setMaximumWidth(110)
        self.city = self.form.add("foyer.city", "&Commune", line(placeholder="Gandrange", on_change=m))
        self.phone = self.form.add("foyer.phone", "&Téléphone du foyer", line(placeholder="03 87 00 00 00", on_change=m))
        self.emails = QLabel()
        self.emails.setTextInteractionFlags(Qt.TextSelectableByMouse)
        self.form.addRow("E-mails", self.emails)
        self.ack = self.form.add("foyer.acknowledgement_returned", "Accusé de la notice",
                                 check("Signé et rendu avec le dossier périscolaire", m))
        self.notes = self.form.add("foyer.notes", "N&otes", text_area(m, 90))
        outer.addWidget(left, 3)
        self.facts = QLabel()
        self.facts.setAlignment(Qt.AlignTop | Qt.AlignLeft)
        self.facts.setWordWrap(True)
        self.facts.setTextFormat(Qt.RichText)
        box = QGroupBox("En bref")
        lay = QVBoxLayout(box)
        lay.addWidget(self.facts)
        lay.addStretch(1)
        outer.addWidget(box, 2)

    def load(self, snap) -> None:
        self._loading = True
        self.name.setText(snap.name)
        self.street.setText(snap.street)
        self.postcode.setText(snap.postcode)
        self.city.setText(snap.city)
        self.phone.setText(snap.phone)
        self.notes.setPlainText(snap.notes)
        self.ack.setChecked(snap.acknowledgement_returned)
        self.emails.setText(", ".join(g.email for g in snap.guardians if g.email) or "aucune adresse e-mail")
        balance = formats.euros(snap.balance_cents)
        quotient = snap.quotient_on(self._today)
        facts = [
            f"<b>Référence</b> : {snap.ref}",
            f"<b>Solde</b> : {balance}" + (" (à payer)" if snap.balance_cents > 0 else ""),
            f"<b>Paiement</b> : {snap.payment_mode_label}",
            f"<b>Quotient</b> : {quotient.value if quotient else 'aucun (tranche la plus haute)'}",
            f"<b>Compte portail</b> : {snap.portal_state_label}",
            f"<b>Demandes en attente</b> : {snap.pending_requests}",
            f"<b>Enfants</b> : {', '.join(c.first_name for c in snap.children if not c.archived) or 'aucun'}",
        ]
        if not snap.acknowledgement_returned:
            facts.append("<span style='color:#b06000'>⚠ Accusé de la notice non rendu</span>")
        if snap.archived:
            facts.append("<span style='color:#b00020'><b>Famille archivée</b></span>")
        if snap.updated_at:
            facts.append(f"<span style='color:#666'>Modifiée le {formats.instant(snap.updated_at)}"
                         f" par {snap.updated_by or '—'}</span>")
        self.facts.setText("<br>".join(facts))
        self.form.clear_errors()
        self.dirty = False
        self._loading = False

    _today = None

    def set_today(self, today) -> None:
        self._today = today

    def collect(self) -> FoyerInput:
        return FoyerInput(name=self.name.text(), street=self.street.text(), postcode=self.postcode.text(),
                          city=self.city.text(), phone=self.phone.text(), notes=self.notes.toPlainText(),
                          acknowledgement_returned=self.ack.isChecked())

    def show_errors(self, fields: dict[str, str]) -> int:
        return self.form.show_errors(fields)


class _MasterDetail(Page):
    """A list on the left, the selected item's form on the right; drafts kept per item."""

    item_name = ""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.drafts: list = []
        self.errors: dict[str, str] = {}
        self.current = -1
        outer = QHBoxLayout(self)
        left = QVBoxLayout()
        self.list = QListWidget()
        self.list.setMaximumWidth(260)
        self.list.currentRowChanged.connect(self._select)
        left.addWidget(self.list, 1)
        self.buttons = QHBoxLayout()
        left.addLayout(self.buttons)
        self.page_error = QLabel()
        self.page_error.setStyleSheet(ERROR_STYLE)
        self.page_error.setWordWrap(True)
        self.page_error.hide()
        left.addWidget(self.page_error)
        outer.addLayout(left, 1)
        self.detail = QWidget()
        outer.addWidget(self.detail, 3)

    def _label(self, draft) -> str:
        raise NotImplementedError

    def _refresh_list(self) -> None:
        bad = _indexes_with_errors(self.errors, self.item_name)
        self.list.blockSignals(True)
        self.list.clear()
        for i, d in enumerate(self.drafts):
            item = QListWidgetItem(("⚠ " if i in bad else "") + self._label(d))
            if i in bad:
                item.setForeground(QColor("#b00020"))
            self.list.addItem(item)
        self.list.blockSignals(False)
        if self.drafts:
            self.list.setCurrentRow(min(max(self.current, 0), len(self.drafts) - 1))
            self._select(self.list.currentRow())
        else:
            self._select(-1)

    def _select(self, row: int) -> None:
        self.current = row
        self.detail.setEnabled(row >= 0)
        self._loading = True
        if row >= 0:
            self._fill(self.drafts[row])
        self._loading = False
        self._show_current_errors()

    def _show_current_errors(self) -> None:
        prefix = f"{self.item_name}[{self.current}]."
        self._form_errors(_sub_errors(self.errors, prefix) if self.current >= 0 else {})
        general = [v for k, v in self.errors.items() if not re.match(rf"{self.item_name}\[\d+\]\.", k)]
        others = len(_indexes_with_errors(self.errors, self.item_name) - {self.current})
        if others:
            general.append("D'autres fiches de la liste (⚠) ont aussi des erreurs.")
        self.page_error.setText("\n".join(general))
        self.page_error.setVisible(bool(general))

    def edit_current(self) -> None:
        if self._loading or self.current < 0:
            return
        self.drafts[self.current] = self._read(self.drafts[self.current])
        item = self.list.item(self.current)
        if item is not None:
            item.setText(self._label(self.drafts[self.current]))
        self.mark()

    def show_errors(self, fields: dict[str, str]) -> int:
        self.errors = {k: v for k, v in fields.items() if k.startswith(self.item_name)}
        bad = sorted(_indexes_with_errors(self.errors, self.item_name))
        if bad and self.current not in bad:
            self.current = bad[0]
        self._refresh_list()
        return len(self.errors)

    def collect(self) -> list:
        return list(self.drafts)


class GuardiansPage(_MasterDetail):
    item_name = "guardians"

    def __init__(self, parent=None):
        super().__init__(parent)
        add = QPushButton("&Ajouter")
        add.clicked.connect(self.add_guardian)
        remove = QPushButton("&Retirer")
        remove.clicked.connect(self.remove_guardian)
        self.buttons.addWidget(add)
        self.buttons.addWidget(remove)
        self.form = Form(self.detail)
        e = self.edit_current
        self.first_name = self.form.add("first_name", "&Prénom", line(on_change=e))
        self.last_name = self.form.add("last_name", "&Nom", line(on_change=e))
        self.relation = self.form.add("relation", "&Lien", combo(
            [(x, x) for x in ("Mère", "Père", "Tuteur", "Tutrice", "Grand-mère", "Grand-père", "Autre")], e, editable=True))
        self.email = self.form.add("email", "&E-mail", line(placeholder="prenom.nom@exemple.fr", on_change=e))
        self.phone = self.form.add("phone", "&Téléphone", line(placeholder="06 12 34 56 78", on_change=e))
        self.receives = self.form.add("receives_email", "Courriels", check("Reçoit les courriels de la structure", e))
        self.holder = self.form.add("holds_portal_account", "Portail", check("Détient le compte du portail", e))
        self.doubtful = QLabel()
        self.doubtful.setStyleSheet(ERROR_STYLE)
        self.form.addRow("", self.doubtful)

    def load(self, snap) -> None:
        self.drafts = [GuardianInput(id=g.id, first_name=g.first_name, last_name=g.last_name, relation=g.relation,
                                     email=g.email, phone=g.phone, receives_email=g.receives_email,
                                     holds_portal_account=g.holds_portal_account) for g in snap.guardians]
        self._doubtful = {g.id for g in snap.guardians if g.email_doubtful}
        self.errors = {}
        self.current = 0
        self._refresh_list()
        self.dirty = False

    def _label(self, d: GuardianInput) -> str:
        name = f"{d.first_name} {d.last_name}".strip() or "(nouveau responsable)"
        marks = [x for x, on in (("✉", d.receives_email and d.email), ("portail", d.holds_portal_account)) if on]
        return f"{name}  {' · '.join(marks)}".strip()

    def _fill(self, d: GuardianInput) -> None:
        self.first_name.setText(d.first_name)
        self.last_name.setText(d.last_name)
        set_combo(self.relation, d.relation)
        self.email.setText(d.email)
        self.phone.setText(d.phone)
        self.receives.setChecked(d.receives_email)
        self.holder.setChecked(d.holds_portal_account)
        self.doubtful.setText("Adresse refusée par le serveur de messagerie : à vérifier avec la famille."
                              if d.id in getattr(self, "_doubtful", set()) else "")

    def _read(self, d: GuardianInput) -> GuardianInput:
        holder = self.holder.isChecked()
        if holder and not d.holds_portal_account:
            # One holder at a time: ticking one unticks the others.
            for i, other in enumerate(self.drafts):
                if i != self.current:
                    self.drafts[i] = replace(other, holds_portal_account=False)
        return replace(d, first_name=self.first_name.text(), last_name=self.last_name.text(),
                       relation=self.relation.currentText(), email=self.email.text(), phone=self.phone.text(),
                       receives_email=self.receives.isChecked(), holds_portal_account=holder)

    def _form_errors(self, fields: dict[str, str]) -> None:
        self.form.show_errors(fields)

    def add_guardian(self) -> None:
        family_name = self.drafts[0].last_name if self.drafts else ""
        self.drafts.append(GuardianInput(first_name="", last_name=family_name, receives_email=True))
        self.current = len(self.drafts) - 1
        self._refresh_list()
        self.first_name.setFocus()
        self.mark()

    def remove_guardian(self) -> None:
        if self.current < 0:
            return
        del self.drafts[self.current]
        self.errors = {}
        self.current = min(self.current, len(self.drafts) - 1)
        self._refresh_list()
        self.mark()


class PickupModel(RowsTableModel):
    """The people who may (or may not) collect the child: typed in place, "Autorisée" ticked
    (unticked: the person is not allowed to take the child, shown in red)."""

    HEADERS = ("Nom", "Lien", "Téléphone", "Autorisée")
    EDITABLE = frozenset({0, 1, 2})
    CHECK_COLUMN = 3
    FIELDS = ("name", "relation", "phone")

    def __init__(self, on_change, parent=None):
        super().__init__(parent)
        self.rowEdited.connect(lambda _row: on_change())

    def set_rows(self, rows: list[PickupInput]) -> None:
        super().set_rows(replace(r) for r in rows)  # drafts of their own: editing never touches the snapshot

    def is_checked(self, row: int) -> bool:
        return not self.rows[row].forbidden

    def set_checked(self, row: int, checked: bool) -> None:
        self.rows[row].forbidden = not checked

    def set_value(self, row: int, column: int, value) -> bool:
        setattr(self.rows[row], self.FIELDS[column], str(value))
        return True

    def data(self, index, role=Qt.DisplayRole):
        r = self.row(index)
        if r is None:
            return None
        col = index.column()
        if col == 3:
            if role == Qt.CheckStateRole:
                return self.check_state(index.row())
            if role == Qt.DisplayRole:
                return "non — interdite" if r.forbidden else "oui"
            if role == Qt.ForegroundRole and r.forbidden:
                return QColor("#b00020")
            return None
        if role in (Qt.DisplayRole, Qt.EditRole):
            return getattr(r, self.FIELDS[col])
        return None


class ChildrenPage(_MasterDetail):
    item_name = "children"

    def __init__(self, schools: list[tuple[int, str]], parent=None):
        super().__init__(parent)
        add = QPushButton("&Ajouter")
        add.clicked.connect(self.add_child)
        self.buttons.addWidget(add)
        detail = QVBoxLayout(self.detail)
        top = QWidget()
        self.form = Form(top)
        e = self.edit_current
        self.first_name = self.form.add("first_name", "&Prénom", line(on_change=e))
        self.last_name = self.form.add("last_name", "&Nom", line(on_change=e))
        self.birth = self.form.add("birth_date", "Date de &naissance", line(placeholder="jj/mm/aaaa", on_change=e))
        self.birth.setMaximumWidth(130)
        self.school = self.form.add("school_id", "É&cole", combo([(None, "—"), *schools], e))
        self.class_name = self.form.add("class_name", "C&lasse", line(placeholder="CE1", on_change=e))
        self.class_name.setMaximumWidth(130)
        self.archived = self.form.add("archived", "Départ", check("A quitté la structure (archivé)", e))
        detail.addWidget(top)
        self.health_box = QGroupBox("Santé")
        health_w = self.health_w = QWidget()
        self.health_form = Form(health_w)
        self.allergies = self.health_form.add("allergies", "Allergies", line(on_change=e))
        self.pai = self.health_form.add("pai", "PAI", check("Projet d'accueil individualisé", e))
        self.doctor = self.health_form.add("doctor", "Médecin", line(on_change=e))
        self.health_notes = self.health_form.add("health_notes", "Notes de santé", text_area(e, 50))
        hl = QVBoxLayout(self.health_box)
        hl.addWidget(health_w)
        self.health_hidden = QLabel("Données de santé : réservées aux rôles habilités.")
        self.health_hidden.setStyleSheet("color:#666;")
        hl.addWidget(self.health_hidden)
        detail.addWidget(self.health_box)
        pick_box = QGroupBox("Personnes autorisées à venir chercher l'enfant (ou interdites)")
        pl = QVBoxLayout(pick_box)
        self.pickups = PickupModel(self._pickups_changed)
        self.pickup_view = table_view(self.pickups, stretch=0)
        from PySide6.QtWidgets import QAbstractItemView

        self.pickup_view.setEditTriggers(QAbstractItemView.AllEditTriggers)
        self.pickup_view.setFixedHeight(110)
        pl.addWidget(self.pickup_view)
        row = QHBoxLayout()
        add_p = QPushButton("Ajouter une &personne")
        add_p.clicked.connect(self.add_pickup)
        del_p = QPushButton("Retirer la personne")
        del_p.clicked.connect(self.remove_pickup)
        row.addWidget(add_p)
        row.addWidget(del_p)
        row.addStretch(1)
        pl.addLayout(row)
        self.pickup_errors = QLabel()
        self.pickup_errors.setStyleSheet(ERROR_STYLE)
        self.pickup_errors.setWordWrap(True)
        pl.addWidget(self.pickup_errors)
        detail.addWidget(pick_box)
        detail.addStretch(1)
        self.health_visible = True
        self.medical_visible = True

    def load(self, snap) -> None:
        self.health_visible = snap.health_visible
        # Medical notes and the doctor: only for the roles the settings name.
        self.medical_visible = snap.health_visible and snap.medical_visible
        self.drafts = [ChildInput(
            id=c.id, first_name=c.first_name, last_name=c.last_name, birth_date=date_text(c.birth_date),
            school_id=c.school_id, class_name=c.class_name, archived=c.archived,
            health_notes=c.health_notes, allergies=c.allergies, pai=c.pai, doctor=c.doctor,
            pickups=[PickupInput(p.name, p.relation, p.phone, p.forbidden) for p in c.pickups],
        ) for c in snap.children]
        self.refs = {c.id: c.ref for c in snap.children}
        self._family_name = snap.name
        self.health_w.setVisible(self.health_visible)
        self.health_hidden.setVisible(not self.health_visible)
        for key in ("doctor", "health_notes"):
            self.health_form.set_row_visible(key, self.medical_visible)
        self.errors = {}
        self.current = 0
        self._refresh_list()
        self.dirty = False

    def _label(self, d: ChildInput) -> str:
        name = f"{d.first_name} {d.last_name}".strip() or "(nouvel enfant)"
        return name + ("  (parti)" if d.archived else "")

    def _fill(self, d: ChildInput) -> None:
        self.first_name.setText(d.first_name)
        self.last_name.setText(d.last_name)
        self.birth.setText(d.birth_date if isinstance(d.birth_date, str) else date_text(d.birth_date))
        set_combo(self.school, d.school_id)
        self.class_name.setText(d.class_name)
        self.archived.setChecked(d.archived)
        if self.health_visible:
            self.allergies.setText(d.allergies or "")
            self.pai.setChecked(bool(d.pai))
            if self.medical_visible:
                self.doctor.setText(d.doctor or "")
                self.health_notes.setPlainText(d.health_notes or "")
        self.pickups.set_rows(d.pickups or [])

    def _read(self, d: ChildInput) -> ChildInput:
        values = dict(first_name=self.first_name.text(), last_name=self.last_name.text(),
                      birth_date=self.birth.text(), school_id=self.school.currentData(),
                      class_name=self.class_name.text(), archived=self.archived.isChecked(),
                      pickups=[replace(p) for p in self.pickups.rows])
        if self.health_visible:
            values.update(allergies=self.allergies.text(), pai=self.pai.isChecked())
        if self.health_visible and self.medical_visible:
            values.update(doctor=self.doctor.text(), health_notes=self.health_notes.toPlainText())
        return replace(d, **values)

    def _form_errors(self, fields: dict[str, str]) -> None:
        self.form.show_errors(fields)
        self.health_form.show_errors(fields)
        pick = [v for k, v in fields.items() if k.startswith("pickups[")]
        self.pickup_errors.setText("\n".join(pick))
        self.pickup_errors.setVisible(bool(pick))

    def _pickups_changed(self) -> None:
        self.edit_current()

    def add_child(self) -> None:
        self.drafts.append(ChildInput(first_name="", last_name=getattr(self, "_family_name", ""), birth_date="",
                                      health_notes="" if self.health_visible and self.medical_visible else None,
                                      allergies="" if self.health_visible else None,
                                      pai=False if self.health_visible else None,
                                      doctor="" if self.health_visible and self.medical_visible else None,
                                      pickups=[]))
        self.current = len(self.drafts) - 1
        self._refresh_list()
        self.first_name.setFocus()
        self.mark()

    def add_pickup(self) -> None:
        if self.current < 0:
            return
        self.pickups.beginInsertRows(QModelIndex(), len(self.pickups.rows), len(self.pickups.rows))
        self.pickups.rows.append(PickupInput(""))
        self.pickups.endInsertRows()
        self.edit_current()
        self.pickup_view.setCurrentIndex(self.pickups.index(len(self.pickups.rows) - 1, 0))
        self.pickup_view.edit(self.pickup_view.currentIndex())

    def remove_pickup(self) -> None:
        row = self.pickup_view.currentIndex().row()
        if self.current < 0 or row < 0:
            return
        self.pickups.beginRemoveRows(QModelIndex(), row, row)
        del self.pickups.rows[row]
        self.pickups.endRemoveRows()
        self.edit_current()
