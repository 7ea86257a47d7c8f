"""seed_demo builds a usable demo through the services, and running it twice changes nothing."""

import json
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken, Organization, User
from accounts.validators import validate_uscc
from allocation.models import AllocationLine, CompliancePeriod, Deduction
from compliance.models import ComplianceResult
from core.models import AuditEvent
from offsets.models import Certificate
from registry.models import Account, Balance, Transfer
from registry.seal import ledger_seal_verify
from trading.models import Order, Trade


@pytest.mark.django_db(transaction=True)  # commits: the inline matcher matches after each, as in `make run`
def test_seed_demo_creates_companies_logins_cash_and_allowances(tmp_path):
    out = tmp_path / "logins.json"
    call_command("seed_demo", companies=5, json=out)

    companies = Organization.objects.filter(kind=Organization.Kind.KEY_EMITTING_UNIT)
    assert companies.count() == 5
    assert len({c.name for c in companies}) == 5
    for company in companies:
        validate_uscc(company.uscc)
        holding = Balance.objects.get(account__organization=company, account__kind=Account.Kind.HOLDING, asset__code="CEA21")
        cash = Balance.objects.get(account__organization=company, account__kind=Account.Kind.CASH, asset__code="CNY")
        # What the 2021 plan issued to it: 70 % of 0.5 to 5 Mt, less a deduction (no trades yet).
        issued = AllocationLine.objects.get(plan__period__code="2021", organization=company).issue_amount
        bought = sum(Trade.objects.filter(buyer=company).values_list("quantity", flat=True))
        sold = sum(Trade.objects.filter(seller=company).values_list("quantity", flat=True))
        assert holding.total == issued + bought - sold and 300_000 <= issued <= 3_500_000
        received = sum(t.value - t.seller_fee for t in Trade.objects.filter(seller=company))
        paid = sum(t.value + t.buyer_fee for t in Trade.objects.filter(buyer=company))
        assert cash.total == 50_000_000_00 + received - paid

    logins = {login["username"]: login for login in json.loads(out.read_text())}
    for username in ("admin", "regulator1", "regulator2", "exchange", "auditor", "verifier", "trader001", "trader005"):
        assert username in logins
    trader = logins["trader001"]
    assert trader["token"] and trader["uscc"] and trader["role"] == "company_trader"
    assert User.objects.get(username="trader001").check_password(trader["password"])
    # One per period's plan, and one per approved offset issuance (offsets.demo: 3 of 4 proposals approved).
    assert Transfer.objects.filter(kind=Transfer.Kind.ISSUANCE).exclude(asset__code="CCER").count() == 2
    assert Transfer.objects.filter(kind=Transfer.Kind.ISSUANCE, asset__code="CCER").count() == 3
    assert Certificate.objects.filter(number__endswith="-000001", quantity=1_000).exists()
    assert Order.objects.filter(status__in=Order.LIVE).count() == 5  # resting demo orders
    today = Trade.objects.filter(trading_day=timezone.localdate())
    assert sorted(today.values_list("quantity", flat=True)) == [200, 300]  # and two trades today
    assert AuditEvent.objects.filter(action="plan.approve").count() == 2  # issued by the checker's approval
    allocations = Transfer.objects.filter(kind=Transfer.Kind.ALLOCATION)
    assert allocations.exclude(reference__startswith="plan").exclude(reference__startswith="offset-issuance:").count() == 0
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {trader['token']}")
    accounts = client.get("/api/v1/accounts/").json()["results"]
    assert {row["number"] for row in accounts} == {f"HA-{trader['uscc']}", f"CA-{trader['uscc']}"}
    # The demo ledger ends sealed: every transfer is in the chain, and the chain holds.
    report = ledger_seal_verify()
    assert report.ok and report.transfers_checked == Transfer.objects.count() and report.unsealed == 0


