"""A national allocation plan's admin pages (issue 16, item 7: the change page of a 2,000-line plan took
2.7 s and 4.3 MB of HTML before its lines were paged): a draft plan of 2,000 units imported, then its
change page, review page (lines paged), the plans' list and the plan's history, each fetched twice
by a logged-in superuser through Django's test client (no HTTP server). Prints JSON: seconds
of the second fetch and bytes of HTML per page.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench python bench/plan_pages_bench.py [--units 2000]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import random
import time

from _setup import django_ready
from allocation_bench import units


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--units", type=int, default=2_000)
    options = parser.parse_args()
    django_ready()
    from django.conf import settings
    from django.contrib.auth.models import Group
    from django.db.models import Max
    from django.test import Client

    from accounts.models import User
    from accounts.roles import Role
    from allocation.models import CompliancePeriod
    from allocation.services import allocation_import, period_create
    from registry.models import Asset
    from tests.auth import login

    regulator = User.objects.filter(username="bench-maker").first() or User.objects.create_user("bench-maker")
    regulator.groups.set([Group.objects.get(name=Role.NATIONAL_REGULATOR)])
    regulator = User.objects.get(pk=regulator.pk)
    year = max(CompliancePeriod.objects.aggregate(last=Max("last_year"))["last"] or 2030, 2030) + 2
    vintage = Asset.objects.get(code="CEA23")
    period = period_create(code=f"P{year}", first_year=year, last_year=year, vintages=[vintage], actor=regulator)
    rng = random.Random(3)
    plan_csv = "uscc,unit_category,electricity_mwh,heat_gj,correction_factor\n" + "".join(
        f"{code},coal_gt300,{rng.randint(500_000, 6_000_000)},0,1\n" for code in units(options.units))
    plan = allocation_import(period=period, vintage=vintage, stream=io.BytesIO(plan_csv.encode()), filename="bench.csv",
                             actor=regulator)
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "testserver"]  # the test client's host, as under pytest
    reader = User.objects.filter(username="bench-admin").first() or User.objects.create_superuser("bench-admin")
    client = Client()
    login(client, reader)
    pages = {}
    for name, url in (("change", f"/admin/allocation/allocationplan/{plan.pk}/change/"),
                      ("review", f"/admin/allocation/allocationplan/{plan.pk}/review/"),
                      ("list", "/admin/allocation/allocationplan/"),
                      ("history", f"/admin/allocation/allocationplan/{plan.pk}/history/")):
        for _ in range(2):  # the second fetch: templates compiled, caches warm
            started = time.perf_counter()
            response = client.get(url)
            seconds = time.perf_counter() - started
        assert response.status_code == 200, (url, response.status_code, response.get("Location"))
        pages[name] = {"status": response.status_code, "seconds": round(seconds, 3), "bytes": len(response.content)}
    print(json.dumps({
        "benchmark": "plan_pages", "lines": plan.lines.count(), "load_average": round(os.getloadavg()[0], 1), **pages,
        "targets_met": all(page["status"] == 200 and page["seconds"] < 1 and page["bytes"] < 200_000 for page in pages.values()),
    }))


if __name__ == "__main__":
    main()
