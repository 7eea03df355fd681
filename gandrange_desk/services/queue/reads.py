"""Small reads the Validation tab needs beside the queue itself (`decisions.pending`)."""

from __future__ import annotations

from sqlalchemy import select

from gandrange_desk.models import Activity
from gandrange_desk.services.context import Desk


def activity_choices(desk: Desk) -> list[tuple[int, str]]:
    """(id, name) of every activity, in the settings' order, for the "Activité" filter."""
    with desk.read() as s:
        return [tuple(r) for r in s.execute(
            select(Activity.id, Activity.name).order_by(Activity.position, Activity.id)).all()]


__all__ = ["activity_choices"]
