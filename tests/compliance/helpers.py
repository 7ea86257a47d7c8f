"""Helpers of the compliance tests. Ledger state is made through the services only: allowances reach
a unit by issuing an allocation plan (import, submit, approval by a second national regulator), CCER
by issuing them into the national account and allocating them from there."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from accounts.models import Organization
from accounts.roles import Role
from allocation.models import AllocationPlan, CompliancePeriod, Deduction
from allocation.services import allocation_import, plan_approve, plan_submit
from compliance.models import ComplianceResult, Surrender, VerifiedEmission
from compliance.services import verified_emissions_import
from core.models import AuditEvent
from registry.models import Account, Asset, Balance, Transfer
from tests.factories import api_client_for, user_with_role

PLAN_HEADER = "uscc,unit_category,electricity_mwh,heat_gj,correction_factor\n"


def plan_import(
    period: CompliancePeriod, rows: list[tuple[Organization, str, int]], *, maker: Any,
    kind: str = AllocationPlan.Kind.PRE_ALLOCATION, vintage: str = "CEA21",
) -> AllocationPlan:
    """A draft plan: one (unit, category, MWh of electricity) per line, no heat, correction factor 1."""
    body = PLAN_HEADER + "".join(f"{org.uscc},{category},{mwh},0,1\n" for org, category, mwh in rows)
    return allocation_import(period=period, vintage=Asset.objects.get(code=vintage), stream=io.BytesIO(body.encode()),
                             filename="plan.csv", actor=maker, kind=kind)


def plan_issue(
    period: CompliancePeriod, rows: list[tuple[Organization, str, int]], *, maker: Any, checker: Any,
    kind: str = AllocationPlan.Kind.PRE_ALLOCATION, vintage: str = "CEA21",
) -> AllocationPlan:
    """Imports, submits (maker) and approves (checker) a plan: its allowances reach the units' holdings."""
    plan = plan_import(period, rows, maker=maker, kind=kind, vintage=vintage)
    plan_submit(plan=plan, actor=maker)
    return plan_approve(plan=plan, actor=checker)


def verified_csv(tonnes_by_unit: dict[Organization, Any]) -> bytes:
    return ("uscc,verified_emissions\n" + "".join(f"{org.uscc},{t}\n" for org, t in tonnes_by_unit.items())).encode()


def verify(period: CompliancePeriod, actor: Any, tonnes_by_unit: dict[Organization, int]) -> int:
    return verified_emissions_import(period=period, stream=io.BytesIO(verified_csv(tonnes_by_unit)), filename="verified.csv",
                                     actor=actor)


def holding_account(organization: Organization) -> Account:
    return Account.objects.get(organization=organization, kind=Account.Kind.HOLDING)


def balance(account: Account, code: str) -> Balance:
    return Balance.objects.get(account=account, asset__code=code)


def ccer_give(organization: Organization, tonnes: int, regulator: Any) -> None:
    """Issues CCER of a project of the unit (offset registry, maker-checker) into its holding."""
    from tests.offsets.helpers import ccer_issue

    ccer_issue(organization, tonnes, regulator)


def officer_of(organization: Organization) -> Any:
    return user_with_role(Role.COMPLIANCE_OFFICER, organization)


def api_as(user: Any) -> APIClient:
    return api_client_for(user)


def state() -> tuple:
    """Everything a compliance call could write. Two equal states mean nothing was written in between."""
    return (
        tuple(Surrender.objects.order_by("pk").values_list("pk", flat=True)),
        tuple(Transfer.objects.order_by("pk").values_list("pk", flat=True)),
        tuple(Balance.objects.order_by("pk").values_list("pk", "available", "reserved", "pending", "frozen")),
        tuple(AuditEvent.objects.order_by("pk").values_list("pk", flat=True)),
        tuple(VerifiedEmission.objects.order_by("pk").values_list("pk", "tonnes")),
        tuple(ComplianceResult.objects.order_by("pk").values_list("pk", "status", "shortfall")),
        tuple(Deduction.objects.order_by("pk").values_list("pk", "tonnes", "remaining")),
    )


# --- emission report attachments ---

PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
CSV = b"unit,fuel,tonnes\nUnit 1,coal,52000\nUnit 2,coal,18000\n"


def xlsx_bytes() -> bytes:
    book = openpyxl.Workbook()
    book.active.append(["unit", "tonnes"])
    book.active.append(["Unit 1", 70_000])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def upload(content: bytes = PDF, name: str = "report-2021.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")
