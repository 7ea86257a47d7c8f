"""The assets and system accounts every registry starts with (registry.reference creates them), and
their names in the reader's language. The names are stored in English (data); asset_name and
account_name translate the reference ones and leave any other name as entered. Imports no model, so
that the models may use it."""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

from accounts.provinces import PROVINCES, province_name

ALLOWANCE_NAME = gettext_noop("China Emission Allowance %(vintage)s")
PROVINCIAL_ACCOUNT_NAME = gettext_noop("%(province)s provincial account")

ASSETS = [
    ("CNY", gettext_noop("Renminbi"), "cash", ""),
    ("CCER", gettext_noop("China Certified Emission Reduction"), "offset", ""),
    ("CEA19-20", ALLOWANCE_NAME % {"vintage": "2019-2020"}, "allowance", "2019-2020"),
    *[(f"CEA{year % 100}", ALLOWANCE_NAME % {"vintage": year}, "allowance", str(year)) for year in range(2021, 2026)],
]

SYSTEM_ACCOUNTS = [
    ("SYS-NATIONAL", gettext_noop("National issuance account"), "national_issuance", ""),
    ("SYS-RETIREMENT", gettext_noop("Retirement account"), "retirement", ""),
    ("SYS-CANCELLATION", gettext_noop("Voluntary cancellation account"), "cancellation", ""),
    ("SYS-FEES", gettext_noop("Exchange fee account"), "exchange_fees", ""),
    ("SYS-REVENUE", gettext_noop("Government revenue account (paid allocation)"), "government_revenue", ""),
    *[(f"SYS-PROV-{code}", PROVINCIAL_ACCOUNT_NAME % {"province": name}, "provincial", code) for code, name in PROVINCES.items()],
]
_FIXED_NAMES = frozenset(name for _code, name, _kind, _extra in [*ASSETS, *SYSTEM_ACCOUNTS])


def asset_name(name: str, vintage: str) -> str:
    """A reference asset's name in the active language; any other name as entered."""
    if vintage and name == ALLOWANCE_NAME % {"vintage": vintage}:
        return gettext(ALLOWANCE_NAME) % {"vintage": vintage}
    return gettext(name) if name in _FIXED_NAMES else name


def account_name(name: str, province: str) -> str:
    """A system account's name in the active language; an organization's account's name as entered."""
    if province and name == PROVINCIAL_ACCOUNT_NAME % {"province": PROVINCES.get(province)}:
        return gettext(PROVINCIAL_ACCOUNT_NAME) % {"province": province_name(province)}
    return gettext(name) if name in _FIXED_NAMES else name
