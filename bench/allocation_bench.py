"""Allocation at national scale: import a plan for 10,000 units from CSV, submit it, and have a
second regulator approve it, which issues every unit's allowances. Prints JSON with seconds per step.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench python bench/allocation_bench.py [--units 10000]
"""

from __future__ import annotations

import argparse
import io
import json
import random
import time

from _setup import django_ready

PROVINCES = ["13", "14", "15", "32", "33", "37", "41", "44", "51", "61"]


def units(count: int, *, tag: str = "BXUNT", name: str = "Bench Unit {} Power Co., Ltd.") -> list[str]:
    """Key emitting units with their accounts and zero balances (reference data, bulk-created once);
    `tag` (five letters) tells one benchmark's companies from another's."""
    from stdnum.cn import uscc

    from accounts.models import Organization
    from registry.models import Account, Asset, Balance

    codes = []
    for index in range(count):
        body = f"91{PROVINCES[index % len(PROVINCES)]}0100{tag}{index:04d}"
        codes.append(body + uscc.calc_check_digit(body))
    existing = set(Organization.objects.filter(uscc__in=codes).values_list("uscc", flat=True))
    new = [code for code in codes if code not in existing]
    Organization.objects.bulk_create(
        [Organization(name=name.format(code[-6:]), uscc=code, kind="key_emitting_unit", province=code[2:4])
         for code in new], batch_size=2000,
    )
    organizations = Organization.objects.filter(uscc__in=new)
    Account.objects.bulk_create(
        [Account(number=f"{prefix}-{o.uscc}", name=o.name, kind=kind, organization=o)
         for o in organizations for prefix, kind in (("HA", "holding"), ("CA", "cash"))], batch_size=2000,
    )
    assets = list(Asset.objects.all())
    Balance.objects.bulk_create(
        [Balance(account=a, asset=asset) for a in Account.objects.filter(organization__in=organizations)
         for asset in assets if a.holds(asset)], batch_size=5000, ignore_conflicts=True,
    )
    return codes


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=10_000)
    options = parser.parse_args()
    django_ready()
    from django.contrib.auth.models import Group

    from accounts.models import User
    from accounts.roles import Role
    from allocation.services import allocation_import, period_create, plan_approve, plan_submit
    from registry.models import Asset
    from registry.selectors import ledger_verify

    regulators = []
    for name in ("bench-maker", "bench-checker"):
        user = User.objects.filter(username=name).first() or User.objects.create_user(name)
        user.groups.set([Group.objects.get(name=Role.NATIONAL_REGULATOR)])
        regulators.append(User.objects.get(pk=user.pk))
    maker, checker = regulators
    cea = Asset.objects.get(code="CEA22")
    # A fresh period each run: a unit gets one pre-allocation per period.
    period = period_create(code=f"B{int(time.time()) % 10**8}", first_year=2022, last_year=2022, vintages=[cea], actor=maker)
    codes = units(options.units)
    rng = random.Random(7)
    categories = ["coal_gt300", "coal_le300", "coal_unconventional", "gas"]
    lines = ["uscc,unit_category,electricity_mwh,heat_gj,correction_factor"]
    for code in codes:
        lines.append(f"{code},{rng.choice(categories)},{rng.randint(500_000, 6_000_000)},{rng.randint(0, 900_000)},"
                     f"{rng.choice(['1', '1.015', '0.985'])}")
    csv_bytes = ("\n".join(lines) + "\n").encode()

    timings = {}
    started = time.perf_counter()
    plan = allocation_import(period=period, vintage=cea, stream=io.BytesIO(csv_bytes), filename="bench.csv", actor=maker)
    timings["import_seconds"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    plan_submit(plan=plan, actor=maker)
    timings["submit_seconds"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    plan_approve(plan=plan, actor=checker, reason="bench")
    timings["approve_and_issue_seconds"] = round(time.perf_counter() - started, 2)
    total = sum(timings.values())
    report = ledger_verify()
    print(json.dumps({"benchmark": "allocation", "units": len(codes), **timings, "total_seconds": round(total, 2),
                      "issued_tonnes": plan.total_issue, "ledger_ok": report.ok}))


if __name__ == "__main__":
    main()
