"""Writing `Table`s as XLSX (XlsxWriter) or CSV, the format chosen by the file's extension.

XLSX: one sheet per table; header row in bold, frozen (with the table's `freeze_columns`), an
autofilter over header and data; numbers, dates and booleans as typed cells with French
formats (`1 234,56 €` shows as Excel's locale says); a total row of SUBTOTAL formulas that
follow the filter, each with its exact value cached so a reader without a calculator (openpyxl,
a viewer) sees the same total as the desk. Document title and author in the file's properties.

CSV: the first table only, for other tools: UTF-8 with a BOM (Excel then reads the accents),
`;` between fields, CRLF, decimal comma without thousands separator, dates dd/mm/yyyy, oui/non.
A text that starts like a formula (= + - @) is prefixed with an apostrophe, so opening the file
in a spreadsheet never runs what a family typed.
"""

from __future__ import annotations

import csv
import io
import os
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Sequence

from gandrange_desk.clock import PARIS
from gandrange_desk.errors import DeskError, ValidationFailed
from gandrange_desk.services.exports.table import (
    BOOL, DATE, DATETIME, HOURS, INT, MONEY, MONTH, NUMERIC, TEXT, Table, sheet_name,
)

FORMATS = {"xlsx": "classeur Excel / LibreOffice (.xlsx)", "csv": "texte séparé par des points-virgules (.csv)"}
NUMBER_FORMATS = {MONEY: '#,##0.00\\ "€"', HOURS: "0.00", INT: "0", DATE: "dd/mm/yyyy",
                  MONTH: "mm/yyyy", DATETIME: "dd/mm/yyyy hh:mm"}
_RISKY = ("=", "+", "-", "@", "\t", "\r")
_SAMPLE = 400  # rows measured to size a column
# Day 0 of Excel's 1900 date system as Excel counts after February 1900: a date is its serial
# number with a date format (written as a plain number: XlsxWriter's date conversion is most of
# the time of a large export).
EXCEL_EPOCH = date(1899, 12, 30)


@dataclass(frozen=True)
class ExportResult:
    path: Path
    format: str
    rows: int
    size: int  # bytes

    def text(self) -> str:
        from gandrange_desk import formats

        return f"{formats.count(self.rows, 'ligne exportée', 'lignes exportées')} : {self.path}"


def format_of(path: str | Path) -> str:
    suffix = Path(path).suffix.lower().lstrip(".")
    if suffix not in FORMATS:
        raise ValidationFailed([f"Format de fichier inconnu « {Path(path).name} » : choisissez un fichier "
                                ".xlsx (Excel, LibreOffice) ou .csv."])
    return suffix


def save(tables: Sequence[Table], path: str | Path, *, title: str = "", author: str = "") -> ExportResult:
    """Write the tables to `path` (.xlsx or .csv); the file appears whole or not at all."""
    path = Path(path)
    fmt = format_of(path)
    data = to_bytes(tables, fmt, title=title, author=author)
    write_file(path, data)
    return ExportResult(path, fmt, sum(len(t.rows) for t in tables), len(data))


def write_file(path: str | Path, data: bytes) -> None:
    """Write a document the desk made (export, PDF): the file appears whole or not at all, and a
    folder that cannot be written is said in French."""
    path = Path(path)
    # Written aside then renamed: a failed write never leaves half a file under the chosen name.
    part = path.with_name(path.name + ".part")
    try:
        part.write_bytes(data)
        os.replace(part, path)
    except OSError as exc:
        part.unlink(missing_ok=True)
        raise DeskError(f"Impossible d'écrire {path} : {exc.strerror or exc}.") from exc


def to_bytes(tables: Sequence[Table], fmt: str, *, title: str = "", author: str = "") -> bytes:
    if fmt == "csv":
        return csv_bytes(tables[0])
    return xlsx_bytes(tables, title=title or (tables[0].title if tables else ""), author=author)


# ------------------------------------------------------------------------------------ CSV
def _csv_value(value, kind: str) -> str:
    if value is None:
        return ""
    if kind == MONEY:
        sign = "-" if value < 0 else ""
        return f"{sign}{abs(value) // 100},{abs(value) % 100:02d}"
    if kind == HOURS:
        return f"{Decimal(value):.2f}".replace(".", ",")
    if kind == DATE:
        return value.strftime("%d/%m/%Y")
    if kind == MONTH:
        return value.strftime("%m/%Y")
    if kind == DATETIME:
        return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M")
    if kind == BOOL:
        return "oui" if value else "non"
    if kind == INT:
        return str(int(value))
    text = str(value)
    return "'" + text if text.startswith(_RISKY) else text


