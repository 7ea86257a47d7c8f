"""The compliance table as a file: its columns, totals and "About" facts, shared by the download made in
the request (reports.views.compliance) and the one made by a job (reports.export_jobs)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from reports import exports
from reports.selectors import ComplianceTable

PDF_TEMPLATE = "reports/compliance_pdf.html"


def header() -> list[str]:
    return [_("Unit"), _("USCC"), _("Province"), _("Allocated (t)"), _("Verified emissions (t)"),
            _("Surrendered CEA (t)"), _("Surrendered CCER (t)"), _("Shortfall (t)"), _("Status"),
            _("Fine basis low (CNY)"), _("Fine basis high (CNY)"), _("Units")]


# The compliance table's columns in a spreadsheet: number formats and widths (in characters).
_TONNES, _YUAN = "#,##0", "#,##0.00"
NUMBER_FORMATS = [None, "@", None, _TONNES, _TONNES, _TONNES, _TONNES, _TONNES, None, _YUAN, _YUAN, None]
WIDTHS = [40, 20, 16, 14, 14, 14, 14, 14, 8, 18, 18, 60]


def status_summary(table: ComplianceTable) -> str:
    return ", ".join(f"{status} {count}" for status, count in sorted(table.status_counts.items()))


def cells(table: ComplianceTable) -> Iterator[list[Any]]:
    """The table's data rows (no totals: a CSV is data, and the XLSX puts its totals apart)."""
    for row in table.rows:
        yield [row.name, row.uscc, row.province_name, row.allocated, row.verified_emissions, row.surrendered_allowances,
               row.surrendered_offsets, row.shortfall, row.status, exports.cny(row.fine_basis_low),
               exports.cny(row.fine_basis_high), row.units_text]


def totals(table: ComplianceTable) -> list[Any]:
    sums = table.totals
    return [_("Total (%(units)s units)") % {"units": len(table.rows)}, "", "", sums["allocated"],
            sums["verified_emissions"], sums["surrendered_allowances"], sums["surrendered_offsets"],
            sums["shortfall"], status_summary(table), exports.cny(sums["fine_basis_low"]),
            exports.cny(sums["fine_basis_high"]), ""]


def about(title: str, snapshot: Any, generated: dt.datetime, report_id: str = "",
          filters: dict[str, str] | None = None) -> list[tuple[str, Any]]:
    facts = [
        (_("Report"), title),
        (_("Issued by"), _("National Carbon Allowance Registry")),
        (_("Report identifier"), report_id),
        (_("Filters"), ", ".join(f"{name}={value}" for name, value in (filters or {}).items() if value) or _("none")),
        (_("Generated at"), generated),
        (_("Data as of transfer"), snapshot.transfer_id),
        (_("Transfer time"), snapshot.transfer_at),
        (_("Results computed at"), snapshot.results_at),
        (_("Seal chain height"), snapshot.seal_height),
        (_("Seal chain head hash"), snapshot.seal_hash),
        (_("Sealed through transfer"), snapshot.sealed_through),
    ]
    return [(name, value) for name, value in facts if value not in ("", None) or name == _("Data as of transfer")]


def title(table: ComplianceTable, status: str | None) -> str:
    text = _("Compliance %(period)s") % {"period": table.period.code}
    if table.province:
        text += f" · {table.province_name}"
    if status:
        text += " · " + _("status %(status)s") % {"status": status}
    return text


def filename(period: str, province: str | None, status: str | None, file_format: str) -> str:
    return f"compliance-{period}{'-' + province if province else ''}{'-' + status if status else ''}.{file_format}"


def xlsx(table: ComplianceTable, *, title: str, snapshot: Any, generated: dt.datetime, report_id: str,
         filters: dict[str, str]) -> bytes:
    return exports.xlsx_bytes(sheet=title, header=header(), rows=cells(table),
                              about=about(title, snapshot, generated, report_id, filters),
                              number_formats=NUMBER_FORMATS, widths=WIDTHS, totals=totals(table))


def _pdf_context(table: ComplianceTable, *, title: str, snapshot: Any, generated: dt.datetime, report_id: str) -> dict[str, Any]:
    return {"table": table, "title": title, "snapshot": snapshot, "generated": generated,
            "summary": status_summary(table), "report_id": report_id}


def pdf(table: ComplianceTable, *, title: str, snapshot: Any, generated: dt.datetime, report_id: str) -> bytes:
    """A PDF small enough to make in the request: one document, numbering its own pages."""
    return exports.pdf_bytes(PDF_TEMPLATE, {**_pdf_context(table, title=title, snapshot=snapshot, generated=generated,
                                                             report_id=report_id),
                                            "rows": table.rows, "first": True, "last": True, "numbered": True})


def pdf_file(table: ComplianceTable, *, out: Path, title: str, snapshot: Any, generated: dt.datetime, report_id: str,
             progress: Callable[[int], None] | None = None) -> int:
    """A PDF of any size written to `out` in parts (reports.exports.pdf_file); returns its page count."""
    return exports.pdf_file(PDF_TEMPLATE, _pdf_context(table, title=title, snapshot=snapshot, generated=generated,
                                                       report_id=report_id),
                            table.rows, out=out, chunk_rows=settings.REPORTS_PDF_CHUNK_ROWS,
                            processes=settings.REPORTS_PDF_PROCESSES, progress=progress)
