"""Reading allocation files: CSV (UTF-8, with or without BOM) or XLSX, with the header
`uscc,unit_category,electricity_mwh,heat_gj,correction_factor` (correction_factor may be blank: 1)."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from typing import IO

from django.utils.translation import gettext as _

from core.errors import InvalidInput

COLUMNS = ["uscc", "unit_category", "electricity_mwh", "heat_gj", "correction_factor"]
REQUIRED = COLUMNS[:4]


@dataclass(frozen=True)
class RawRow:
    number: int  # the row's line in the file (the header is line 1)
    values: dict[str, str]


def read_rows(stream: IO[bytes], filename: str) -> list[RawRow]:
    name = filename.lower()
    if name.endswith(".xlsx"):
        return _rows(_xlsx_lines(stream))
    if name.endswith(".csv"):
        try:
            text = stream.read().decode("utf-8-sig")
        except UnicodeDecodeError:
            raise InvalidInput(_("The CSV file is not UTF-8."), field="file") from None
        return _rows(list(csv.reader(io.StringIO(text))))
    raise InvalidInput(_("Upload a .csv or .xlsx file."), field="file")


def _xlsx_lines(stream: IO[bytes]) -> list[list[str]]:
    from openpyxl import load_workbook

    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise InvalidInput(_("The file is not a readable XLSX workbook."), field="file") from None
    sheet = workbook.worksheets[0]
    return [["" if cell is None else str(cell) for cell in row] for row in sheet.iter_rows(values_only=True)]


def _rows(lines: list[list[str]]) -> list[RawRow]:
    if not lines:
        raise InvalidInput(_("The file is empty."), field="file")
    header = [cell.strip().lower() for cell in lines[0]]
    missing = [column for column in REQUIRED if column not in header]
    if missing:
        raise InvalidInput(_("The header lacks %(missing)s; expected %(columns)s.") % {"missing": ", ".join(missing), "columns": ",".join(COLUMNS)}, field="file")
    rows = []
    for number, line in enumerate(lines[1:], start=2):
        if not any(cell.strip() for cell in line):
            continue
        values = {column: (line[index].strip() if index < len(line) else "") for index, column in enumerate(header)}
        rows.append(RawRow(number=number, values=values))
    if not rows:
        raise InvalidInput(_("The file has a header but no rows."), field="file")
    return rows
