"""Reading allocation files: CSV (UTF-8, with or without BOM) or XLSX.

Two formats. The original one, one unit per company: `uscc,unit_category,electricity_mwh,heat_gj,
correction_factor` (correction_factor may be blank: 1). The units format adds `unit_code` (unique
within the company), `sector` (power, steel, cement, aluminium) and `product_output_t` (tonnes of crude
steel, clinker or aluminium, for the intensity method); a file with either of the first two may leave
out the power columns, which its power rows then fill in.
The reading itself (caps, streaming, every XLSX row, NUL and overlong cells) is core.imports'."""

from __future__ import annotations

from collections.abc import Callable
from typing import IO

from core.imports import ImportRows, RawRow, RowError, read_table

__all__ = ["COLUMNS", "REQUIRED", "UNIT_COLUMNS", "ImportRows", "RawRow", "RowError", "read_rows"]


COLUMNS = ["uscc", "unit_category", "electricity_mwh", "heat_gj", "correction_factor"]
REQUIRED = COLUMNS[:4]
UNIT_COLUMNS = ["uscc", "unit_code", "sector", "unit_category", "electricity_mwh", "heat_gj", "product_output_t",
                "correction_factor"]


def required_columns(names: set[str]) -> list[str]:
    """The original format needs its four columns; the units format only the company and the category."""
    return ["uscc", "unit_category"] if {"unit_code", "sector"} & names else REQUIRED


def read_rows(stream: IO[bytes], filename: str, *, progress: Callable[[int], None] | None = None) -> ImportRows:
    return read_table(stream, filename, required=required_columns, columns=COLUMNS, progress=progress)