def test_seed_demo_twice_changes_nothing(db, tmp_path):
    call_command("seed_demo", companies=3)
    transfers, users = Transfer.objects.count(), User.objects.count()
    call_command("seed_demo", companies=3, json=tmp_path / "again.json")
    assert (Transfer.objects.count(), User.objects.count()) == (transfers, users)
    assert len(json.loads((tmp_path / "again.json").read_text())) == users


def test_seed_demo_assigns_the_verifier_to_every_unit_and_keeps_the_2021_deadline_ahead(db):
    from allocation.models import CompliancePeriod
    from compliance.models import VerifierAssignment

    call_command("seed_demo", companies=3)
    period = CompliancePeriod.objects.get(code="2021")
    assert period.surrender_deadline > timezone.localdate()
    assigned = VerifierAssignment.objects.filter(period=period, verifier__username="verifier")
    assert set(assigned.values_list("organization__uscc", flat=True)) == set(
        Organization.objects.filter(kind=Organization.Kind.KEY_EMITTING_UNIT).values_list("uscc", flat=True))
    assert len(assigned) == 3
    # The queues are not empty: the first company's report is verified (for the Shandong regulator to
    # confirm), the second's is filed (for the verifier).
    from compliance.models import EmissionReport

    reports = EmissionReport.objects.filter(period=period).order_by("organization__name")
    assert sorted(reports.values_list("status", flat=True)) == ["filed", "verified"]
    verified = reports.get(status="verified")
    assert verified.verified_emissions == verified.emissions - 1_200 and verified.attachment_kind == "pdf"
    assert login_get("shandong", "/compliance/regulator/", verified.organization.name)
    assert login_get("verifier", "/compliance/verifier/", "Verify ")


def login_get(username: str, path: str, text: str) -> bool:
    """`text` is on the page `path` as the demo user `username` sees it."""
    from tests.auth import login

    page = login(Client(), User.objects.get(username=username)).get(path)
    return page.status_code == 200 and text in page.content.decode()


def test_seed_demo_again_keeps_the_working_keys_of_its_logins_file(db, tmp_path):
    """Keys exist in clear only when created: a second run copies those of the earlier file that still work."""
    out = tmp_path / "logins.json"
    call_command("seed_demo", companies=2, json=out)
    first = {login["username"]: login["token"] for login in json.loads(out.read_text())}
    ApiToken.objects.filter(user__username="trader002").update(revoked_at=timezone.now())
    call_command("seed_demo", companies=2, json=out)
    again = {login["username"]: login["token"] for login in json.loads(out.read_text())}
    assert again["trader001"] == first["trader001"] and again["trader002"] is None


def test_seed_demo_prints_traders_and_officers_alike_and_says_where_the_rest_are(db, tmp_path):
    out = tmp_path / "logins.json"
    printed = StringIO()
    call_command("seed_demo", companies=5, json=out, stdout=printed)
    lines = printed.getvalue().splitlines()
    shown = {line.split()[0] for line in lines if line.startswith("  ") and not line.startswith("  ...")}
    assert {"regulator1", "regulator2", "shandong", "exchange", "auditor", "verifier", "admin"} <= shown
    assert {"trader001", "officer001", "trader003", "officer003"} <= shown
    assert not {"trader004", "officer004", "trader005", "officer005"} & shown
    assert f"  ... and 4 more company logins (trader### and officer### for each company: all in {out})." in lines
    assert {"trader005", "officer005"} <= {login["username"] for login in json.loads(out.read_text())}


