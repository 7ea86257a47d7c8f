"""What an admin import's preview shows and offers to download (allocation plans, verified emissions):

- each row's errors once, with the column's human name in the reader's language
  ("Electricity (MWh): must not be negative", "电量（MWh）：不能为负数"), never the raw field;
- the rows in file order, those with errors listed first above the table and highlighted in it;
- the error file: the uploaded rows as they were read, in file order, with an `errors` column (a
  person fixes the rows in it and uploads it again: the importer ignores a column it does not know);
- the templates: the header and an example row, as CSV (UTF-8 with a byte-order mark, which Excel
  opens in any language) and XLSX.

The error file waits in IMPORT_UPLOAD_DIR/errors/ by a generated name (never an upload's, so it cannot
be confirmed as one), is given only to the session that made it, and goes with the hourly clean-up of
abandoned uploads (core.import_jobs.uploads_purge)."""

from __future__ import annotations

import csv
import io
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core import import_jobs
from core.imports import ImportRows, RowError

# The columns of the import files as a person reads them (the header keeps the machine names).
FIELD_LABELS = {
    "uscc": gettext_lazy("USCC"),
    "unit_category": gettext_lazy("Unit category"),
    "electricity_mwh": gettext_lazy("Electricity (MWh)"),
    "heat_gj": gettext_lazy("Heat (GJ)"),
    "correction_factor": gettext_lazy("Correction factor"),
    "verified_emissions": gettext_lazy("Verified emissions (t)"),
    "unit_code": gettext_lazy("Unit code"),
    "sector": gettext_lazy("Sector"),
    "product_output_t": gettext_lazy("Product output (t)"),
    "co2_t": gettext_lazy("CO2 (t)"),
    "cf4_t": gettext_lazy("CF4 (t)"),
    "c2f6_t": gettext_lazy("C2F6 (t)"),
}
# The list above the preview's table names at most this many rows in error.
ERRORS_LISTED = 100
# The error file's extra column (a name no import reads, so the fixed file imports as it is).
ERRORS_COLUMN = "errors"
# The error files a session may download (the newest; older ones are forgotten).
SESSION_KEY = "import_error_files"
SESSION_KEEP = 10

# A well-formed USCC (its check character holds) for a template's example row when the regulator has
# no unit to show.
EXAMPLE_USCC = "91110000100000000R"

_ERROR_FILE = re.compile(r"[0-9a-f]{32}\.errors\.csv")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def field_label(name: str) -> str:
    """The column's human name; a column the reader named by position ("column 6") stays as it is."""
    label = FIELD_LABELS.get(name)
    return str(label) if label is not None else name


def error_text(error: RowError) -> str:
    return _("%(field)s: %(problem)s") % {"field": field_label(error.field), "problem": error.message}


def messages_by_row(errors: Iterable[RowError]) -> dict[int, list[str]]:
    """Each row's errors as a person reads them, each once, in the order they were found."""
    found: dict[int, list[str]] = {}
    for error in errors:
        texts = found.setdefault(error.row, [])
        text = error_text(error)
        if text not in texts:
            texts.append(text)
    return found


@dataclass
class PreviewRow:
    number: int
    cells: list[Any]
    errors: list[str] = field(default_factory=list)


@dataclass
class PreviewTable:
    """The preview's table: `columns` (human names) over `rows` in file order; `error_rows`, the rows
    with errors in file order, are what the page shows first."""

    columns: list[str]
    rows: list[PreviewRow]

    @cached_property
    def error_rows(self) -> list[PreviewRow]:
        return [row for row in self.rows if row.errors]

    @property
    def error_rows_listed(self) -> list[PreviewRow]:
        """The rows in error the list above the table names (the table and the error file have all)."""
        return self.error_rows[:ERRORS_LISTED]

    @property
    def error_rows_not_listed(self) -> int:
        return max(len(self.error_rows) - ERRORS_LISTED, 0)


def preview_table(columns: list[str], lines: Iterable[tuple[int, list[Any]]], errors: Iterable[RowError]) -> PreviewTable:
    """`lines`: (row number, cells) in file order; `errors`: every row's errors."""
    by_row = messages_by_row(errors)
    rows = [PreviewRow(number, ["—" if cell is None else cell for cell in cells], by_row.get(number, []))
            for number, cells in lines]
    return PreviewTable(columns, sorted(rows, key=lambda row: row.number))


# --- the error file ---


def error_file_bytes(rows: ImportRows, errors: Iterable[RowError]) -> bytes:
    """The uploaded rows in file order with their errors (blank for a good row), as a UTF-8 CSV with a
    byte-order mark. Columns the header did not name are left out (the reader did not keep them)."""
    by_row = messages_by_row(errors)
    header = [name for name in rows.header if name]
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([*header, ERRORS_COLUMN])
    for row in rows:
        writer.writerow([*(row.values.get(name, "") for name in header), "; ".join(by_row.get(row.number, []))])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def _error_dir() -> Path:
    return import_jobs.upload_dir() / import_jobs.ERROR_FILES


def error_file_store(request: HttpRequest, rows: ImportRows, errors: Iterable[RowError]) -> str:
    """Writes the error file under a generated name, lets this session download it, returns the name."""
    directory = _error_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}.errors.csv"
    (directory / name).write_bytes(error_file_bytes(rows, errors))
    kept = [*request.session.get(SESSION_KEY, []), name][-SESSION_KEEP:]
    request.session[SESSION_KEY] = kept
    return name


def error_file_path(request: HttpRequest, name: str) -> Path | None:
    if not _ERROR_FILE.fullmatch(name or "") or name not in request.session.get(SESSION_KEY, []):
        return None
    path = _error_dir() / name
    return path if path.exists() else None


def error_file_response(request: HttpRequest, name: str, source_name: str) -> HttpResponse:
    """The error file, downloaded as "<the uploaded file's name>-errors.csv"; 404 for another session's."""
    path = error_file_path(request, name)
    if path is None:
        raise Http404(_("No such error file: preview the file again."))
    stem = Path(source_name or "import").stem or "import"
    stem = re.sub(r"[^\w.-]+", "_", stem)[:80]
    return FileResponse(path.open("rb"), as_attachment=True, filename=f"{stem}-errors.csv",
                        content_type="text/csv; charset=utf-8")


# --- the templates ---


def template_response(*, name: str, file_format: str, header: list[str], example: list[Any]) -> HttpResponse:
    """The import's header and an example row, as `name`.csv or `name`.xlsx (text cells stay text)."""
    if file_format == "csv":
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(header)
        writer.writerow(["" if value is None else value for value in example])
        response = HttpResponse(("\ufeff" + out.getvalue()).encode("utf-8"), content_type="text/csv; charset=utf-8")
    elif file_format == "xlsx":
        from openpyxl import Workbook

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = name[:31]
        sheet.append(header)
        sheet.append(example)
        for column, value in enumerate(example, start=1):
            if isinstance(value, str):
                sheet.cell(row=2, column=column).number_format = "@"  # a USCC is text, never a number
            sheet.column_dimensions[sheet.cell(row=1, column=column).column_letter].width = max(len(header[column - 1]), 20)
        buffer = io.BytesIO()
        workbook.save(buffer)
        response = HttpResponse(buffer.getvalue(), content_type=XLSX_TYPE)
    else:
        raise Http404(_("No such template."))
    response["Content-Disposition"] = f'attachment; filename="{name}-template.{file_format}"'
    return response
