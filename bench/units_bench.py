"""Units and sectors at national scale (issue 19): 5,000 companies with 10,000 units across power,
steel, cement and aluminium (two units each; every tenth company has a power unit beside its industrial
one). Timed: the import of a plan for the 10,000 units (power by the benchmark formula, the new sectors
by output x intensity), its submission and its approval by a second regulator, which issues every
unit's allowances; then, with the units' emissions verified (the potlines per gas; 90 % of the
companies, the rest are C) and some companies surrendering in full, the deadline job for the 5,000
companies. Prints JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench python bench/units_bench.py [--companies 5000]

Targets: import + approval + issuance below 30 s in all; the deadline job below 20 s (2-core machine).
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import json
import os
import random
import time

from _setup import django_ready
from allocation_bench import units
from compliance_bench import officers

SECTORS = ["power", "steel", "cement", "aluminium"]
CATEGORIES = {"steel": "crude_steel", "cement": "clinker", "aluminium": "aluminium"}
POWER = ["coal_gt300", "coal_le300", "coal_unconventional", "gas"]
OUTPUT = {"steel": (1_000_000, 8_000_000), "cement": (1_000_000, 5_000_000), "aluminium": (200_000, 1_200_000)}  # t a year


def plan_rows(codes: list[str], rng: random.Random) -> list[tuple[str, str, str, str, str]]:
    """(uscc, unit code, sector, category, the row's figures) for two units per company."""
    rows = []
    for index, code in enumerate(codes):
        sector = SECTORS[index % len(SECTORS)]
        sectors = [sector, "power" if index % 10 == 0 else sector]
        for number, unit_sector in enumerate(sectors, start=1):
            if unit_sector == "power":
                figures = f"{rng.randint(500_000, 6_000_000)},{rng.randint(0, 900_000)},,1"
                rows.append((code, f"U{number}", unit_sector, rng.choice(POWER), figures))
            else:
                figures = f",,{rng.randint(*OUTPUT[unit_sector])},{rng.choice(['1', '0.98'])}"
                rows.append((code, f"U{number}", unit_sector, CATEGORIES[unit_sector], figures))
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--companies", type=int, default=5_000)
    parser.add_argument("--surrendering", type=int, default=500, help="companies that surrender their whole obligation")
    options = parser.parse_args()
    django_ready()
    from bench_fixtures import bench_user
    from django.db.models import Max

    from accounts.roles import Role
    from allocation.models import AllocationLine, Benchmark, CompliancePeriod, PreAllocationBasis
    from allocation.services import allocation_import, period_create, plan_approve, plan_submit
    from compliance.models import ComplianceResult
    from compliance.selectors import obligations
    from compliance.services import compliance_deadline_run, surrender_create, verified_emissions_import
    from registry.models import Asset
    from registry.selectors import ledger_verify

    maker, checker = bench_user("bench-maker", Role.NATIONAL_REGULATOR), bench_user("bench-checker", Role.NATIONAL_REGULATOR)
    vintage = Asset.objects.get(code="CEA25")
    # A fresh period (and the next one, which receives the shortfalls) each run: a unit gets one
    # pre-allocation per period. Its new-sector rows are pre-allocated on the output estimate (a
    # regulator's edit of the default, which waits for the previous year's verified emissions).
    year = max(CompliancePeriod.objects.aggregate(last=Max("last_year"))["last"] or 2030, 2030) + 2
    period = period_create(code=f"S{year}", first_year=year, last_year=year, vintages=[vintage],
                           surrender_deadline=dt.date.today() + dt.timedelta(days=30), actor=maker)
    period_create(code=f"S{year + 1}", first_year=year + 1, last_year=year + 1, vintages=[vintage], actor=maker)
    Benchmark.objects.filter(period=period, method="intensity").update(pre_allocation_basis=PreAllocationBasis.ESTIMATE)

    seed_started = time.perf_counter()
    codes = units(options.companies, tag="BXNEW", name="Bench Industry {} Co., Ltd.")
    seed_seconds = time.perf_counter() - seed_started
    rng = random.Random(19)
    rows = plan_rows(codes, rng)
    plan_csv = ("uscc,unit_code,sector,unit_category,electricity_mwh,heat_gj,product_output_t,correction_factor\n"
                + "".join(f"{code},{unit},{sector},{category},{figures}\n" for code, unit, sector, category, figures in rows))

    timings: dict[str, float] = {}
    started = time.perf_counter()
    plan = allocation_import(period=period, vintage=vintage, stream=io.BytesIO(plan_csv.encode()), filename="bench.csv",
                             actor=maker)
    timings["import_seconds"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    plan_submit(plan=plan, actor=maker)
    timings["submit_seconds"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    plan_approve(plan=plan, actor=checker, reason="bench")
    timings["approve_and_issue_seconds"] = round(time.perf_counter() - started, 2)
    allocation_total = timings["import_seconds"] + timings["submit_seconds"] + timings["approve_and_issue_seconds"]
    methods = dict(AllocationLine.objects.filter(plan=plan).values_list("method").annotate(n=Max("id")).values_list("method", "unit_id"))

    seed_started = time.perf_counter()
    verified = set(codes[: len(codes) * 9 // 10])
    lines = ["uscc,unit_code,sector,verified_emissions,co2_t,cf4_t,c2f6_t"]
    for code, unit, sector, _category, _figures in rows:
        if code not in verified:
            continue
        tonnes = rng.randint(300_000, 6_000_000)
        lines.append(f"{code},{unit},{sector},,{tonnes},{rng.randint(0, 3)}.{rng.randint(0, 999):03d},0.4" if sector == "aluminium"
                     else f"{code},{unit},{sector},{tonnes},,,")
    started = time.perf_counter()
    verified_emissions_import(period=period, stream=io.BytesIO(("\n".join(lines) + "\n").encode()), filename="bench.csv",
                              actor=maker)
    timings["verified_import_seconds"] = round(time.perf_counter() - started, 2)
    by_uscc = {o.organization.uscc: o for o in obligations(period)}
    surrendering = [code for code in verified if 0 < by_uscc[code].obligation <= by_uscc[code].allocated][: options.surrendering]
    for code, officer in officers(surrendering).items():
        surrender_create(user=officer, period=period, asset=vintage, quantity=by_uscc[code].obligation,
                         client_request_id=f"bench-{period.code}")
    seed_seconds += time.perf_counter() - seed_started

    started, cpu = time.perf_counter(), time.process_time()
    counts = compliance_deadline_run(period=period)
    timings["deadline_job_seconds"] = round(time.perf_counter() - started, 2)
    timings["deadline_job_cpu_seconds"] = round(time.process_time() - cpu, 2)

    report = ledger_verify()
    print(json.dumps({
        "benchmark": "units", "companies": len(codes), "units": plan.lines.count(), "methods": sorted(methods),
        "load_average": round(os.getloadavg()[0], 1), "period": period.code, "seed_seconds": round(seed_seconds, 1),
        **timings, "allocation_total_seconds": round(allocation_total, 2), "issued_tonnes": plan.total_issue,
        "statuses": counts, "results": ComplianceResult.objects.filter(period=period).count(),
        "targets_met": allocation_total < 30 and timings["deadline_job_seconds"] < 20, "ledger_ok": report.ok,
    }))


if __name__ == "__main__":
    main()
