"""Reading the rows of an import file (allocation plans, verified emissions): CSV or XLSX, streamed
with bounded memory.

A CSV's encoding is decided by the whole file, not guessed from its start: UTF-8 (with or without a
byte-order mark) when every byte of it decodes as UTF-8, else GB18030 (a superset of GBK and GB2312:
what Excel writes for "CSV" on a Chinese Windows) when every byte decodes as that; a file that is
neither is refused with a message saying which encodings are read. UTF-8 is tried first because a
real GBK text with Chinese in it is practically never valid UTF-8, while most UTF-8 Chinese would
decode as (wrong) GB18030 characters.

What a file cannot do here:
- be larger than IMPORT_MAX_BYTES, or have more than IMPORT_MAX_ROWS rows (reading stops at the
  first row past the cap and the file is refused: nothing is loaded whole first);
- hide rows: an XLSX's `<dimension>` is ignored (`reset_dimensions()`), every row of the sheet is read;
- name a column twice, or lack a required one;
- carry a NUL or a cell longer than MAX_FIELD_CHARS: a row error naming the row and the column
  (the value is never passed on, so no database sees it);
- raise anything but a DomainError: an unreadable file is one clear InvalidInput (field "file").

Rows are numbered as a spreadsheet shows them: the header is row 1."""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import IO, Any

from django.conf import settings
from django.utils.translation import gettext as _

from core.errors import InvalidInput

# A cell longer than this is a row error (a USCC is 18 characters, a number a few dozen).
MAX_FIELD_CHARS = 1000
# Blank rows are skipped, but reading them costs time too: at most this many per counted row.
BLANK_ROWS_PER_ROW = 1


@dataclass(frozen=True)
class RowError:
    row: int  # the row as a spreadsheet shows it (the header is row 1)
    field: str
    message: str

    def __str__(self) -> str:
        return _("row %(row)s: %(field)s: %(problem)s") % {"row": self.row, "field": self.field, "problem": self.message}


@dataclass(frozen=True)
class RawRow:
    number: int
    values: dict[str, str]
    # Columns the reader already refused (NUL, overlong): their value is "", their error is in
    # ImportRows.errors; a service does not report them again.
    refused: frozenset[str] = frozenset()


class ImportRows(list):  # type: ignore[type-arg]
    """The rows of a file (RawRow), with the row errors found while reading them, the header as the
    file names its columns (for the error file, which gives the rows back as they came) and the
    encoding a CSV was read in ("" for an XLSX)."""

    def __init__(self, rows: list[RawRow] | None = None, errors: list[RowError] | None = None) -> None:
        super().__init__(rows or [])
        self.errors: list[RowError] = errors or []
        self.header: list[str] = []
        self.encoding: str = ""


# The columns a header must name: a list, or a function of the names the header has.
Required = list[str] | Callable[[set[str]], list[str]]


def rows_by_value(rows: list[RawRow], column: str) -> dict[str, list[int]]:
    """The row numbers of each value of `column` (upper-cased, as USCCs are compared), in file order."""
    found: dict[str, list[int]] = {}
    for row in rows:
        found.setdefault(row.values.get(column, "").strip().upper(), []).append(row.number)
    return found


def duplicate_message(row: int, rows: list[int]) -> str:
    """A row error of each row of a duplicate set, naming the other rows."""
    others = [number for number in rows if number != row]
    if len(others) == 1:
        return _("duplicate unit: also on row %(row)s") % {"row": others[0]}
    return _("duplicate unit: also on rows %(rows)s") % {"rows": ", ".join(str(number) for number in others)}


def max_rows() -> int:
    return settings.IMPORT_MAX_ROWS


def _size(stream: IO[bytes]) -> int | None:
    size = getattr(stream, "size", None)
    if isinstance(size, int):
        return size
    try:
        if stream.seekable():
            here = stream.tell()
            end = stream.seek(0, io.SEEK_END)
            stream.seek(here)
            return end - here
    except (AttributeError, OSError, ValueError):
        pass
    return None


