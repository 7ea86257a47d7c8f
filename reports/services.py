"""The one write of the reports: every export leaves an audit event (who took which data out)."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from core.audit import audit_record


def export_record(*, actor: Any, report: str, subject: str, file_format: str, rows: int, filters: dict[str, Any]) -> Any:
    """Records that `actor` exported `rows` rows of `report` (e.g. compliance 2021, Shandong) as
    `file_format`; returns the audit event (its id names the export)."""
    with transaction.atomic():
        return audit_record(actor=actor, action="report.export", object_type=f"report.{report}", object_id=subject,
                     after={"format": file_format, "rows": rows, "filters": filters})
