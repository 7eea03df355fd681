"""The one table-model base: plain rows, declared columns, typed cells and check boxes."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor

from gandrange_desk.services.families.data import PickupInput
from gandrange_desk.ui.common.table_model import RIGHT, Column, ColumnsTableModel
from gandrange_desk.ui.families.people import PickupModel


@dataclass
class Line:
    label: str
    cents: int


def test_declared_columns_show_rows_of_any_objects(qtmodeltester):
    model = ColumnsTableModel([
        ("Prestation", lambda r: r.label),
        Column("Montant", lambda r: f"{r.cents / 100:.2f} €", right=True, tooltip=lambda r: f"{r.cents} centimes"),
    ])
    model.color = lambda r, col: QColor("#b00020") if r.cents < 0 else None
    model.set_rows([Line("Repas", 360), Line("Avoir", -120)])
    qtmodeltester.check(model)
    assert [model.headerData(c, Qt.Horizontal) for c in range(2)] == ["Prestation", "Montant"]
    assert model.headerData(1, Qt.Horizontal, Qt.TextAlignmentRole) == RIGHT
    assert model.index(0, 1).data() == "3.60 €" and model.index(0, 1).data(Qt.TextAlignmentRole) == RIGHT
    assert model.index(1, 1).data(Qt.ToolTipRole) == "-120 centimes"
    assert model.index(1, 0).data(Qt.ForegroundRole) == QColor("#b00020")
    assert model.index(0, 0).data(Qt.ForegroundRole) is None
    # Read-only: nothing is typed into it.
    assert not model.flags(model.index(0, 0)) & Qt.ItemIsEditable
    assert not model.setData(model.index(0, 0), "Goûter")


def test_typed_cells_and_check_boxes(qtmodeltester):
    edits = []
    source = [PickupInput("Mamie Keller", "Grand-mère", "03 87 00 00 00", False)]
    model = PickupModel(lambda: edits.append(True))
    model.set_rows(source)
    qtmodeltester.check(model)
    name, forbidden = model.index(0, 0), model.index(0, 3)
    assert model.flags(name) & Qt.ItemIsEditable and not model.flags(name) & Qt.ItemIsUserCheckable
    assert model.flags(forbidden) & Qt.ItemIsUserCheckable and not model.flags(forbidden) & Qt.ItemIsEditable
    changed = []
    model.dataChanged.connect(lambda a, b, roles=(): changed.append((a.row(), a.column(), b.column())))
    assert model.setData(name, "Mamie Weber")
    assert model.setData(forbidden, Qt.Checked, Qt.CheckStateRole)
    assert forbidden.data() == "interdit" and forbidden.data(Qt.CheckStateRole) == Qt.Checked
    assert name.data() == "Mamie Weber" and len(edits) == 2
    assert changed == [(0, 0, 3), (0, 0, 3)]  # the whole row: its other columns may depend on it
    assert source[0].name == "Mamie Keller"  # the model edits its own drafts
    model.toggle(0)
    assert forbidden.data() == "autorisé"
    # A check box is not typed into, a typed cell is not ticked.
    assert not model.setData(forbidden, "oui")
    assert not model.setData(name, Qt.Checked, Qt.CheckStateRole)
