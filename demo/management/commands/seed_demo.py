"""Demo data: regulators, the exchange, an auditor, a verifier and N power companies with cash and
allowances, all created through the services (so the ledger and the audit trail are real).

The demo's story starts DEMO_TRADING_DAYS trading days ago: the registry is set up and both periods
are allocated that morning, the market trades on each of those days and each day is closed by the
end-of-day job (real trades, daily bars, closes, T+1 releases), and today's book and two trades are
placed at the real time. The earlier days run under a shifted clock (`_clock_at`): the services read
the time through `django.utils.timezone.now`, so every record (transfers, trades, audit events)
carries the day it belongs to, in order."""

from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.hashers import make_password
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone
from stdnum.cn import uscc as stdnum_uscc

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from accounts.selectors import two_factor_required
from accounts.services import api_token_create, organization_create, user_create
from accounts.tokens import api_token_for_key
from offsets.demo import offsets_seed
from registry import services
from registry.models import Account, Asset

GROUPS = [
    "Huaneng", "Datang", "Huadian", "Guodian", "SPIC", "China Resources", "Zhejiang Energy", "Shenergy",
    "Guangdong Energy", "Jingneng", "Hebei Jiantou", "Wenergy", "Sichuan Energy", "Jiangsu Guoxin", "Hubei Energy",
]
PLANTS = [
    ("37", "Dezhou"), ("37", "Zouxian"), ("37", "Laiwu"), ("32", "Taicang"), ("32", "Nantong"), ("32", "Xuzhou"),
    ("33", "Yuhuan"), ("33", "Beilun"), ("44", "Shantou"), ("44", "Zhuhai"), ("44", "Yangjiang"), ("41", "Qinbei"),
    ("41", "Pingdingshan"), ("15", "Tuoketuo"), ("15", "Baotou"), ("14", "Yangcheng"), ("14", "Datong"),
    ("13", "Shangan"), ("13", "Tangshan"), ("21", "Suizhong"), ("34", "Huainan"), ("34", "Pingwei"),
    ("42", "Yangluo"), ("43", "Yueyang"), ("36", "Fengcheng"), ("35", "Kemen"), ("61", "Weihe"), ("65", "Wucaiwan"),
    ("64", "Lingwu"), ("51", "Guang'an"), ("52", "Qianbei"), ("31", "Waigaoqiao"), ("12", "Panshan"), ("11", "Gaojing"),
    ("45", "Qinzhou"), ("53", "Xuanwei"), ("62", "Pingliang"), ("22", "Shuangliao"), ("23", "Harbin"), ("50", "Luohuang"),
    ("46", "Haikou"),
]
KINDS = ["Power Generation", "Thermal Power", "Power Plant", "Cogeneration"]
SECTORS = ("power", "steel", "cement", "aluminium")
# The new sectors' companies: their kind of business, and their units (code, category).
SECTOR_KINDS = {"steel": "Iron and Steel", "cement": "Cement", "aluminium": "Aluminium"}
SECTOR_UNITS = {"steel": [("BF1", "crude_steel")], "cement": [("L1", "clinker"), ("L2", "clinker")],
                "aluminium": [("A1", "aluminium")]}
# The first cement company also runs a coal power unit: the demo's company with units in two sectors.
CAPTIVE_POWER = ("P1", "coal_le300", 400_000)  # code, category, MWh a year

MINISTRY_USCC_BODY = "11100000000013127"  # the demo's Ministry of Ecology and Environment


def uscc_for(province: str, seed: str, authority: str = "91") -> str:
    digest = hashlib.sha256(seed.encode()).hexdigest().upper()
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    organization_code = "".join(alphabet[int(digest[i : i + 2], 16) % len(alphabet)] for i in range(0, 18, 2))
    body = f"{authority}{province}0100{organization_code}"
    return body + stdnum_uscc.calc_check_digit(body)