def test_seed_demo_tells_the_first_periods_whole_story(db, client):
    """2019-2020: allocated by an approved plan, verified, surrendered, closed by the deadline job with
    A, B and C units; the B unit's fine basis and shortfall, deducted from its 2021 allocation; the
    results published on /disclosure/. The ledger's proof holds."""
    from registry.selectors import ledger_verify

    call_command("seed_demo", companies=4)
    period = CompliancePeriod.objects.get(code="2019-2020")
    assert period.status == CompliancePeriod.Status.CLOSED
    results = {r.organization.name: r for r in ComplianceResult.objects.filter(period=period).select_related("organization")}
    assert sorted(r.status for r in results.values()) == ["A", "A", "B", "C"]
    [short] = [r for r in results.values() if r.status == "B"]
    assert short.shortfall > 0 and short.deduction_entered
    assert short.surrendered_allowances == short.allocated  # all it held
    # Its fine basis: 5 to 10 times the shortfall at the average price before the deadline's month.
    assert 0 < short.fine_basis_low and short.fine_basis_high == 2 * short.fine_basis_low
    deduction = Deduction.objects.get(organization=short.organization)
    assert deduction.period.code == "2021" and deduction.tonnes == short.shortfall
    line = AllocationLine.objects.get(plan__period__code="2021", organization=short.organization)
    assert line.deduction_amount == short.shortfall  # withheld from the 2021 issue
    page = client.get("/disclosure/2019-2020/").content.decode()
    assert 'id="not-published"' not in page and short.organization.name in page
    assert "2019-2020" in client.get("/disclosure/").content.decode()
    assert ledger_verify().problems == []


@pytest.mark.django_db(transaction=True)
def test_seed_demo_trades_on_the_days_before_today_and_closes_each(tmp_path):
    """Some days of real trades: each of the last DEMO_TRADING_DAYS trading days has trades stamped
    on that day, closed by the end-of-day job (its bar is computed from them, its close is the next
    day's reference), nothing left resting or pending from them, and the ledger holds."""
    from demo.management.commands.seed_demo import DEMO_TRADING_DAYS
    from registry.selectors import ledger_verify
    from trading.clock import is_trading_day
    from trading.models import DailyBar, Instrument
    from trading.selectors import daily_bar_compute

    call_command("seed_demo", companies=4)
    today = timezone.localdate()
    days = sorted(set(Trade.objects.exclude(trading_day=today).values_list("trading_day", flat=True)))
    assert len(days) == DEMO_TRADING_DAYS and all(is_trading_day(day) and day < today for day in days)
    instrument = Instrument.objects.get(symbol="CEA21")
    bars = {bar.day: bar for bar in DailyBar.objects.filter(instrument=instrument, day__in=days)}
    for day in days:
        trades = Trade.objects.filter(instrument=instrument, trading_day=day)
        assert all(timezone.localtime(t.executed_at).date() == day and t.settled_at for t in trades)
        assert all(t.buyer_id != t.seller_id for t in trades)
        expected = daily_bar_compute(instrument, day)
        bar = bars[day]
        assert (bar.volume, bar.trade_count, bar.close) == (expected.volume, expected.trade_count, expected.close)
        assert bar.volume == sum(t.quantity for t in trades) > 0
        assert not Order.objects.filter(trading_day=day, status__in=Order.LIVE).exists()
    # The last close is today's reference price; the synthetic history ends before the first real day.
    instrument.refresh_from_db()
    last = bars[days[-1]]
    assert instrument.reference_price == last.close
    assert DailyBar.objects.filter(instrument=instrument, day__gt=days[0]).exclude(day__in=days).count() == 0
    # Only today's purchases (T+1) are still pending.
    bought_today = sum(Trade.objects.filter(trading_day=today).values_list("quantity", flat=True))
    pending = sum(Balance.objects.filter(asset__code="CEA21").values_list("pending", flat=True))
    assert pending == bought_today
    assert ledger_verify().problems == []


