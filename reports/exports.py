"""File formats of the reports: XLSX (openpyxl, write-only so 10,000 rows take about a second) and
PDF (WeasyPrint, from an HTML template; a long one in parts joined by pypdf). CSV is core.csv, shared with every other export."""

from __future__ import annotations

import datetime as dt
import io
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
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
    from reports.pdf_worker import pdf_from_html  # imported on use: it loads Pango, which only PDF exports need

    return pdf_from_html(render_to_string(template, context))


def pdf_file(template: str, context: dict[str, Any], rows: Sequence[Any], *, out: Path, chunk_rows: int,
             processes: int = 1, progress: Callable[[int], None] | None = None) -> int:
    """Writes a long table's PDF to `out` and returns its page count, laying it out `chunk_rows` rows at a
    time: the engine holds every box of a document until it writes it, so one national document would
    hold hundreds of megabytes; and the parts are laid out side by side by `processes` processes (the
    engine is pure Python: a process uses one core). The template gets `rows` (this part's), `first`
    (the part that opens the report), `last` (the one that closes it, with the totals) and `numbered`
    (whether it numbers its own pages). The parts are joined with pypdf and "Page x of y" is stamped
    afterwards (only the whole knows y), in the template's own footer box. `progress(rows_done)` is
    called as the parts are done, in order."""
    from pypdf import PdfReader, PdfWriter

    from reports.pdf_worker import pdf_from_html

    parts = [rows[start:start + chunk_rows] for start in range(0, len(rows), chunk_rows)] or [rows[:0]]
    htmls = [render_to_string(template, {**context, "rows": part, "first": index == 0, "last": index == len(parts) - 1,
                                         "numbered": len(parts) == 1}) for index, part in enumerate(parts)]
    writer = PdfWriter()
    done = 0
    for part, content in zip(parts, _parts_laid_out(htmls, out=out, processes=processes), strict=True):
        writer.append(PdfReader(io.BytesIO(content)))
        done += len(part)
        if progress is not None:
            progress(done)
    pages = len(writer.pages)
    if len(parts) > 1:
        numbers = PdfReader(io.BytesIO(pdf_from_html(render_to_string("reports/pdf_page_numbers.html", {
            "pages": range(pages)}))))
        for page, number in zip(writer.pages, numbers.pages, strict=True):
            page.merge_page(number)
            page.compress_content_streams()  # merging leaves the content uncompressed
        writer.compress_identical_objects(remove_duplicates=True, remove_unreferenced=True)
    partial = out.with_name(out.name + ".part")
    with partial.open("wb") as stream:
        writer.write(stream)
    partial.replace(out)  # the finished file appears whole or not at all
    return pages


def _parts_laid_out(htmls: list[str], *, out: Path, processes: int) -> Iterator[bytes]:
    """The parts' PDFs, in order. With more than one process: `python -m reports.pdf_worker` processes
    (not forks of this one, whose threads may hold locks when it forks, and not multiprocessing, which
    re-imports the main module of whatever runs this), each given every n-th part as files next to
    `out`; the parts are handed back as their files appear. The files are deleted whatever happens."""
    from reports.pdf_worker import pdf_from_html

    processes = min(processes, len(htmls))
    if processes <= 1:
        yield from map(pdf_from_html, htmls)
        return
    sources = [out.with_name(f"{out.name}.{index}.html") for index in range(len(htmls))]
    targets = [out.with_name(f"{out.name}.{index}.pdf") for index in range(len(htmls))]
    logs = [out.with_name(f"{out.name}.{first}.log") for first in range(processes)]
    workers: list[subprocess.Popen[bytes]] = []
    try:
        for source, html in zip(sources, htmls, strict=True):
            source.write_text(html, encoding="utf-8")
        for first in range(processes):
            arguments = [str(path) for pair in zip(sources[first::processes], targets[first::processes], strict=True)
                         for path in pair]
            with logs[first].open("wb") as log:  # a file, not a pipe: a chatty engine never blocks on it
                workers.append(subprocess.Popen([sys.executable, "-m", "reports.pdf_worker", *arguments],
                                                cwd=settings.BASE_DIR, stdout=subprocess.DEVNULL, stderr=log))
        for index, target in enumerate(targets):
            worker = workers[index % processes]
            while not target.exists():
                if worker.poll() is not None and not target.exists():
                    error = logs[index % processes].read_text(errors="replace")
                    raise RuntimeError(f"PDF part {index} not laid out (exit {worker.returncode}): {error[-2000:]}")
                time.sleep(0.05)
            yield target.read_bytes()
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
            worker.wait()
        for path in (*sources, *targets, *logs, *(target.with_name(target.name + ".part") for target in targets)):
            path.unlink(missing_ok=True)