def company_names(count: int, kinds: list[str] | None = None) -> list[tuple[str, str]]:
    """Distinct, real-looking (name, province) pairs. 15 groups and 41 plants are coprime, so
    (index % 15, index % 41) runs through every pair before one repeats."""
    names = []
    kinds = kinds or KINDS
    pairs = len(GROUPS) * len(PLANTS)
    for index in range(count):
        group = GROUPS[index % len(GROUPS)]
        province, plant = PLANTS[index % len(PLANTS)]
        kind = kinds[(index // pairs) % len(kinds)]
        round_ = index // (pairs * len(KINDS))
        suffix = f" No. {round_ + 1}" if round_ else ""
        names.append((f"{group} {plant} {kind} Co., Ltd.{suffix}", province))
    return names


COMPANIES_PRINTED = 3  # companies whose trader and officer logins are printed (all are in --json)
DEMO_TRADING_DAYS = 5  # trading days of real trades before today
MARKET_OPEN, MARKET_CLOSED = dt.time(9, 0), dt.time(15, 30)
# When the earlier days' pairs of orders are placed: through both sessions, never in the lunch break.
TRADING_TIMES = [dt.time(9, 35), dt.time(10, 5), dt.time(10, 35), dt.time(11, 5), dt.time(13, 5), dt.time(13, 35),
                 dt.time(14, 5), dt.time(14, 35), dt.time(14, 55)]


@contextmanager
def _clock_at(day: dt.date, time: dt.time) -> Iterator[None]:
    """Demo only: `timezone.now()` reads as `day` at `time` in market time (and runs on from there)
    while the block runs. Every service reads the time through it (auto_now fields too)."""
    real_now = timezone.now
    offset = timezone.make_aware(dt.datetime.combine(day, time)) - real_now()
    timezone.now = lambda: real_now() + offset
    try:
        yield
    finally:
        timezone.now = real_now


def _trading_days_before_today(count: int) -> list[dt.date]:
    """The last `count` trading days before today, oldest first."""
    from trading.clock import is_trading_day

    days: list[dt.date] = []
    day = timezone.localdate()
    while len(days) < count:
        day -= dt.timedelta(days=1)
        if is_trading_day(day):
            days.append(day)
    return days[::-1]


class Command(BaseCommand):
    help = "Creates demo organizations, users, cash and allowances (idempotent: does nothing if already seeded)."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--companies", type=int, default=20, help="How many companies (default 20)")
        parser.add_argument("--sectors", default="power",
                            help="Comma-separated sectors the companies are spread over: power (always), steel, cement, "
                                 "aluminium (default power)")
        parser.add_argument("--json", type=Path, help="Write every login (username, password, token, organization, USCC) here")
        parser.add_argument("--password", default="carbon-demo-2026", help="The password of every demo user")

    def handle(self, *args: Any, companies: int, json: Path | None, password: str, sectors: str = "power",
               **options: Any) -> None:
        if companies < 1:
            raise CommandError("--companies must be at least 1")
        chosen = [name.strip().lower() for name in sectors.split(",") if name.strip()]
        unknown = sorted(set(chosen) - set(SECTORS))
        if unknown or "power" not in chosen:
            raise CommandError(f"--sectors: {', '.join(unknown) or 'power is missing'}; give power and any of "
                               f"{', '.join(SECTORS[1:])} (the demo market trades the power companies' CEA21)")
        others = [name for name in SECTORS[1:] if name in chosen]
        if companies < 1 + len(others):
            raise CommandError(f"--companies must be at least {1 + len(others)} for {len(others) + 1} sectors")
        # Round robin over the sectors; the power companies first (they trade, and their logins come first).
        industry = {sector: sum(1 for index in range(companies) if chosen_sector(index, ["power", *others]) == sector)
                    for sector in others}
        ministry_uscc = MINISTRY_USCC_BODY + stdnum_uscc.calc_check_digit(MINISTRY_USCC_BODY)
        if Organization.objects.filter(uscc=ministry_uscc).exists():
            self.stdout.write("Demo data already present; nothing created.")
            keys = _keys_still_valid(json)
        else:
            power = companies - sum(industry.values())
            keys = self._seed(power, password, ministry_uscc)
            if industry:
                keys.update(self._industry(industry, power, password))
        logins = self._logins(password, keys)
        if json:
            json.parent.mkdir(parents=True, exist_ok=True)
            json.write_text(_json_dumps(logins))
            self.stdout.write(f"Wrote {len(logins)} logins to {json}")
        # Every login but the companies' is printed; of the companies, the first few's trader and
        # compliance officer alike, and where the others are.
        company_roles = (Role.COMPANY_TRADER, Role.COMPLIANCE_OFFICER)
        company_logins = [login for login in logins if login["role"] in company_roles]
        shown = [login for login in logins if login["role"] not in company_roles] + company_logins[:2 * COMPANIES_PRINTED]
        self.stdout.write(f"Demo logins (password for all: {password}; regulators, the exchange, the auditor and admin "
                          "set up two-factor authentication with an authenticator app at their first login):")
        for login in shown:
            self.stdout.write(f"  {login['username']:22} {login['role']:22} {login['organization']}")
        rest = len(company_logins) - len(company_logins[:2 * COMPANIES_PRINTED])
        if rest:
            where = f"all in {json}" if json else "run with --json FILE to have them all"
            self.stdout.write(f"  ... and {rest} more company logins (trader### and officer### for each company: {where}).")

    def _seed(self, companies: int, password: str, ministry_uscc: str) -> dict[str, str]:
        from django.conf import settings

        # With a matcher process (not inline) the earlier days' orders would be matched, and stamped, at
        # the real time: then the demo trades today only.
        past_days = _trading_days_before_today(DEMO_TRADING_DAYS) if settings.MATCHER_INLINE and companies >= 2 else []
        with _clock_at(past_days[0], MARKET_OPEN) if past_days else nullcontext():
            keys = self._registry(companies, password, ministry_uscc)
        for day in past_days:
            self._trading_day(day, companies)
        self._resting_orders(companies)
        self._seal()
        return keys

    def _registry(self, companies: int, password: str, ministry_uscc: str) -> dict[str, str]:
        with transaction.atomic():
            admin = User.objects.create_superuser("admin", "admin@example.com", password)
            ministry = organization_create(
                name="Ministry of Ecology and Environment", uscc=ministry_uscc, kind=Organization.Kind.INSTITUTION,
                sector=Organization.Sector.GOVERNMENT, province="11", actor=admin,
            )
            shandong = organization_create(
                name="Shandong Department of Ecology and Environment", uscc=uscc_for("37", "shandong-dee", "11"),
                kind=Organization.Kind.INSTITUTION, sector=Organization.Sector.GOVERNMENT, province="37", actor=admin,
            )
            exchange = organization_create(
                name="Shanghai Environment and Energy Exchange", uscc=uscc_for("31", "seee"),
                kind=Organization.Kind.INSTITUTION, sector=Organization.Sector.FINANCE, province="31", actor=admin,
            )
            audit_firm = organization_create(
                name="National Audit Office Carbon Unit", uscc=uscc_for("11", "audit", "11"),
                kind=Organization.Kind.INSTITUTION, sector=Organization.Sector.GOVERNMENT, province="11", actor=admin,
            )
            verifier_body = organization_create(
                name="China Quality Certification Centre", uscc=uscc_for("11", "cqc", "12"),
                kind=Organization.Kind.INSTITUTION, sector=Organization.Sector.SERVICES, province="11", actor=admin,
            )
            staff = [
                ("regulator1", Role.NATIONAL_REGULATOR, ministry),
                ("regulator2", Role.NATIONAL_REGULATOR, ministry),
                ("shandong", Role.PROVINCIAL_REGULATOR, shandong),
                ("exchange", Role.EXCHANGE_OPERATOR, exchange),
                ("auditor", Role.AUDITOR, audit_firm),
                ("verifier", Role.VERIFIER, verifier_body),
            ]
            users = {}
            keys: dict[str, str] = {}
            for username, role, organization in staff:
                users[username] = user_create(
                    username=username, password=None, roles=[role], organization=organization, actor=admin,
                    is_staff=role != Role.VERIFIER,
                )
                if not two_factor_required(users[username]):
                    # A privileged user's token needs a two-factor verified session: made at /profile/tokens/.
                    keys[username] = _demo_token(users[username], admin)

            allocations = []
            for index, (name, province) in enumerate(company_names(companies), start=1):
                company = organization_create(
                    name=name, uscc=uscc_for(province, name), kind=Organization.Kind.KEY_EMITTING_UNIT,
                    sector=Organization.Sector.POWER, province=province, actor=admin,
                )
                services.accounts_open(organization=company, actor=admin)
                trader = user_create(
                    username=f"trader{index:03d}", password=None, roles=[Role.COMPANY_TRADER],
                    organization=company, actor=admin,
                )
                keys[trader.username] = _demo_token(trader, admin)
                officer = user_create(
                    username=f"officer{index:03d}", password=None, roles=[Role.COMPLIANCE_OFFICER],
                    organization=company, actor=admin,
                )
                keys[officer.username] = _demo_token(officer, admin)
                # 0.5 to 5 Mt: the spread of real coal units' annual allocations.
                tonnes = 500_000 + int(hashlib.sha256(name.encode()).hexdigest(), 16) % 4_500_001
                allocations.append((company, tonnes))

            # One hash for every demo user: hashing is slow on purpose, and the password is shared anyway.
            User.objects.exclude(pk=admin.pk).update(password=make_password(password))

            for company, _tonnes in allocations:
                cash = Account.objects.get(organization=company, kind=Account.Kind.CASH)
                services.cash_deposit(
                    account=cash, amount=50_000_000_00, bank_reference=f"DEMO-{company.uscc}", actor=users["exchange"]
                )
            history = self._first_period(allocations, users)
            from allocation.services import period_create

            cea21 = Asset.objects.get(code="CEA21")
            # The real 2021 deadline (31 Dec 2022) has passed; the demo keeps it a year ahead so that
            # surrenders (refused after the deadline) can be tried.
            period = period_create(code="2021", first_year=2021, last_year=2021, vintages=[cea21],
                                   surrender_deadline=timezone.localdate() + dt.timedelta(days=365),
                                   actor=users["regulator1"])
            from compliance.services import compliance_deadline_run

            # 2019-2020's deadline job, now that 2021 exists: results, the B unit's fine basis and its
            # shortfall entered as a deduction from its 2021 allocation (withheld when that plan issues).
            self._price_history()  # the fine basis prices a shortfall at the average before the deadline's month
            compliance_deadline_run(period=history, actor=users["regulator1"])
            _plan_issue(period, cea21, [(company, tonnes) for company, tonnes in allocations], users)
            from compliance.verification import verifier_assign

            for company, _ in allocations:  # the demo verifier verifies every unit's 2021 report
                verifier_assign(period=period, organization=company, verifier=users["verifier"], actor=users["regulator1"])
            from compliance.demo import reports_demo_seed

            reports_demo_seed(period=period, companies=allocations, verifier=users["verifier"])  # one verified, one filed
            from enforcement.demo import (
                enforcement_demo_seed,  # (one block, so merges with other demo changes stay easy)
            )

            enforcement_demo_seed(period=history, users=users)  # a fine, a production halt, a fraud case, disclosures
            from carryover.demo import carryover_demo_seed

            carryover_demo_seed(users=users)  # the 2019-2020 window, approved: statements on /carry-over/
            offsets_seed(maker=users["regulator1"], checker=users["regulator2"], companies=[c for c, _ in allocations])
        self.stdout.write(self.style.SUCCESS(
            f"Seeded {companies} companies with 50,000,000.00 CNY each; the 2019-2020 period allocated by plan, verified, "
            "surrendered and closed by the deadline job (see /disclosure/); 2021 allocated by plan (70 % pre-allocation)."))
        return keys

    def _industry(self, industry: dict[str, int], power: int, password: str) -> dict[str, str]:
        """The new sectors' companies (RULEBOOK.md: 2024-2026 rules) and their units, through the services:
        the 2024 period, their 2024 emissions verified per unit (the aluminium potlines per gas), and the
        2024 plan, which allocates each unit its verified emissions (method `verified`) and the first
        cement company's captive power unit by the power benchmark. Their logins follow the power
        companies' (trader### and officer###)."""
        from allocation.services import allocation_import, period_create, plan_approve, plan_submit
        from compliance.services import verified_emissions_import

        admin = User.objects.get(username="admin")
        regulator1, regulator2 = User.objects.get(username="regulator1"), User.objects.get(username="regulator2")
        keys: dict[str, str] = {}
        index = power
        verified = ["uscc,unit_code,sector,verified_emissions,co2_t,cf4_t,c2f6_t"]
        plan = ["uscc,unit_code,sector,unit_category,electricity_mwh,heat_gj,product_output_t,correction_factor"]
        with transaction.atomic():
            vintage = Asset.objects.get(code="CEA24")
            period = period_create(code="2024", first_year=2024, last_year=2024, vintages=[vintage],
                                   surrender_deadline=timezone.localdate() + dt.timedelta(days=365), actor=regulator1)
            for sector, count in industry.items():
                for number, (name, province) in enumerate(company_names(count, [SECTOR_KINDS[sector]])):
                    index += 1
                    company = organization_create(name=name, uscc=uscc_for(province, name), kind=Organization.Kind.KEY_EMITTING_UNIT,
                                                  sector=sector, province=province, actor=admin)
                    services.accounts_open(organization=company, actor=admin)
                    for role, prefix in ((Role.COMPANY_TRADER, "trader"), (Role.COMPLIANCE_OFFICER, "officer")):
                        user = user_create(username=f"{prefix}{index:03d}", password=None, roles=[role], organization=company,
                                           actor=admin)
                        keys[user.username] = _demo_token(user, admin)
                    # 0.3 to 3 Mt a year per unit.
                    for code, category in SECTOR_UNITS[sector]:
                        tonnes = 300_000 + int(hashlib.sha256(f"{name}/{code}".encode()).hexdigest(), 16) % 2_700_001
                        if sector == "aluminium":  # per gas: about 4 % of the total is perfluorocarbons
                            cf4 = tonnes // 400  # kg
                            verified.append(f"{company.uscc},{code},{sector},,{tonnes * 96 // 100},{cf4 // 1000}.{cf4 % 1000:03d},0.5")
                        else:
                            verified.append(f"{company.uscc},{code},{sector},{tonnes},,,")
                        plan.append(f"{company.uscc},{code},{sector},{category},,,,")
                    if sector == "cement" and number == 0:
                        code, category, mwh = CAPTIVE_POWER
                        plan.append(f"{company.uscc},{code},power,{category},{mwh},0,,1")
            User.objects.filter(username__in=keys).update(password=make_password(password))
            verified_emissions_import(period=period, stream=io.BytesIO("\n".join(verified).encode()),
                                      filename="verified-2024.csv", actor=regulator1)
            drafted = allocation_import(period=period, vintage=vintage, stream=io.BytesIO("\n".join(plan).encode()),
                                        filename="plan-2024.csv", actor=regulator1, issue_percent=Decimal(100))
            plan_submit(plan=drafted, actor=regulator1, reason="2024: the new sectors' verified emissions")
            plan_approve(plan=drafted, actor=regulator2, reason="Checked against the verified emissions")
        self.stdout.write(self.style.SUCCESS(
            f"Seeded {sum(industry.values())} steel, cement and aluminium companies ({drafted.lines.count()} units); "
            f"2024 allocated by plan {drafted.pk}: their verified emissions."))
        return keys

    def _trading_day(self, day: dt.date, companies: int) -> None:
        """A past trading day of CEA21: a few sells met by buys of other companies at prices around
        the reference (each pair trades whole, so nothing rests), then the end-of-day job closes the
        day: expiry, settlement, the daily bar and close, the buyers' allowances released (T+1)."""
        import random

        from django.core.management import call_command

        from trading.models import Instrument
        from trading.services import order_place

        instrument = Instrument.objects.get(symbol="CEA21")
        rng = random.Random(day.toordinal())
        traders = [User.objects.get(username=f"trader{index:03d}") for index in range(1, min(companies, 10) + 1)]
        reference = Instrument.objects.get(pk=instrument.pk).reference_price
        for pair, at in enumerate(sorted(rng.sample(TRADING_TIMES, rng.randint(5, len(TRADING_TIMES))))):
            seller, buyer = rng.sample(traders, 2)
            price = f"{(reference + instrument.tick * rng.randint(-80, 80)) / 100:.2f}"
            # Up to 40,000 t with ten companies, less with fewer: no seller runs short over the days.
            quantity = rng.randint(5, 40) * 100 * len(traders)
            with _clock_at(day, at):
                order_place(user=seller, instrument=instrument.symbol, side="sell", price=price, quantity=quantity,
                            client_order_id=f"demo-{day}-{pair}-sell")
                order_place(user=buyer, instrument=instrument.symbol, side="buy", price=price, quantity=quantity,
                            client_order_id=f"demo-{day}-{pair}-buy")
        with _clock_at(day, MARKET_CLOSED):
            call_command("end_of_day", day=day, stdout=io.StringIO())
        bar = instrument.daily_bars.get(day=day)
        self.stdout.write(f"Traded {bar.volume:,} t of CEA21 in {bar.trade_count} trades on {day}; close {bar.close / 100:.2f}.")

    def _first_period(self, allocations: list[tuple[Organization, int]], users: dict[str, User]) -> Any:
        """The 2019-2020 period as it happened, through the platform's services: allocated by an
        approved plan, emissions verified, surrendered by the units' compliance officers, up to its
        deadline (today: the surrender is still allowed). The deadline job runs once 2021 exists,
        where the shortfall becomes a deduction."""
        from allocation.services import period_create
        from compliance.selectors import obligation_of
        from compliance.services import surrender_create, verified_emissions_import

        vintage = Asset.objects.get(code="CEA19-20")
        period = period_create(code="2019-2020", first_year=2019, last_year=2020, vintages=[vintage],
                               surrender_deadline=timezone.localdate(), actor=users["regulator1"])
        _plan_issue(period, vintage, allocations, users)
        # Every unit verified (emitting 95 % of its free allocation) and in compliance (A), but the
        # last: no verified emissions (C); and the one before: emitted 10 % more than allocated,
        # surrendered what it held and falls short (B: a fine basis and a deduction from 2021).
        short = allocations[-2][0] if len(allocations) >= 3 else None
        unverified = allocations[-1][0] if len(allocations) >= 2 else None
        held = {company: obligation.allocated for company in (c for c, _ in allocations)
                if (obligation := obligation_of(period, company)) is not None}
        emitted = {company: held[company] * (110 if company == short else 95) // 100
                   for company, _ in allocations if company != unverified}
        body = "uscc,verified_emissions\n" + "".join(f"{company.uscc},{tonnes}\n" for company, tonnes in emitted.items())
        verified_emissions_import(period=period, stream=io.BytesIO(body.encode()), filename="verified-2019-2020.csv",
                                  actor=users["regulator1"])
        for company in emitted:
            obligation = obligation_of(period, company)
            officer = User.objects.get(memberships__organization=company, groups__name=Role.COMPLIANCE_OFFICER)
            surrender_create(user=officer, period=period, asset=vintage, quantity=min(obligation.obligation, held[company]),
                             client_request_id=f"demo-2019-2020-{company.uscc}")
        return period

    def _price_history(self, days: int = 90) -> None:
        """About `days` calendar days of daily bars per instrument (weekdays up to yesterday), a
        seeded random walk that ends at the instrument's reference price, so the charts show history.
        Demo data only: real bars are written by the end of day."""
        import datetime as dt
        import random

        from django.utils import timezone

        from trading.models import DailyBar, Instrument

        today = timezone.localdate()
        weekdays = [day for day in (today - dt.timedelta(days=n) for n in range(days, 0, -1)) if day.weekday() < 5]
        bars = []
        for instrument in Instrument.objects.order_by("symbol"):
            rng = random.Random(instrument.symbol)
            close = instrument.reference_price
            walk = []
            for day in reversed(weekdays):  # backwards from the reference price
                previous = max(100, round(close / (1 + rng.gauss(0, 0.018))))
                high = max(previous, close) + rng.randint(0, max(1, close // 100))
                low = max(1, min(previous, close) - rng.randint(0, max(1, close // 100)))
                volume = rng.randint(20, 400) * 1_000
                walk.append(DailyBar(instrument=instrument, day=day, open=previous, high=high, low=low, close=close,
                                     volume=volume, turnover=volume * (previous + close) // 2, trade_count=rng.randint(10, 300),
                                     reference_price=previous))
                close = previous
            bars.extend(walk)
        DailyBar.objects.bulk_create(bars, ignore_conflicts=True)
        self.stdout.write(f"Wrote {len(weekdays)} days of price history for each instrument.")

    def _seal(self) -> None:
        """Seals the demo ledger, so the auditors' seal chain page starts with blocks to check."""
        from registry.seal import ledger_seal

        result = ledger_seal()
        if result.blocks:
            self.stdout.write(f"Sealed {result.transfers_sealed} transfers into {len(result.blocks)} seal blocks.")

    def _resting_orders(self, companies: int) -> None:
        """A few bids below and offers above CEA21's reference price, so the book is not empty."""
        from trading.errors import MarketClosed
        from trading.models import Instrument
        from trading.services import order_place

        reference = Instrument.objects.get(symbol="CEA21").reference_price
        placed = 0
        for index in range(1, min(companies, 10) + 1):
            trader = User.objects.get(username=f"trader{index:03d}")
            side = "buy" if index % 2 else "sell"
            steps = (index + 1) // 2
            price = reference - 10 * steps if side == "buy" else reference + 10 * steps
            try:
                order_place(user=trader, instrument="CEA21", side=side, price=f"{price / 100:.2f}",
                            quantity=500 * index, client_order_id=f"demo-{index}")
                placed += 1
            except MarketClosed:
                self.stdout.write("The market is closed (MARKET_HOURS=sessions): no demo orders placed.")
                return
        self.stdout.write(f"Placed {placed} resting CEA21 orders around {reference / 100:.2f}.")
        if companies >= 4:
            # Two trades today, against the best bid and the best ask: the tape, the day's volume and
            # the buyers' pending allowances (released by the end of day) have something to show.
            order_place(user=User.objects.get(username="trader003"), instrument="CEA21", side="sell",
                        price=f"{(reference - 10) / 100:.2f}", quantity=200, client_order_id="demo-cross-1")
            order_place(user=User.objects.get(username="trader004"), instrument="CEA21", side="buy",
                        price=f"{(reference + 10) / 100:.2f}", quantity=300, client_order_id="demo-cross-2")
            self.stdout.write("Traded 200 t and 300 t of CEA21 today.")

    def _logins(self, password: str, keys: dict[str, str]) -> list[dict[str, Any]]:
        roles = {group.name: group for group in Group.objects.all()}
        logins = []
        memberships = {m.user_id: m.organization for m in Membership.objects.select_related("organization")}
        for user in User.objects.filter(groups__in=roles.values()).distinct().order_by("id").prefetch_related("groups"):
            organization = memberships.get(user.pk)
            logins.append({
                "username": user.username,
                "password": password,
                "token": keys.get(user.username),
                "role": next(iter(g.name for g in user.groups.all()), None),
                "organization": organization.name if organization else None,
                "uscc": organization.uscc if organization else None,
            })
        logins.insert(0, {"username": "admin", "password": password, "token": None, "role": "superuser", "organization": None, "uscc": None})
        return logins


def chosen_sector(index: int, sectors: list[str]) -> str:
    return sectors[index % len(sectors)]


def _plan_issue(period: Any, vintage: Asset, allocations: list[tuple[Organization, int]], users: dict[str, User]) -> Any:
    """An allocation plan for `period` through the maker-checker: imported and submitted by one
    national regulator, approved (and so issued) by the other. Each unit's electricity is chosen so
    that its full allocation is about its `tonnes` under the period's benchmark for large coal units;
    70 % of it is pre-allocated (issued) now."""
    from allocation.models import Benchmark
    from allocation.services import allocation_import, plan_approve, plan_submit

    factor = Benchmark.objects.get(period=period, unit_category="coal_gt300").electricity
    body = "uscc,unit_category,electricity_mwh,heat_gj,correction_factor\n" + "".join(
        f"{company.uscc},coal_gt300,{int(tonnes / factor)},0,1\n" for company, tonnes in allocations)
    plan = allocation_import(period=period, vintage=vintage, stream=io.BytesIO(body.encode()),
                             filename=f"plan-{period.code}.csv", actor=users["regulator1"])
    plan_submit(plan=plan, actor=users["regulator1"], reason=f"Pre-allocation {period.code} from the units' output estimates")
    return plan_approve(plan=plan, actor=users["regulator2"], reason="Totals checked against the benchmark table")


def _demo_token(user: User, admin: User) -> str:
    return api_token_create(user=user, name="demo", actor=admin)[1]


def _keys_still_valid(path: Path | None) -> dict[str, str]:
    """API keys exist in clear only when created: a second run keeps those of the earlier logins file
    that still work."""
    if path is None or not path.exists():
        return {}
    try:
        logins = json.loads(path.read_text())
    except ValueError:
        return {}
    keys = {login.get("username"): login.get("token") for login in logins if isinstance(login, dict)}
    now = timezone.now()
    valid = {}
    for username, key in keys.items():
        token = api_token_for_key(key) if isinstance(key, str) else None
        if token is not None and token.is_active_at(now) and token.user.username == username:
            valid[username] = key
    return valid


def _json_dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
