"""Offset registry cost: CCER transfers (each moves whole serial ranges, splitting a block) against the
same transfers of an allowance, voluntary cancellations with their certificate, and the ledger proof
with its serial-block check. Prints JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench python bench/offsets_bench.py
"""

import datetime as dt
import json
import time
import uuid

from _setup import django_ready

django_ready()

from django.db import transaction  # noqa: E402

from accounts.models import Organization, User  # noqa: E402
from accounts.roles import Role  # noqa: E402
from accounts.services import organization_create, user_create  # noqa: E402
from offsets import services as offsets  # noqa: E402
from offsets.models import Methodology, SerialBlock  # noqa: E402
from registry import services  # noqa: E402
from registry.models import Account, Asset  # noqa: E402
from registry.selectors import ledger_verify  # noqa: E402

HOLDERS, ISSUED, TRANSFERS, CANCELLATIONS = 20, 1_000_000, 1_000, 200


def holders(count: int) -> list[Organization]:
    from stdnum.cn import uscc

    organizations = []
    for index in range(count):
        body = f"91110100CCERB{index:04d}"
        code = body + uscc.calc_check_digit(body)
        organization = Organization.objects.filter(uscc=code).first() or organization_create(
            name=f"Bench Offsets {index}", uscc=code, kind="key_emitting_unit", province="11", actor=None)
        services.accounts_open(organization=organization, actor=None)
        organizations.append(organization)
    return organizations


def user(role: str, organization: Organization | None, name: str) -> User:
    return User.objects.filter(username=name).first() or user_create(username=name, password=None, roles=[role],
                                                                     organization=organization, actor=None)


def transfers_per_second(asset: Asset, accounts: list[Account], actor: User) -> float:
    started = time.perf_counter()
    for index in range(TRANSFERS):
        services.transfer_create(source=accounts[index % HOLDERS], destination=accounts[(index + 7) % HOLDERS], asset=asset,
                                 amount=1 + index % 50, actor=actor)
    return TRANSFERS / (time.perf_counter() - started)


def main() -> None:
    run = uuid.uuid4().hex[:6]
    organizations = holders(HOLDERS)
    accounts = [Account.objects.get(organization=o, kind=Account.Kind.HOLDING) for o in organizations]
    ministry = organizations[0]
    maker = user(Role.NATIONAL_REGULATOR, None, "bench-offsets-maker")
    checker = user(Role.NATIONAL_REGULATOR, None, "bench-offsets-checker")
    methodology = Methodology.objects.filter(code="BENCH-01").first() or offsets.methodology_create(
        code="BENCH-01", name="Bench wind", sector="energy", actor=maker)
    for index, organization in enumerate(organizations):
        project = offsets.project_register(
            identifier=f"BENCH-{run}-{index}", name="Bench wind farm", owner=organization, province="11", methodology=methodology,
            crediting_start=dt.date(2024, 1, 1), crediting_end=dt.date(2033, 12, 31), registration_date=dt.date(2024, 3, 1), actor=maker)
        issuance = offsets.issuance_propose(project=project, vintage=2024, monitoring_start=dt.date(2024, 1, 1),
                                            monitoring_end=dt.date(2024, 12, 31), quantity=ISSUED, actor=maker)
        offsets.issuance_approve(issuance=issuance, actor=checker)
    cea = Asset.objects.get(code="CEA21")
    with transaction.atomic():
        services.allowances_issue_and_allocate(asset=cea, allocations=[(a, ISSUED) for a in accounts], actor=maker, reference="bench")

    ccer_rate = transfers_per_second(Asset.objects.get(code="CCER"), accounts, maker)
    cea_rate = transfers_per_second(cea, accounts, maker)

    officer = user(Role.COMPLIANCE_OFFICER, ministry, f"bench-offsets-officer-{ministry.pk}")
    started = time.perf_counter()
    for index in range(CANCELLATIONS):
        offsets.cancellation_create(user=officer, asset="CCER", quantity=1 + index % 20, purpose="bench",
                                    client_request_id=f"bench-{run}-{index}")
    cancellation_rate = CANCELLATIONS / (time.perf_counter() - started)

    started = time.perf_counter()
    report = ledger_verify()
    verify_seconds = time.perf_counter() - started
    print(json.dumps({
        "benchmark": "offsets",
        "database": transaction.get_connection().vendor,
        "ccer_transfers_per_second": round(ccer_rate),
        "cea_transfers_per_second": round(cea_rate),
        "cancellations_with_certificate_per_second": round(cancellation_rate),
        "serial_blocks": SerialBlock.objects.count(),
        "ledger_verify_seconds": round(verify_seconds, 3),
        "transfers_verified": report.transfers_checked,
        "ledger_ok": report.ok,
    }))


if __name__ == "__main__":
    main()
