"""Surveillance (issue 18, item 3): related-party groups and self-trade prevention across a group; each
alert's trigger and non-trigger; the queue's decisions, audited; the nightly task is idempotent."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from core.errors import DomainError
from core.models import AuditEvent
from surveillance import services
from surveillance.detection import alerts_compute
from surveillance.groups import owners_forget
from surveillance.models import Alert, GroupMember, PartyGroup
from surveillance.tasks import surveillance_alerts_task
from tests.trading.conftest import place
from trading.clock import trading_day
from trading.models import Order, Trade

pytestmark = pytest.mark.django_db


def group(*companies, stp=True, name="Huaneng Group"):
    party = PartyGroup.objects.create(name=name, self_trade_prevention=stp)
    for company in companies:
        GroupMember.objects.create(group=party, organization=company)
    owners_forget()
    return party


@pytest.fixture(autouse=True)
def _fresh_groups():
    owners_forget()
    yield
    owners_forget()


def test_members_of_a_group_with_self_trade_prevention_never_trade_together(funded3, trader_a, trader_b, trader_c, company_c):
    group(trader_a.memberships.get().organization, trader_b.memberships.get().organization)
    resting = place(trader_a, "sell", "54.00", 100)
    taker = place(trader_b, "buy", "54.00", 100)
    assert not Trade.objects.exists()
    assert (taker.status, resting.status) == (Order.Status.CANCELLED, Order.Status.OPEN)  # expire-taker
    place(trader_c, "buy", "54.00", 100)  # an outsider trades with it
    assert Trade.objects.get().buyer_id == company_c.pk


def test_without_group_prevention_they_trade_and_the_night_raises_a_related_party_alert(
    funded3, trader_a, trader_b, company_a, company_b, settings
):
    group(company_a, company_b, stp=False)
    place(trader_a, "sell", "54.00", 100)
    place(trader_b, "buy", "54.00", 100)
    assert Trade.objects.count() == 1
    assert alerts_compute(trading_day()) >= 1
    alert = Alert.objects.get(kind=Alert.Kind.RELATED_PARTY)
    assert alert.evidence["quantity"] == 100 and alert.evidence["group"] == "Huaneng Group"
    assert alert.evidence["buyers"] == [company_b.pk] and alert.evidence["sellers"] == [company_a.pk]
    # Once per day: a second run adds nothing.
    assert alerts_compute(trading_day()) == 0
    assert Alert.objects.filter(kind=Alert.Kind.RELATED_PARTY).count() == 1


def test_unrelated_trades_raise_no_related_party_alert(funded3, trader_a, trader_c, company_a, company_b):
    group(company_a, company_b, stp=False)
    place(trader_a, "sell", "54.00", 100)
    place(trader_c, "buy", "54.00", 100)
    alerts_compute(trading_day())
    assert not Alert.objects.filter(kind=Alert.Kind.RELATED_PARTY).exists()


def test_a_holder_above_the_share_is_a_large_holder_and_one_below_is_not(funded3, company_a, company_b, company_c, settings):
    # Each holds 100,000 t of CEA21 (a third of what holding accounts hold): above 5 %, not above 40 %.
    settings.SURVEILLANCE_LARGE_HOLDER_PERCENT = 40
    alerts_compute(trading_day())
    assert not Alert.objects.filter(kind=Alert.Kind.LARGE_HOLDER).exists()
    settings.SURVEILLANCE_LARGE_HOLDER_PERCENT = 5
    Alert.objects.all().delete()
    alerts_compute(trading_day())
    held = Alert.objects.filter(kind=Alert.Kind.LARGE_HOLDER, instrument__symbol="CEA21")
    assert sorted(held.values_list("organization_id", flat=True)) == sorted([company_a.pk, company_b.pk, company_c.pk])
    assert held.first().evidence["share_percent"] == pytest.approx(33.33, abs=0.01)


def test_allowances_not_carried_over_count_in_a_large_holding(funded3, company_a, national_regulator, settings):
    from registry.models import Account, Asset, Bucket, Transfer
    from registry.services import Movement, ledger_post

    # Company A's 100,000 t of CEA21 become 10,000 available and 90,000 not carried over: still held.
    holding = Account.objects.get(organization=company_a, kind=Account.Kind.HOLDING)
    ledger_post([Movement(kind=Transfer.Kind.CARRY_OVER, asset=Asset.objects.get(code="CEA21"), amount=90_000, source=holding,
                          source_bucket=Bucket.AVAILABLE, destination=holding, destination_bucket=Bucket.NOT_CARRIED,
                          reference="test", memo="above the cap")], actor=national_regulator)
    settings.SURVEILLANCE_LARGE_HOLDER_PERCENT = 30
    alerts_compute(trading_day())
    held = Alert.objects.get(kind=Alert.Kind.LARGE_HOLDER, instrument__symbol="CEA21", organization=company_a)
    assert (held.evidence["held"], held.evidence["vintage_held"]) == (100_000, 300_000)


def test_many_orders_cancelled_at_once_without_trades_is_layering_and_slow_cancels_are_not(funded3, trader_a, company_a, settings):
    settings.SURVEILLANCE_ORDER_TRADE_RATIO = 5
    from tests.trading.conftest import cancel

    orders = [place(trader_a, "buy", f"50.{i:02d}", 10) for i in range(6)]
    for order in orders:
        cancel(trader_a, order)
    # Slow: the cancels took longer than the threshold.
    settings.SURVEILLANCE_FAST_CANCEL_SECONDS = 5
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(created_at=timezone.now() - dt.timedelta(minutes=1))
    alerts_compute(trading_day())
    assert not Alert.objects.filter(kind=Alert.Kind.LAYERING).exists()
    # Fast: placed and cancelled within seconds.
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(created_at=timezone.now() - dt.timedelta(seconds=1))
    Order.objects.filter(pk__in=[o.pk for o in orders]).update(updated_at=timezone.now())
    alerts_compute(trading_day())
    alert = Alert.objects.get(kind=Alert.Kind.LAYERING)
    assert (alert.organization_id, alert.evidence["orders"], alert.evidence["trades"], alert.evidence["fast_cancels"]) == (
        company_a.pk, 6, 0, 6)


def _trade_at(trader_sell, trader_buy, price, quantity, when):
    place(trader_sell, "sell", price, quantity)
    place(trader_buy, "buy", price, quantity)
    Trade.objects.filter(pk=Trade.objects.latest("pk").pk).update(executed_at=when)


def test_trades_in_the_last_minutes_that_move_the_close_are_marking_the_close(funded3, trader_a, trader_b, trader_c, company_c, settings):
    day = trading_day()
    end = timezone.make_aware(dt.datetime.combine(day, settings.TRADING_SESSIONS[-1][1]))
    _trade_at(trader_a, trader_b, "54.00", 1000, end - dt.timedelta(hours=1))
    _trade_at(trader_a, trader_c, "54.50", 100, end - dt.timedelta(minutes=5))  # +0.09 %: not enough
    alerts_compute(day)
    assert not Alert.objects.filter(kind=Alert.Kind.MARKING_CLOSE).exists()
    _trade_at(trader_a, trader_c, "58.00", 900, end - dt.timedelta(minutes=2))  # moves the VWAP about +3.6 %
    alerts_compute(day)
    alert = Alert.objects.get(kind=Alert.Kind.MARKING_CLOSE)
    assert alert.organization_id == company_c.pk and float(alert.evidence["move_percent"]) > 2
    assert alert.evidence["window_trades"] == 2


def test_trades_at_the_limit_are_flagged_per_aggressor(funded3, trader_a, trader_b, company_b):
    place(trader_a, "sell", "59.64", 100)  # the upper limit of 54.22 +10 %
    place(trader_b, "buy", "59.64", 100)
    place(trader_a, "sell", "59.00", 100)
    place(trader_b, "buy", "59.00", 100)  # inside the band
    alerts_compute(trading_day())
    alert = Alert.objects.get(kind=Alert.Kind.LIMIT_PRICE)
    assert (alert.organization_id, alert.subject, alert.evidence["trades"], alert.evidence["quantity"]) == (
        company_b.pk, f"org:{company_b.pk}:upper", 1, 100)


def test_the_operator_dismisses_or_escalates_with_a_reason_and_each_step_is_audited(funded3, exchange_operator, trader_a, national_regulator):
    alerts_compute(trading_day())
    first, second = Alert.objects.filter(kind=Alert.Kind.LARGE_HOLDER)[:2]
    with pytest.raises(DomainError) as caught:
        services.alert_decide(alert_id=first.pk, decision="dismiss", reason=" ", actor=exchange_operator)
    assert (caught.value.code, caught.value.field) == ("invalid", "reason")
    with pytest.raises(DomainError) as caught:
        services.alert_decide(alert_id=first.pk, decision="dismiss", reason="a market maker", actor=national_regulator)
    assert caught.value.code == "permission_denied"
    services.alert_decide(alert_id=first.pk, decision="dismiss", reason="Allocated, not bought", actor=exchange_operator)
    services.alert_decide(alert_id=second.pk, decision="escalate", reason="Bought 30 % in a week", actor=exchange_operator)
    first.refresh_from_db()
    second.refresh_from_db()
    assert (first.status, second.status) == (Alert.Status.DISMISSED, Alert.Status.ESCALATED)
    assert second.decided_by == exchange_operator and second.decision_reason == "Bought 30 % in a week"
    assert set(AuditEvent.objects.filter(action__in=["alert.dismiss", "alert.escalate"]).values_list("action", flat=True)) == {
        "alert.dismiss", "alert.escalate"}
    with pytest.raises(DomainError):  # decided once
        services.alert_decide(alert_id=first.pk, decision="escalate", reason="again", actor=exchange_operator)


def test_the_queue_pages(funded3, client_for, exchange_operator, national_regulator, trader_a):
    alerts_compute(trading_day())
    alert = Alert.objects.filter(kind=Alert.Kind.LARGE_HOLDER).first()
    operator = client_for(exchange_operator)
    assert operator.get("/surveillance/").status_code == 200
    page = operator.get(f"/surveillance/{alert.pk}/").content.decode()
    assert "share_percent" in page and 'name="reason"' in page
    refused = operator.post(f"/surveillance/{alert.pk}/decide/", {"decision": "dismiss", "reason": ""})
    assert refused.status_code == 400
    done = operator.post(f"/surveillance/{alert.pk}/decide/", {"decision": "escalate", "reason": "Check it"})
    assert done.status_code == 302
    regulator_page = client_for(national_regulator).get(f"/surveillance/{alert.pk}/").content.decode()
    assert "Escalated" in regulator_page and 'name="reason"' not in regulator_page
    assert client_for(trader_a).get("/surveillance/").status_code == 403


def test_the_nightly_task_skips_a_day_without_trading_and_runs_on_a_trading_day(funded3):
    saturday = dt.date(2026, 12, 5)
    assert surveillance_alerts_task(str(saturday)) == 0 and not Alert.objects.exists()
    monday = dt.date(2026, 12, 7)
    assert surveillance_alerts_task(str(monday)) == Alert.objects.filter(day=monday).count() > 0  # the large holders
