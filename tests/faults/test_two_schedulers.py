"""Two beat schedulers fire the end of day and the compliance deadline sweep at the same moment, to
two workers: each job takes effect once (one expiry and one close per instrument, pending released
once, one deadline run per period), and a period with nothing to do is left alone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from allocation.models import CompliancePeriod, Deduction
from allocation.services import period_create
from compliance.models import ComplianceResult
from config.celery import app
from core.models import AuditEvent
from registry.models import Asset, Balance, Transfer
from tests.compliance.helpers import plan_issue, verify
from tests.trading.conftest import fund
from trading import services
from trading.clock import is_trading_day, trading_day
from trading.models import DailyBar, Instrument, MarketEvent, Order

from .conftest import wait_for

pytestmark = [pytest.mark.django_db(transaction=True),
              pytest.mark.filterwarnings("ignore::celery.exceptions.AlwaysEagerIgnored")]


def test_two_schedulers_at_the_deadline_and_the_end_of_day_take_effect_once(
    stack, redis_server, company_a, company_b, trader_a, trader_b, national_regulator, second_national_regulator,
    exchange_operator,
):
    today = trading_day()
    if not is_trading_day(today):
        pytest.skip("the end of day runs on trading days only, and today is not one")
    for company in (company_a, company_b):
        fund(company, regulator=national_regulator, operator=exchange_operator)
    # A trade today (settled at once, in-process: A's 100 t are pending until the end of day) and an
    # order left resting, for the end of day to expire.
    services.order_place(user=trader_b, instrument="CEA21", side="sell", price="54.00", quantity=100, client_order_id="s")
    services.order_place(user=trader_a, instrument="CEA21", side="buy", price="54.00", quantity=100, client_order_id="b")
    resting, _ = services.order_place(user=trader_a, instrument="CEA21", side="buy", price="50.00", quantity=10,
                                      client_order_id="rest")
    assert Balance.objects.get(account__organization=company_a, account__kind="holding", asset__code="CEA21").pending == 100
    # A period past its deadline with two units (B short), the next period for B's deduction, and an
    # old period past its deadline with no unit at all.
    cea21, cea22 = Asset.objects.get(code="CEA21"), Asset.objects.get(code="CEA22")
    period = period_create(code="2021", first_year=2021, last_year=2021, vintages=[cea21], actor=national_regulator,
                           surrender_deadline=timezone.localdate() + dt.timedelta(days=30))
    plan_issue(period, [(company_a, "coal_gt300", 100_000), (company_b, "coal_gt300", 100_000)],
               maker=national_regulator, checker=second_national_regulator)
    verify(period, national_regulator, {company_a: 50_000, company_b: 100_000})
    CompliancePeriod.objects.filter(pk=period.pk).update(surrender_deadline=timezone.localdate() - dt.timedelta(days=1))
    period_create(code="2022", first_year=2022, last_year=2022, vintages=[cea22], actor=national_regulator,
                  surrender_deadline=timezone.localdate() + dt.timedelta(days=365))
    empty = period_create(code="2019-2020", first_year=2019, last_year=2020, actor=national_regulator,
                          vintages=[Asset.objects.get(code="CEA19-20")],
                          surrender_deadline=timezone.localdate() - dt.timedelta(days=400))

    workers = [stack.worker(MATCHER_INLINE="true"), stack.worker(MATCHER_INLINE="true")]
    wait_for(lambda: all("ready." in stack.log(worker) for worker in workers), timeout=60, what="both workers ready")
    with app.connection_for_write(redis_server.url) as broker:
        for _ in range(2):  # two schedulers, the same tick
            app.send_task("trading.tasks.end_of_day_task", connection=broker)
            app.send_task("compliance.tasks.compliance_deadline_sweep_task", connection=broker)

    def finished(name: str) -> int:
        return sum(len(re.findall(rf"Task {re.escape(name)}\[[^\]]+\] (succeeded|retry)", stack.log(w))) for w in workers)

    wait_for(lambda: DailyBar.objects.filter(day=today).count() == Instrument.objects.count()
             and finished("trading.tasks.end_of_day_task") >= 2
             and finished("compliance.tasks.compliance_deadline_sweep_task") == 2,
             timeout=90, what="both schedulers' jobs to finish", every=0.2)
    logs = "".join(stack.log(worker) for worker in workers)
    assert "Traceback" not in logs, logs[-4000:]
    assert all(re.search(r"end_of_day_task\[[^\]]+\] received", stack.log(w)) for w in workers), "one run each"

    # The end of day, once per instrument.
    instruments = Instrument.objects.count()
    assert MarketEvent.objects.filter(kind=MarketEvent.Kind.EXPIRE, trading_day=today).count() == instruments
    assert DailyBar.objects.filter(day=today).count() == instruments
    assert AuditEvent.objects.filter(action="market.expire").count() == 1
    assert AuditEvent.objects.filter(action="market.close").count() == instruments
    resting.refresh_from_db()
    assert (resting.status, resting.reserved) == (Order.Status.EXPIRED, 0)
    holding_a = Balance.objects.get(account__organization=company_a, account__kind="holding", asset__code="CEA21")
    assert (holding_a.pending, holding_a.available) == (0, 100_000 + 57_526 + 100)
    assert Transfer.objects.filter(kind=Transfer.Kind.PENDING_RELEASE).count() == 1
    assert Instrument.objects.get(symbol="CEA21").reference_price == 54_00

    # The deadline, once per period; the empty period untouched.
    assert ComplianceResult.objects.filter(period=period).count() == 2
    assert AuditEvent.objects.filter(action="compliance.deadline", object_id=str(period.pk)).count() == 1
    assert Deduction.objects.filter(organization=company_b).count() == 1
    assert not AuditEvent.objects.filter(action="compliance.deadline", object_id=str(empty.pk)).exists()