def read_table(
    stream: IO[bytes], filename: str, *, required: Required, columns: list[str] | None = None,
    limit: int | None = None, progress: Callable[[int], None] | None = None,
) -> ImportRows:
    """Every non-blank row of the file's first sheet (CSV: the file), as the header names it; the
    header must name each of `required` (or of `required(the header's names)`: columns one format needs
    and another not) and no column twice (`columns`: all known columns, for the
    message). At most `limit` rows (IMPORT_MAX_ROWS). `progress(rows_read)` every 1,000 rows."""
    limit = max_rows() if limit is None else limit
    name = (filename or "").lower()
    if not name.endswith((".csv", ".xlsx")):
        raise InvalidInput(_("Upload a .csv or .xlsx file."), field="file")
    size = _size(stream)
    if size is not None and size > settings.IMPORT_MAX_BYTES:
        raise InvalidInput(_("The file is %(size)s bytes; at most %(limit)s are allowed (IMPORT_MAX_BYTES).") % {
            "size": f"{size:,}", "limit": f"{settings.IMPORT_MAX_BYTES:,}"}, field="file")
    if name.endswith(".xlsx"):
        return _collect(_xlsx_lines(stream), required=required, columns=columns or list(required), limit=limit, progress=progress)
    stream, encoding = csv_encoding(stream)
    wrapper = io.TextIOWrapper(stream, encoding=encoding, newline="")  # type: ignore[arg-type]
    try:
        rows = _collect(_csv_lines(wrapper), required=required, columns=columns or list(required), limit=limit, progress=progress)
        rows.encoding = encoding
        return rows
    except UnicodeDecodeError:  # the whole file decoded before: only a stream changed under us
        raise _not_text() from None
    finally:
        try:
            wrapper.detach()  # the caller's stream stays open (and is the caller's to close)
        except ValueError:
            pass


# The encodings a CSV is read in, in the order they are tried (see the module's docstring).
CSV_ENCODINGS = ("utf-8-sig", "gb18030")
_CHUNK = 1 << 16


def _not_text() -> InvalidInput:
    return InvalidInput(_("The CSV file is neither UTF-8 nor GB18030 (GBK, GB2312) text: save it from the "
                          "spreadsheet again as \"CSV UTF-8\" or as \"CSV\", or upload the XLSX."), field="file")


def _decodes(stream: IO[bytes], encoding: str, start: int) -> bool:
    """Whether the whole stream from `start` decodes in `encoding` (chunk by chunk: bounded memory)."""
    stream.seek(start)
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        while chunk := stream.read(_CHUNK):
            decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    finally:
        stream.seek(start)
    return True


def csv_encoding(stream: IO[bytes]) -> tuple[IO[bytes], str]:
    """(the stream to read, the encoding of the whole CSV): the first of CSV_ENCODINGS in which every
    byte decodes, or InvalidInput. A stream that cannot seek is read into memory first (it was
    checked against IMPORT_MAX_BYTES where its size was known; here it is bounded again)."""
    try:
        seekable = stream.seekable()
    except (AttributeError, ValueError):
        seekable = False
    if not seekable:
        content = stream.read(settings.IMPORT_MAX_BYTES + 1)
        if len(content) > settings.IMPORT_MAX_BYTES:
            raise InvalidInput(_("The file is larger than %(limit)s bytes (IMPORT_MAX_BYTES).") % {
                "limit": f"{settings.IMPORT_MAX_BYTES:,}"}, field="file")
        stream = io.BytesIO(content)
    start = stream.tell()
    for encoding in CSV_ENCODINGS:
        if _decodes(stream, encoding, start):
            return stream, encoding
    raise _not_text()


def _csv_lines(text: IO[str]) -> Iterator[list[str]]:
    reader = csv.reader(text)
    while True:
        try:
            line = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            # The csv module's own limit (131,072 characters in a field) or broken quoting: the
            # row cannot be split into its cells, so the file cannot be read past it.
            raise InvalidInput(_("Row %(row)s cannot be read: %(error)s. Nothing was saved.") % {
                "row": f"{reader.line_num:,}", "error": str(error)}, field="file") from None
        yield line


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        # A number cell is a number: written out in full (1e+30 -> "1000...0", refused as too large
        # by the column's parser; 1e-05 -> "0.00001"), never in Python's exponent notation.
        return format(Decimal(repr(value)), "f")
    return str(value)