def csv_bytes(table: Table) -> bytes:
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow([c.header for c in table.columns])
    kinds = [c.kind for c in table.columns]
    for row in table.rows:
        writer.writerow([_csv_value(v, k) for v, k in zip(row, kinds)])
    return out.getvalue().encode("utf-8-sig")


# ----------------------------------------------------------------------------------- XLSX
def _width(table: Table, index: int) -> float:
    column = table.columns[index]
    if column.width:
        return column.width
    longest = len(column.header)
    for row in table.rows[:_SAMPLE]:
        value = row[index]
        if value is None:
            continue
        if column.kind in (DATE, MONTH, DATETIME, MONEY):
            longest = max(longest, {DATE: 10, MONTH: 8, DATETIME: 16, MONEY: 12}[column.kind])
        else:
            longest = max(longest, len(str(value)))
    return min(max(longest + 2, 6), 60)


def excel_instant(value: datetime) -> float:
    """An instant as Excel's serial number, in Paris time (Excel has no time zones)."""
    local = value.astimezone(PARIS)
    seconds = local.hour * 3600 + local.minute * 60 + local.second
    return (local.date() - EXCEL_EPOCH).days + seconds / 86400


def _excel_number(value, kind: str):
    if kind == MONEY:
        return value / 100
    if kind == HOURS:
        return float(value)
    return value


def xlsx_bytes(tables: Sequence[Table], *, title: str = "", author: str = "") -> bytes:
    import xlsxwriter

    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {
        "in_memory": True, "strings_to_numbers": False, "strings_to_formulas": False,
        "strings_to_urls": False, "remove_timezone": True,
    })
    book.set_properties({"title": title, "author": author, "company": author,
                         "comments": "Exporté par Gandrange Desk"})
    header = book.add_format({"bold": True, "bg_color": "#DCE6F1", "bottom": 1, "text_wrap": True,
                              "valign": "top"})
    plain = {kind: book.add_format({"num_format": fmt}) for kind, fmt in NUMBER_FORMATS.items()}
    bold = {kind: book.add_format({"num_format": fmt, "bold": True, "top": 1}) for kind, fmt in NUMBER_FORMATS.items()}
    bold_text = book.add_format({"bold": True, "top": 1})
    footer_text = book.add_format({"italic": True})
    used_names: set[str] = set()
    for table in tables:
        name = sheet_name(table.name)
        n = 2
        while name.lower() in used_names:
            name = sheet_name(f"{table.name[:27]} ({n})")
            n += 1
        used_names.add(name.lower())
        sheet = book.add_worksheet(name)
        kinds = [c.kind for c in table.columns]
        for i, column in enumerate(table.columns):
            sheet.set_column(i, i, _width(table, i))
            sheet.write_string(0, i, column.header, header)
        row_index = 0
        for row_index, row in enumerate(table.rows, start=1):
            for i, (value, kind) in enumerate(zip(row, kinds)):
                if value is None:
                    continue
                if kind == TEXT:
                    sheet.write_string(row_index, i, str(value))
                elif kind in NUMERIC:
                    sheet.write_number(row_index, i, _excel_number(value, kind), plain[kind])
                elif kind == BOOL:
                    sheet.write_boolean(row_index, i, bool(value))
                elif kind == DATETIME:
                    sheet.write_number(row_index, i, excel_instant(value), plain[DATETIME])
                elif kind in (DATE, MONTH):
                    sheet.write_number(row_index, i, (value - EXCEL_EPOCH).days, plain[kind])
        last_data = row_index
        sheet.freeze_panes(1, table.freeze_columns)
        if table.columns:
            sheet.autofilter(0, 0, max(last_data, 1), len(table.columns) - 1)
        next_row = last_data + 1
        if table.has_totals and table.rows:
            label_col = next((i for i, c in enumerate(table.columns) if not c.total), None)
            if label_col is not None:
                sheet.write_string(next_row, label_col, table.total_label, bold_text)
            for i, (column, total) in enumerate(zip(table.columns, table.totals())):
                if total is None:
                    continue
                letter = xlsxwriter.utility.xl_col_to_name(i)
                sheet.write_formula(next_row, i, f"=SUBTOTAL(109,{letter}2:{letter}{last_data + 1})",
                                    bold[column.kind], _excel_number(total, column.kind))
            next_row += 1
        for footer in table.footer:
            sheet.write_string(next_row, 0, str(footer[0]), footer_text)
            for i, value in enumerate(footer[1:], start=1):
                if value is None:
                    continue
                if isinstance(value, (int, float, Decimal)) and not isinstance(value, bool):
                    sheet.write_number(next_row, i, float(value), plain[INT])
                else:
                    sheet.write_string(next_row, i, str(value), footer_text)
            next_row += 1
    book.close()
    return buffer.getvalue()
