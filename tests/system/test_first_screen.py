"""The first screen's Core tables (`services.first_screen`) are the models' own columns: the
Familles list and the status bar read them before the ORM loads (issue 14, start-up)."""

from __future__ import annotations

from gandrange_desk.models import Base
from gandrange_desk.services.first_screen import TABLES


def test_every_first_screen_column_is_the_models_column_of_the_same_type():
    for light in TABLES:
        model = Base.metadata.tables[light.name]
        for col in light.c:
            assert col.name in model.c, f"{light.name}.{col.name} is not a column of the model"
            mine, theirs = col.type, model.c[col.name].type
            assert type(mine)._type_affinity is type(theirs)._type_affinity, (light.name, col.name, mine, theirs)
            assert getattr(mine, "length", None) == getattr(theirs, "length", None), (light.name, col.name)
