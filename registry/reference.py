"""The assets and system accounts every registry starts with (DESIGN.md: The ledger).

Created after every `migrate` (and after the test runner flushes the database) by a post_migrate
handler, idempotently, so they exist on every database without a fixture.
"""

from __future__ import annotations

from typing import Any

from accounts.provinces import PROVINCES

ASSETS = [
    ("CNY", "Renminbi", "cash", ""),
    ("CCER", "China Certified Emission Reduction", "offset", ""),
    ("CEA19-20", "China Emission Allowance 2019-2020", "allowance", "2019-2020"),
    *[(f"CEA{year % 100}", f"China Emission Allowance {year}", "allowance", str(year)) for year in range(2021, 2026)],
]

SYSTEM_ACCOUNTS = [
    ("SYS-NATIONAL", "National issuance account", "national_issuance", ""),
    ("SYS-RETIREMENT", "Retirement account", "retirement", ""),
    ("SYS-CANCELLATION", "Voluntary cancellation account", "cancellation", ""),
    ("SYS-FEES", "Exchange fee account", "exchange_fees", ""),
    ("SYS-REVENUE", "Government revenue account (paid allocation)", "government_revenue", ""),
    *[(f"SYS-PROV-{code}", f"{name} provincial account", "provincial", code) for code, name in PROVINCES.items()],
]


def reference_data_sync(using: str = "default", **kwargs: Any) -> None:
    from registry.models import Account, Asset, Balance

    assets = [
        Asset.objects.using(using).get_or_create(
            code=code, defaults={"name": name, "kind": kind, "vintage": vintage, "decimals": 2 if kind == "cash" else 0}
        )[0]
        for code, name, kind, vintage in ASSETS
    ]
    accounts = [
        Account.objects.using(using).get_or_create(number=number, defaults={"name": name, "kind": kind, "province": province})[0]
        for number, name, kind, province in SYSTEM_ACCOUNTS
    ]
    Balance.objects.using(using).bulk_create(
        [Balance(account=account, asset=asset) for account in accounts for asset in assets if account.holds(asset)],
        ignore_conflicts=True,
    )
