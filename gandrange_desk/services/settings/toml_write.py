"""Write a `SettingsSpec` back as the settings file of DESIGN §7 (`settings export`, the window's
document). Reading and validating is `toml`; both follow the tables of `fields`."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING

from gandrange_desk.models.base import money_str
from gandrange_desk.services.settings.fields import ATTENDANCE_FIELDS, STRUCTURE_FIELDS

if TYPE_CHECKING:
    from gandrange_desk.services.settings.toml import PriceRow, SettingsSpec

DEFAULT_CLOSURE_LABEL = "Fermeture"


def _q(value: str) -> str:
    out = value.replace("\\", "\\\\").replace('"', '\\"')
    out = out.replace("\n", "\\n").replace("\r", "\\r").replace("\t", "\\t")
    out = "".join(c if ord(c) >= 0x20 and c != "\x7f" else f"\\u{ord(c):04x}" for c in out)
    return f'"{out}"'


def _prices(rows: list[PriceRow]) -> str:
    items = []
    for row in rows:
        price = f'price = {_q(money_str(row.cents))}'
        items.append(f"{{ qf_max = {row.qf_max}, {price} }}" if row.qf_max is not None else f"{{ {price} }}")
    return "[" + ", ".join(items) + "]"


def _extra_keys() -> str:
    lines = []
    for f in STRUCTURE_FIELDS:
        if f.extra:
            bounds = f", {f.bounds[0]} to {f.bounds[1]}" if f.bounds else ""
            lines.append(f"#   {f.key}: {f.title}{bounds}\n")
    return "".join(lines)


HEADER = """\
# Gandrange Desk settings (DESIGN §7), exported {today}.
# Import with: gandrange-desk settings import FILE.toml
# Besides the design's keys, [structure] may hold:
""" + _extra_keys().replace("{", "{{").replace("}", "}}") + """\
# and closures may carry a third item, their label.
# Each [[activity.unit]] may hold valid_from (the day its prices apply from; the import date
# otherwise), sibling_prices = [{{ rank = 2, prices = [...] }}], pai_price, late_surcharge.
# [attendance] says what an absence or a walk-in costs: bill_no_shows, bill_walk_ins,
# walk_in_surcharge_percent (of the price), walk_in_surcharge (a fixed amount).
# The SMTP password is never here: keyring or GANDRANGE_DESK_SMTP_PASSWORD.
"""


def _structure_line(f, value) -> str:
    if f.kind == "int":
        return f"{f.key} = {value}"
    return f"{f.key} = {_q(value or '')}"


def render_settings(spec: SettingsSpec, today: date) -> str:
    lines = [HEADER.format(today=today.isoformat()), "[structure]"]
    s = spec.structure
    lines += [_structure_line(f, s.get(f.key)) for f in STRUCTURE_FIELDS if not f.extra]
    lines.append("schools = [" + ", ".join(_q(n) for n in spec.schools) + "]")
    closures = []
    for first, last, label in spec.closures:
        item = f"{_q(first.isoformat())}, {_q(last.isoformat())}"
        if label != DEFAULT_CLOSURE_LABEL:
            item += f", {_q(label)}"
        closures.append(f"[{item}]")
    lines.append("closures = [" + ", ".join(closures) + "]")
    lines += [_structure_line(f, s.get(f.key)) for f in STRUCTURE_FIELDS if f.extra]
    if spec.smtp is not None:
        m = spec.smtp
        lines += ["", "[smtp]", f"host = {_q(m['host'])}", f"port = {m['port']}",
                  f"security = {_q(m['security'])}", f"user = {_q(m['user'])}",
                  f"sender = {_q(m['sender'])}"]
        if m.get("reply_to"):
            lines.append(f"reply_to = {_q(m['reply_to'])}")
    if spec.attendance is not None:
        lines += ["", "[attendance]"]
        for f in ATTENDANCE_FIELDS:
            value = spec.attendance.get(f.key, f.default)
            shown = ("true" if value else "false") if f.kind == "bool" else \
                _q(money_str(value)) if f.kind == "price" else str(value)
            lines.append(f"{f.file_key} = {shown}")
    for a in spec.activities:
        lines += ["", "[[activity]]", f"code = {_q(a.code)}", f"name = {_q(a.name)}",
                  f"opens = {_q(a.opens)}",
                  "weekdays = [" + ", ".join(_q(d) for d in a.weekdays) + "]",
                  f"booking_deadline = {{ working_days = {a.booking_days}, time = {_q(a.booking_time)} }}",
                  f"cancellation_deadline = {{ working_days = {a.cancellation_days}, "
                  f"time = {_q(a.cancellation_time)} }}"]
        for u in a.units:
            lines += ["", "  [[activity.unit]]", f"  name = {_q(u.name)}"]
            if u.capacity is not None:
                lines.append(f"  capacity = {u.capacity}")
            lines.append(f"  meal = {'true' if u.meal else 'false'}")
            if u.valid_from is not None:
                lines.append(f"  valid_from = {_q(u.valid_from.isoformat())}")
            lines.append(f"  prices = {_prices(u.prices)}")
            if u.sibling_prices:
                sib = ", ".join(f"{{ rank = {rank}, prices = {_prices(rows)} }}"
                                for rank, rows in sorted(u.sibling_prices.items()))
                lines.append(f"  sibling_prices = [{sib}]")
            if u.pai_cents is not None:
                lines.append(f"  pai_price = {_q(money_str(u.pai_cents))}")
            if u.late_surcharge_cents is not None:
                lines.append(f"  late_surcharge = {_q(money_str(u.late_surcharge_cents))}")
    return "\n".join(lines) + "\n"
