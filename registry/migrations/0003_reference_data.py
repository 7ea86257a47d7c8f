"""The assets and system accounts every registry starts with (DESIGN.md: The ledger)."""

from django.db import migrations

PROVINCES = {
    "11": "Beijing", "12": "Tianjin", "13": "Hebei", "14": "Shanxi", "15": "Inner Mongolia", "21": "Liaoning",
    "22": "Jilin", "23": "Heilongjiang", "31": "Shanghai", "32": "Jiangsu", "33": "Zhejiang", "34": "Anhui",
    "35": "Fujian", "36": "Jiangxi", "37": "Shandong", "41": "Henan", "42": "Hubei", "43": "Hunan",
    "44": "Guangdong", "45": "Guangxi", "46": "Hainan", "50": "Chongqing", "51": "Sichuan", "52": "Guizhou",
    "53": "Yunnan", "54": "Tibet", "61": "Shaanxi", "62": "Gansu", "63": "Qinghai", "64": "Ningxia", "65": "Xinjiang",
}

ASSETS = [
    ("CNY", "Renminbi", "cash", "", 2),
    ("CCER", "China Certified Emission Reduction", "offset", "", 0),
    ("CEA19-20", "China Emission Allowance 2019-2020", "allowance", "2019-2020", 0),
    *[(f"CEA{year % 100}", f"China Emission Allowance {year}", "allowance", str(year), 0) for year in range(2021, 2026)],
]

SYSTEM_ACCOUNTS = [
    ("SYS-NATIONAL", "National issuance account", "national_issuance", ""),
    ("SYS-RETIREMENT", "Retirement account", "retirement", ""),
    ("SYS-CANCELLATION", "Voluntary cancellation account", "cancellation", ""),
    ("SYS-FEES", "Exchange fee account", "exchange_fees", ""),
    *[(f"SYS-PROV-{code}", f"{name} provincial account", "provincial", code) for code, name in PROVINCES.items()],
]


def create(apps, schema_editor):
    Asset = apps.get_model("registry", "Asset")
    Account = apps.get_model("registry", "Account")
    Balance = apps.get_model("registry", "Balance")
    assets = [
        Asset.objects.get_or_create(code=code, defaults={"name": name, "kind": kind, "vintage": vintage, "decimals": decimals})[0]
        for code, name, kind, vintage, decimals in ASSETS
    ]
    for number, name, kind, province in SYSTEM_ACCOUNTS:
        account, _ = Account.objects.get_or_create(number=number, defaults={"name": name, "kind": kind, "province": province})
        holds_cash = kind == "exchange_fees"
        Balance.objects.bulk_create(
            [Balance(account=account, asset=asset) for asset in assets if (asset.kind == "cash") == holds_cash],
            ignore_conflicts=True,
        )


class Migration(migrations.Migration):
    dependencies = [("registry", "0002_transfer_append_only")]
    operations = [migrations.RunPython(create, migrations.RunPython.noop)]
