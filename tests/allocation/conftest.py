"""Fixtures of the allocation tests: the CEA vintages, compliance periods made by `period_create`
(which seeds their benchmark tables), more Shandong units, and helpers that build import files in
memory and prove that a refused import saved nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from accounts.models import Organization
from allocation.models import AllocationLine, AllocationPlan, Benchmark, CompliancePeriod
from allocation.services import allocation_import, period_create
from core.models import AuditEvent
from registry.models import Account, Asset, Balance, Transfer
from tests.factories import OrganizationFactory, make_uscc

HEADER = ["uscc", "unit_category", "electricity_mwh", "heat_gj", "correction_factor"]


def csv_bytes(rows: list[list[str]], header: list[str] | None = HEADER) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    if header is not None:
        writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def xlsx_bytes(rows: list[list[object]], header: list[str] | None = HEADER) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    if header is not None:
        sheet.append(header)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def import_csv(*, period: CompliancePeriod, vintage: Asset, rows: list[list[str]], actor, **kwargs) -> AllocationPlan:
    return allocation_import(period=period, vintage=vintage, stream=io.BytesIO(csv_bytes(rows)), filename="plan.csv",
                             actor=actor, **kwargs)


def allocation_snapshot() -> tuple:
    """Everything an import or a decision could write: plans (with status), lines, audit events,
    transfers and balances. Two equal snapshots mean nothing was written in between."""
    return (
        tuple(AllocationPlan.objects.order_by("pk").values_list("pk", "status", "submitted_by", "decided_by")),
        tuple(AllocationLine.objects.order_by("pk").values_list("pk", flat=True)),
        tuple(AuditEvent.objects.order_by("pk").values_list("pk", flat=True)),
        tuple(Transfer.objects.order_by("pk").values_list("pk", flat=True)),
        tuple(Balance.objects.order_by("pk").values_list("pk", "available", "reserved", "pending", "frozen")),
    )


@contextmanager
def nothing_saved() -> Iterator[None]:
    before = allocation_snapshot()
    yield
    assert allocation_snapshot() == before, "a refused call wrote something"


def holding(organization: Organization) -> Account:
    return Account.objects.get(organization=organization, kind=Account.Kind.HOLDING)


def available(organization: Organization, asset: Asset) -> int:
    return Balance.objects.get(account=holding(organization), asset=asset).available


@pytest.fixture
def cea21(db) -> Asset:
    return Asset.objects.get(code="CEA21")


@pytest.fixture
def cea1920(db) -> Asset:
    return Asset.objects.get(code="CEA19-20")


@pytest.fixture
def period_2021(national_regulator, cea21) -> CompliancePeriod:
    return period_create(code="2021", first_year=2021, last_year=2021, vintages=[cea21], actor=national_regulator)


@pytest.fixture
def period_2019_2020(national_regulator, cea1920) -> CompliancePeriod:
    return period_create(code="2019-2020", first_year=2019, last_year=2020, vintages=[cea1920], actor=national_regulator)


@pytest.fixture
def shandong_units(db) -> list[Organization]:
    """Six more key emitting units in Shandong (37), each with its registry accounts."""
    return [OrganizationFactory(name=f"Shandong Unit {n}", province="37", uscc=make_uscc("37")) for n in range(1, 7)]


@pytest.fixture
def third_national_regulator(ministry):
    from accounts.roles import Role
    from tests.factories import user_with_role

    return user_with_role(Role.NATIONAL_REGULATOR, ministry)


def benchmark_table(period: CompliancePeriod) -> dict[str, tuple[str, str]]:
    return {b.unit_category: (str(b.electricity.normalize()), str(b.heat.normalize())) for b in Benchmark.objects.filter(period=period)}