def _xlsx_lines(stream: IO[bytes]) -> Iterator[list[str]]:
    from openpyxl import load_workbook

    try:
        with zipfile.ZipFile(stream) as archive:
            # The shared strings are loaded whole by openpyxl, even in read-only mode: bound them.
            shared = sum(info.file_size for info in archive.infolist() if info.filename.lower().endswith("sharedstrings.xml"))
        stream.seek(0)
    except (zipfile.BadZipFile, ValueError, OSError, EOFError):
        raise InvalidInput(_("The file is not a readable XLSX workbook."), field="file") from None
    if shared > 2 * settings.IMPORT_MAX_BYTES:
        raise InvalidInput(_("The workbook's text is too large to import."), field="file")
    try:
        workbook = load_workbook(stream, read_only=True, data_only=True)
    except Exception:  # openpyxl raises many kinds for a file that is not a workbook
        raise InvalidInput(_("The file is not a readable XLSX workbook."), field="file") from None
    try:
        if not workbook.worksheets:
            raise InvalidInput(_("The workbook has no sheet."), field="file")
        sheet = workbook.worksheets[0]
        # Read-only mode trusts the sheet's <dimension>, which any writer may get wrong (or a sender
        # may understate to hide rows): forget it, so iter_rows reads every row there is.
        if hasattr(sheet, "reset_dimensions"):
            sheet.reset_dimensions()
        rows = sheet.iter_rows(values_only=True)
        while True:
            try:
                row = next(rows)
            except StopIteration:
                return
            except InvalidInput:
                raise
            except Exception:  # a malformed sheet part
                raise InvalidInput(_("The file is not a readable XLSX workbook."), field="file") from None
            yield [_xlsx_cell(value) for value in row]
    finally:
        workbook.close()


def _header(line: list[str], required: Required, columns: list[str]) -> list[str]:
    names = []
    for position, cell in enumerate(line):
        if position == 0:
            cell = cell.lstrip("\ufeff")  # GB18030's byte-order mark (UTF-8's is taken off by utf-8-sig)
        if "\x00" in cell or len(cell) > MAX_FIELD_CHARS:
            raise InvalidInput(_("The header is not readable: expected %(columns)s.") % {"columns": ",".join(columns)},
                               field="file")
        names.append(cell.strip().lower())
    seen: set[str] = set()
    for name in names:
        if name and name in seen:
            raise InvalidInput(_("The header names the column %(name)s twice; each column once.") % {"name": repr(name)},
                               field="file")
        seen.add(name)
    if callable(required):
        required = required(seen)
    missing = [column for column in required if column not in seen]
    if missing:
        raise InvalidInput(_("The header lacks %(missing)s; expected %(columns)s.") % {
            "missing": ", ".join(missing), "columns": ",".join(columns)}, field="file")
    return names


def _collect(
    lines: Iterator[list[str]], *, required: Required, columns: list[str], limit: int,
    progress: Callable[[int], None] | None,
) -> ImportRows:
    first = next(lines, None)
    if first is None or not any(cell.strip() for cell in first):
        raise InvalidInput(_("The file is empty."), field="file")
    header = _header(first, required, columns)
    result = ImportRows()
    result.header = header
    blank = 0
    too_many = InvalidInput(_("The file has more than %(limit)s rows; split it into files of at most %(limit)s "
                              "(IMPORT_MAX_ROWS).") % {"limit": f"{limit:,}"}, field="file")
    for number, line in enumerate(lines, start=2):
        if not any(cell.strip() for cell in line):
            blank += 1
            if blank > limit * BLANK_ROWS_PER_ROW + 1000:
                raise too_many
            continue
        if len(result) >= limit:
            raise too_many  # the first row past the cap: stop reading here
        values: dict[str, str] = {}
        refused: set[str] = set()
        for index, cell in enumerate(line):
            name = header[index] if index < len(header) and header[index] else None
            if "\x00" in cell:
                column = name or _("column %(number)s") % {"number": index + 1}
                result.errors.append(RowError(number, column, _("contains a NUL character")))
                refused.add(column)
                cell = ""
            elif len(cell) > MAX_FIELD_CHARS:
                column = name or _("column %(number)s") % {"number": index + 1}
                result.errors.append(RowError(number, column, _("is %(length)s characters long; at most %(limit)s") % {
                    "length": f"{len(cell):,}", "limit": f"{MAX_FIELD_CHARS:,}"}))
                refused.add(column)
                cell = ""
            if name is not None:
                values[name] = cell.strip()
        for name in header:
            if name:
                values.setdefault(name, "")
        result.append(RawRow(number=number, values=values, refused=frozenset(refused)))
        if progress is not None and len(result) % 1000 == 0:
            progress(len(result))
    if not result:
        raise InvalidInput(_("The file has a header but no rows."), field="file")
    return result
