"""File formats of the reports: XLSX (openpyxl, write-only so 10,000 rows take about a second) and
PDF (WeasyPrint, from an HTML template). CSV is core.csv, shared with every other export."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def cny(fen: int | None) -> Decimal | None:
    """Fen as yuan with two places, for a spreadsheet's number cell."""
    return None if fen is None else (Decimal(fen) / 100).quantize(Decimal("0.01"))


def _xlsx_value(sheet: Any, value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # Spreadsheets have no time zones: the market's local time, as on every page.
        return timezone.localtime(value).replace(tzinfo=None) if timezone.is_aware(value) else value
    if not isinstance(value, str):
        return value
    value = ILLEGAL_CHARACTERS_RE.sub("", value)
    if value.startswith("="):
        # openpyxl stores text starting with "=" as a formula; an explicit text cell is never evaluated.
        cell = WriteOnlyCell(sheet, value)
        cell.data_type = "s"
        return cell
    return value


def xlsx_bytes(
    *, sheet: str, header: list[str], rows: Iterable[Iterable[Any]], about: list[tuple[str, Any]],
    number_formats: list[str | None] | None = None, widths: list[int] | None = None, totals: list[Any] | None = None,
) -> bytes:
    """A workbook: the table (header on row 1, frozen, with an autofilter over the data; columns of
    the given widths and number formats; `totals` on their own row below a blank one, outside the
    data's range, so that sorting and filtering never move them) and an "About" sheet with what it
    reflects."""
    workbook = Workbook(write_only=True)
    table = workbook.create_sheet(sheet[:31])
    table.freeze_panes = "A2"
    for index, width in enumerate(widths or [], start=1):
        table.column_dimensions[get_column_letter(index)].width = width
    formats = number_formats or []

    def cells(values: Iterable[Any]) -> list[Any]:
        out = []
        for index, value in enumerate(values):
            value = _xlsx_value(table, value)
            style = formats[index] if index < len(formats) else None
            if style and not isinstance(value, Cell) and value is not None:
                value = WriteOnlyCell(table, value)
                value.number_format = style
            out.append(value)
        return out

    header_cells = []
    for title in header:
        cell = WriteOnlyCell(table, title)
        cell.font = Font(bold=True)
        header_cells.append(cell)
    table.append(header_cells)
    count = 0
    for row in rows:
        table.append(cells(row))
        count += 1
    table.auto_filter.ref = f"A1:{get_column_letter(len(header))}{count + 1}"
    if totals is not None:
        table.append([])
        total_cells = cells(totals)
        for cell in total_cells:
            if isinstance(cell, Cell):
                cell.font = Font(bold=True)
        table.append(total_cells)
    info = workbook.create_sheet("About")
    for name, value in about:
        info.append([name, _xlsx_value(info, value)])
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def attachment(content: bytes, *, filename: str, content_type: str) -> HttpResponse:
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def pdf_bytes(template: str, context: dict[str, Any]) -> bytes:
    """Renders an HTML template (its own @page rules: running header and footer, page x of y) to PDF."""
    from weasyprint import HTML  # imported on use: it loads Pango, which only PDF exports need

    return HTML(string=render_to_string(template, context)).write_pdf()
