"""The columns the first screen reads, as SQLAlchemy Core tables: no ORM, no models.

The window is usable once its first tab (the Familles list) is filled and the status bar has
its counts (issue 14, start-up). Those reads need SQLAlchemy Core only: the ORM, the 31 models
and their mappers' configuration (~0.4 s of CPU here) load after the first tab is on screen,
when the clerk first needs them. Each name, type and table below is the model's own
(`tests/system/test_first_screen.py` compares them with `gandrange_desk.models`).
"""

from __future__ import annotations

from sqlalchemy import Boolean, Date, Integer, String, Text
from sqlalchemy.sql import column, table

family = table(
    "family",
    column("id", Integer), column("ref", String(40)), column("name", String(200)),
    column("payment_mode", String(20)), column("portal_state", String(20)),
    column("acknowledgement_returned", Boolean), column("archived", Boolean),
    column("search_text", Text),
)
child = table(
    "child",
    column("id", Integer), column("family_id", Integer), column("first_name", String(100)),
    column("birth_date", Date), column("archived", Boolean),
)
invoice = table(
    "invoice",
    column("id", Integer), column("family_id", Integer), column("status", String(10)),
    column("total_cents", Integer),
)
credit_note = table(
    "credit_note",
    column("id", Integer), column("invoice_id", Integer), column("total_cents", Integer),
)
payment_allocation = table(
    "payment_allocation",
    column("id", Integer), column("invoice_id", Integer), column("amount_cents", Integer),
)
request = table(
    "request",
    column("id", Integer), column("family_id", Integer), column("status", String(12)),
)
structure = table(
    "structure",
    column("id", Integer), column("name", String(200)), column("school_zone", String(4)),
    column("holiday_subdivision", String(8)),
)
outbox_message = table(
    "outbox_message",
    column("id", Integer), column("status", String(16)),
)

TABLES = (family, child, invoice, credit_note, payment_allocation, request, structure, outbox_message)
