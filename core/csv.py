"""CSV for people's spreadsheets: UTF-8 with a byte-order mark (so Excel reads Chinese names right)
and safe against formula injection (OWASP: a cell that starts with = + - @, a tab or a carriage
return is prefixed with an apostrophe, so a spreadsheet shows it as text instead of running it).

Only text is neutralised: numbers are written as they are, so -5 stays a number."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator
from typing import Any

from django.http import StreamingHttpResponse

from core.http import content_disposition

BOM = "\ufeff"
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value, or for text that a spreadsheet would read as a formula, the text behind an apostrophe."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def csv_lines(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> Iterator[str]:
    """The CSV text, one line at a time, starting with the byte-order mark."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(cells: Iterable[Any]) -> str:
        writer.writerow([safe_cell(cell) for cell in cells])
        text = buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()
        return text

    yield BOM + line(header)
    for row in rows:
        yield line(row)


def csv_text(header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> str:
    return "".join(csv_lines(header, rows))


def csv_response(filename: str, header: Iterable[Any], rows: Iterable[Iterable[Any]]) -> StreamingHttpResponse:
    """A streamed download: rows are written as they are read, so a large table needs little memory."""
    response = StreamingHttpResponse(
        (line.encode("utf-8") for line in csv_lines(header, rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = content_disposition(filename)
    return response
