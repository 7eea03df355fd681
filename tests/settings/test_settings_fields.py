"""The structure's settings fields are declared once (services/settings/fields.py): the model, the
file, the service and the Réglages window all follow that table."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import inspect

from gandrange_desk.errors import ValidationFailed
from gandrange_desk.models import Structure
from gandrange_desk.services.settings.fields import STRUCTURE_FIELDS
from gandrange_desk.services.settings.toml import parse_settings, render_settings

BOOKKEEPING = {"id", "version", "updated_at", "updated_by"}


def test_every_structure_column_has_one_field_with_the_same_default():
    columns = {c.key: c for c in inspect(Structure).columns if c.key not in BOOKKEEPING}
    keys = [f.key for f in STRUCTURE_FIELDS]
    assert len(keys) == len(set(keys))
    assert set(keys) == set(columns)
    for f in STRUCTURE_FIELDS:
        model_default = columns[f.key].default.arg if columns[f.key].default is not None else None
        assert model_default in (f.default, None), f.key
        if f.kind == "int":
            low, high = f.bounds
            assert low <= f.default <= high


def test_the_file_says_every_field_and_reads_it_back():
    text = open("tests/data/settings.toml", encoding="utf-8").read()
    spec = parse_settings(text, known_subdivisions=("57",))
    assert set(spec.structure) == {f.key for f in STRUCTURE_FIELDS}
    exported = render_settings(spec, date(2026, 9, 1))
    for f in STRUCTURE_FIELDS:
        assert f"\n{f.key} = " in exported
    assert parse_settings(exported, known_subdivisions=("57",)).structure == spec.structure


def test_a_bound_of_the_table_is_the_files_bound():
    text = open("tests/data/settings.toml", encoding="utf-8").read()
    bad = text.replace("[structure]\n", "[structure]\ncollection_day = 29\n", 1)
    with pytest.raises(ValidationFailed) as refused:
        parse_settings(bad, known_subdivisions=("57",))
    assert "structure.collection_day : valeur 29 hors limites (entre 1 et 28)" in refused.value.problems


def test_the_window_has_one_labelled_widget_per_field(qtbot):
    from PySide6.QtWidgets import QFormLayout, QLabel

    from gandrange_desk.ui.settings.pages import StructurePage

    page = StructurePage()
    qtbot.addWidget(page)
    assert list(page.fields) == [f.key for f in STRUCTURE_FIELDS]
    form = page.layout()
    assert isinstance(form, QFormLayout)
    labels = [form.itemAt(row, QFormLayout.LabelRole).widget() for row in range(form.rowCount())]
    assert [label.text() for label in labels if isinstance(label, QLabel)] == [
        f.label + " :" for f in STRUCTURE_FIELDS]
