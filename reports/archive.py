"""The archive of a compliance period (Interim Regulations Art. 11: records kept at least five years):
one zip for auditors and regulators with the period's compliance results, surrenders, emission reports'
metadata and their attachments, enforcement cases and decisions, and disclosures, as the requester may
read them (a provincial regulator: its province's rows). Every CSV is UTF-8 with a byte-order mark and
formula-injection safe (core.csv); `manifest.json` lists each file with its SHA-256 and row count and
names the data snapshot (the last transfer) and the seal chain's head, like the compliance exports."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import zipfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from accounts.models import Organization
from allocation.models import CompliancePeriod
from compliance.models import ComplianceResult, EmissionReport, Surrender
from core.csv import csv_lines
from enforcement.models import Decision, Disclosure, FraudCase
from reports.selectors import data_snapshot


def _scoped(rows: QuerySet, scope: QuerySet[Organization] | None) -> QuerySet:
    return rows if scope is None else rows.filter(organization__in=scope)


def _tables(period: CompliancePeriod, scope: QuerySet[Organization] | None
            ) -> tuple[list[tuple[str, list[str], Iterable[Iterable[Any]]]], QuerySet[EmissionReport]]:
    """(file name, header, rows) of each table of the archive, and the reports whose attachments it holds."""
    results = _scoped(ComplianceResult.objects.filter(period=period), scope).order_by("organization__uscc")
    surrenders = _scoped(Surrender.objects.filter(period=period), scope).order_by("id")
    reports = _scoped(EmissionReport.objects.filter(period=period), scope).order_by("id")
    cases = _scoped(FraudCase.objects.filter(period=period), scope).order_by("id")
    decisions = _scoped(Decision.objects.filter(period=period), scope).order_by("id")
    disclosures = _scoped(Disclosure.objects.filter(period=period), scope).order_by("id")
    return [
        ("compliance_results.csv",
         ["uscc", "unit", "allocated_t", "verified_emissions_t", "obligation_t", "surrendered_allowances_t",
          "surrendered_offsets_t", "shortfall_t", "status", "fine_basis_low_fen", "fine_basis_high_fen", "computed_at"],
         results.values_list("organization__uscc", "organization__name", "allocated", "verified_emissions", "obligation",
                             "surrendered_allowances", "surrendered_offsets", "shortfall", "status", "fine_basis_low",
                             "fine_basis_high", "computed_at")),
        ("surrenders.csv", ["id", "uscc", "asset", "quantity_t", "client_request_id", "transfer", "transfer_reference", "created_at"],
         surrenders.values_list("pk", "organization__uscc", "asset__code", "quantity", "client_request_id", "transfer_id",
                                "transfer__reference", "created_at")),
        ("emission_reports.csv",
         ["id", "uscc", "unit_code", "status", "reported_t", "verified_t", "attachment", "attachment_name", "attachment_sha256",
          "attachment_bytes", "filed_at", "verified_at", "objection_reason", "decision", "confirmed_at"],
         ((r.pk, r.organization.uscc, r.unit.code, r.status, r.emissions, r.verified_emissions, _attachment_name(r), r.attachment_name,
           r.attachment_sha256, r.attachment_size, r.filed_at, r.verified_at, r.objection_reason, r.decision, r.confirmed_at)
          for r in reports.select_related("organization", "unit"))),
        ("fraud_cases.csv", ["id", "uscc", "subject", "status", "gains_fen", "summary", "opened_at"],
         cases.values_list("pk", "organization__uscc", "subject", "status", "gains", "summary", "opened_at")),
        ("enforcement_decisions.csv",
         ["reference", "kind", "status", "uscc", "case", "legal_basis", "amount_fen", "quantity_t", "percent", "range_low",
          "range_high", "individual", "allocation_period", "proposed_by", "proposed_at", "decided_by", "decided_at",
          "decision_note", "lifted_at"],
         ((d.reference, d.kind, d.status, d.organization.uscc, d.case_id, d.legal_basis, d.amount, d.quantity, d.percent,
           d.range_low, d.range_high, d.individual_name, d.target_period.code if d.target_period else "",
           d.proposed_by.get_username(), d.proposed_at, d.decided_by.get_username() if d.decided_by else "", d.decided_at,
           d.decision_note, d.lifted_at)
          for d in decisions.select_related("organization", "target_period", "proposed_by", "decided_by"))),
        ("disclosures.csv", ["uscc", "unit", "status", "emissions_t", "facilities", "methods", "submitted_at", "confirmed_at"],
         disclosures.values_list("organization__uscc", "organization__name", "status", "emissions", "facilities", "methods",
                                 "submitted_at", "confirmed_at")),
    ], reports


def _attachment_name(report: EmissionReport) -> str:
    return f"attachments/{report.pk}.{report.attachment_kind}"


def archive_write(period: CompliancePeriod, scope: QuerySet[Organization] | None, out: Path,
                  progress: Callable[[int], None] | None = None) -> int:
    """Writes the period's archive to `out` (a zip); returns the number of table rows in it."""
    tables, reports = _tables(period, scope)
    manifest: dict[str, Any] = {"period": period.code, "generated_at": timezone.now().isoformat(),
                                "snapshot": dataclasses.asdict(data_snapshot(period)), "files": []}
    total = 0
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, header, rows in tables:
            materialised = list(rows)
            content = "".join(csv_lines(header, materialised)).encode()
            archive.writestr(name, content)
            manifest["files"].append({"name": name, "rows": len(materialised), "sha256": hashlib.sha256(content).hexdigest()})
            total += len(materialised)
            if progress:
                progress(total)
        for report in reports.order_by("id"):
            with report.attachment.open("rb") as stream:
                content = stream.read()
            archive.writestr(_attachment_name(report), content)
            manifest["files"].append({"name": _attachment_name(report), "sha256": hashlib.sha256(content).hexdigest(),
                                      "matches_filed_sha256": hashlib.sha256(content).hexdigest() == report.attachment_sha256})
        archive.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=2, default=str))
    return total
