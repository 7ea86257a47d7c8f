"""Participants for benchmarks: companies with cash, CEA21 and a trader each, made through the services."""

from __future__ import annotations

from django.contrib.auth.models import Group
from stdnum.cn import uscc

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from accounts.services import organization_create
from registry import services
from registry.models import Account, Asset, Transfer

CASH = 10_000_000_000_00  # 10 billion CNY: never the limit in a benchmark
ALLOWANCES = 50_000_000


def bench_user(name: str, role: str) -> User:
    """A user of this name with only this role (created once, reused by later runs)."""
    found = User.objects.filter(username=name).first() or User.objects.create_user(name)
    found.groups.set([Group.objects.get(name=role)])
    return User.objects.get(pk=found.pk)


def participants(count: int) -> list[User]:
    """Traders of `count` funded companies (created once, reused by later runs)."""
    regulator = User.objects.filter(username="bench-regulator").first()
    if regulator is None:
        regulator = User.objects.create_superuser("bench-regulator", None, None)
    vintages = list(Asset.objects.filter(code__in=["CEA21", "CEA22"]))
    national = services.system_account(Account.Kind.NATIONAL_ISSUANCE)
    traders = []
    for index in range(count):
        body = f"91110100BENCHT{index:03d}"
        code = body + uscc.calc_check_digit(body)
        organization = Organization.objects.filter(uscc=code).first()
        if organization is None:
            organization = organization_create(name=f"Bench Trader Power {index}", uscc=code, kind="key_emitting_unit",
                                               province="11", actor=regulator)
            holding, cash = services.accounts_open(organization=organization, actor=regulator)
            for vintage in vintages:
                services.allowances_issue(asset=vintage, amount=ALLOWANCES, actor=regulator)
                services.transfer_create(source=national, destination=holding, asset=vintage, amount=ALLOWANCES,
                                         actor=regulator, kind=Transfer.Kind.ALLOCATION)
            services.cash_deposit(account=cash, amount=CASH, bank_reference=f"bench-{code}", actor=regulator)
            trader = User.objects.create_user(f"bench-trader-{index}")
            trader.groups.set([Group.objects.get(name=Role.COMPANY_TRADER)])
            Membership.objects.create(user=trader, organization=organization)
        traders.append(User.objects.get(username=f"bench-trader-{index}"))
    return traders


def api_tokens(traders: list[User], name: str = "bench") -> list[str]:
    """A fresh API token key per trader; the tokens earlier runs made under `name` are revoked first
    (a user may hold only so many active tokens)."""
    from accounts.models import ApiToken
    from accounts.services import api_token_create, api_token_revoke

    keys = []
    for trader in traders:
        for token in ApiToken.objects.filter(user=trader, name=name, revoked_at__isnull=True):
            api_token_revoke(token=token, actor=trader)
        keys.append(api_token_create(user=trader, name=name, actor=trader)[1])
    return keys


HOT_TABLES = ["trading_order", "trading_trade", "trading_marketevent", "trading_matchingposition", "trading_instrument",
              "registry_balance", "registry_transfer", "core_auditevent", "accounts_apitoken"]


def vacuum() -> None:
    """VACUUM ANALYZE of the tables the benchmarks churn, as autovacuum would between runs (this
    machine's PostgreSQL runs with autovacuum off: without this, every run leaves dead rows that
    slow the next one down)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for table in HOT_TABLES:
                cursor.execute(f"VACUUM ANALYZE {table}")
