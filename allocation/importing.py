"""Reading allocation files: CSV (UTF-8, with or without BOM) or XLSX, with the header
`uscc,unit_category,electricity_mwh,heat_gj,correction_factor` (correction_factor may be blank: 1).
The reading itself (caps, streaming, every XLSX row, NUL and overlong cells) is core.imports'."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from core.imports import ImportRows, RawRow, RowError, read_table

__all__ = ["COLUMNS", "REQUIRED", "ImportRows", "RawRow", "RowError", "read_rows"]


COLUMNS = ["uscc", "unit_category", "electricity_mwh", "heat_gj", "correction_factor"]
REQUIRED = COLUMNS[:4]


def read_rows(stream: IO[bytes], filename: str, *, progress: Callable[[int], None] | None = None) -> ImportRows:
    return read_table(stream, filename, required=REQUIRED, columns=COLUMNS, progress=progress)