def test_seed_demo_spreads_the_companies_over_the_sectors_with_one_company_in_two(db):
    from allocation.models import EmittingUnit
    from compliance.models import VerifiedEmission

    call_command("seed_demo", companies=8, sectors="power,steel,cement,aluminium")
    sectors = dict(Organization.objects.filter(kind=Organization.Kind.KEY_EMITTING_UNIT).values("sector")
                   .annotate(count=Count("id")).values_list("sector", "count"))
    assert sectors == {"power": 2, "steel": 2, "cement": 2, "aluminium": 2}
    mixed = [org for org in Organization.objects.filter(sector="cement")
             if set(EmittingUnit.objects.filter(organization=org).values_list("sector", flat=True)) == {"cement", "power"}]
    assert len(mixed) == 1
    # 2024: each new-sector unit allocated its verified emissions; the potlines verified per gas.
    for line in AllocationLine.objects.filter(plan__period__code="2024", method="verified").select_related("unit"):
        assert line.computed_allocation == line.issue_amount == VerifiedEmission.objects.get(unit=line.unit).tonnes
    assert AllocationLine.objects.filter(plan__period__code="2024", method="verified").count() == 2 + 4 + 2
    assert VerifiedEmission.objects.filter(unit__sector="aluminium", cf4_t__gt=0).count() == 2
    assert EmittingUnit.objects.filter(sector="cement", category="clinker").count() == 4


def test_seed_demo_refuses_sectors_without_power_or_unknown(db):
    for sectors in ("steel,cement", "power,glass"):
        with pytest.raises(CommandError):
            call_command("seed_demo", companies=8, sectors=sectors)
    assert not Organization.objects.filter(kind=Organization.Kind.KEY_EMITTING_UNIT).exists()
def test_seed_demo_records_enforcement_and_publishes_disclosures(db, client):
    """The short unit of 2019-2020 is fined within its range and halted (each approved by a second
    regulator); the unit without verified emissions faces a fraud case with a fine awaiting approval;
    the first disclosures are on /disclosure/2019-2020/. The ledger's proof holds."""
    from enforcement.models import Decision, Disclosure
    from enforcement.selectors import halts_in_force
    from registry.selectors import ledger_verify

    call_command("seed_demo", companies=4)
    short = ComplianceResult.objects.get(period__code="2019-2020", status="B")
    fine = Decision.objects.get(kind="non_surrender_fine")
    assert (fine.organization, fine.status) == (short.organization, "approved")
    assert short.fine_basis_low <= fine.amount <= short.fine_basis_high and fine.decided_by != fine.proposed_by
    assert set(halts_in_force()) == {short.organization.pk}
    assert Decision.objects.get(kind="fraud_fine").status == "proposed"
    published = Disclosure.objects.filter(status="published")
    assert published.count() == 2 and Disclosure.objects.filter(status="submitted").count() == 1
    page = client.get("/disclosure/2019-2020/").content.decode()
    assert all(d.organization.name in page for d in published)
    assert ledger_verify().problems == []


def test_seed_demo_approves_the_2019_2020_carry_over_window_and_marks_what_exceeds_the_cap(db, client):
    """Computed and submitted by regulator1, approved by regulator2: every company has a statement,
    what a company holds of CEA19-20 above its cap is in not_carried (kept, never tradable), and the
    company reads its statement on /carry-over/. The ledger's proof holds."""
    from carryover.models import CarryOverWindow
    from registry.selectors import ledger_verify
    from tests.auth import login

    call_command("seed_demo", companies=4)
    window = CarryOverWindow.objects.get(code="2019-2020")
    assert window.status == "approved" and window.decided_by.username == "regulator2"
    assert window.computed_by.username == window.submitted_by.username == "regulator1"
    lines = {line.organization_id: line for line in window.lines.all()}
    companies = Organization.objects.filter(kind=Organization.Kind.KEY_EMITTING_UNIT)
    assert set(lines) == set(companies.values_list("pk", flat=True))
    for company in companies:
        line = lines[company.pk]
        balance = Balance.objects.get(account__organization=company, account__kind=Account.Kind.HOLDING,
                                      asset__code="CEA19-20")
        assert line.excess == max(0, line.holding - line.cap) and balance.not_carried == line.not_carried
    assert any(line.not_carried for line in lines.values())  # the demo shows a company above its cap
    officer = User.objects.get(username="officer001")
    page = login(client, officer).get("/carry-over/").content.decode()
    assert "2019-2020" in page
    assert ledger_verify().problems == []
