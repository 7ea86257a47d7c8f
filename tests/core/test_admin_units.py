"""The admin shows the registry's units (issue 16, item 4): fen as yuan with two decimals and thousands
separators, tonnes and counts with separators, in the lists and on the detail pages; every date-time
in market time (settings.TIME_ZONE, Asia/Shanghai) with the zone named beside it."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.test import Client
from django.utils.translation import override

from accounts.models import User
from allocation.models import AllocationPlan
from compliance.models import ComplianceResult
from core.admin import format_market_time, market_zone_name
from core.models import AuditEvent
from tests.auth import login
from trading.models import Instrument, Order, Trade


def _page(url: str, *, username: str = "regulator1", language: str = "en") -> str:
    user = User.objects.get(username=username)
    user.language = language
    user.save(update_fields=["language"])
    response = login(Client(), user).get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _readonly(page: str, name: str) -> str:
    """The value a detail page shows for the read-only field `name` (its row is `field-<name>`)."""
    found = re.search(rf'field-{name}\b.*?<div class="readonly">(.*?)</div>', page, re.S)
    assert found, name
    return found.group(1).strip()


def _cell(page: str, name: str) -> list[str]:
    """The values of the list column `name` (cells `field-<name>`)."""
    return [value.strip() for value in re.findall(rf'<td class="field-{name}[^"]*">(.*?)</td>', page, re.S)]


def test_market_time_is_the_settings_zone_named_in_the_readers_language(settings):
    moment = dt.datetime(2026, 12, 4, 16, 30, 5, tzinfo=dt.UTC)
    assert format_market_time(moment) == "2026-12-05 00:30:05"  # UTC+8
    with override("zh-hans"):
        assert market_zone_name() == "北京时间"
    with override("en"):
        assert market_zone_name() == "Beijing time"
    settings.TIME_ZONE = "Europe/London"
    assert format_market_time(moment) == "2026-12-04 16:30:05" and market_zone_name() == "Europe/London"


@pytest.mark.django_db(transaction=True)
def test_trade_prices_and_fees_are_yuan_and_its_times_market_time(demo):
    trade = Trade.objects.order_by("pk").first()
    listing = _page("/admin/trading/trade/")
    assert "Price (CNY/t)" in listing and "Quantity (t)" in listing and "Executed at (Beijing time)" in listing
    assert f"{trade.price / 100:,.2f}" in _cell(listing, "price_shown")
    detail = _page(f"/admin/trading/trade/{trade.pk}/change/")
    assert _readonly(detail, "price_shown") == f"{trade.price / 100:,.2f}"
    assert _readonly(detail, "buyer_fee_shown") == f"{trade.buyer_fee / 100:,.2f}"
    assert _readonly(detail, "quantity_shown") == f"{trade.quantity:,}"
    assert _readonly(detail, "executed_at_shown") == format_market_time(trade.executed_at)
    assert f"{trade.executed_at.astimezone(dt.UTC):%Y-%m-%d %H:%M:%S}" not in detail  # never UTC
    assert "Executed at (Beijing time)" in detail and "Buyer fee (CNY)" in detail


@pytest.mark.django_db(transaction=True)
def test_an_orders_reservation_is_yuan_for_a_buy_and_tonnes_for_a_sell(demo):
    buy = Order.objects.filter(side="buy", reserved__gt=0).order_by("pk").first()
    sell = Order.objects.filter(side="sell", reserved__gt=0).order_by("pk").first()
    assert _readonly(_page(f"/admin/trading/order/{buy.pk}/change/"), "reserved_shown") == f"{buy.reserved / 100:,.2f}"
    assert _readonly(_page(f"/admin/trading/order/{sell.pk}/change/"), "reserved_shown") == f"{sell.reserved:,}"


@pytest.mark.django_db(transaction=True)
def test_instrument_prices_and_limits_are_yuan_with_separators(demo):
    instrument = Instrument.objects.order_by("symbol").first()
    listing = _page("/admin/trading/instrument/")
    assert f"{instrument.reference_price / 100:,.2f}" in _cell(listing, "reference_price_shown")
    assert f"{instrument.lower_limit / 100:,.2f} – {instrument.upper_limit / 100:,.2f}" in _cell(listing, "limits")
    detail = _page(f"/admin/trading/instrument/{instrument.pk}/change/")
    assert _readonly(detail, "tick_shown") == f"{instrument.tick / 100:,.2f}"


@pytest.mark.django_db(transaction=True)
def test_plan_totals_and_fines_show_tonnes_and_yuan_with_separators(demo):
    plan = AllocationPlan.objects.filter(total_issue__gte=1000).order_by("pk").first()
    listing = _page("/admin/allocation/allocationplan/")
    assert "Total issue (t)" in listing and f"{plan.total_issue:,}" in _cell(listing, "total_issue_shown")
    assert _readonly(_page(f"/admin/allocation/allocationplan/{plan.pk}/change/"), "total_issue_shown") == f"{plan.total_issue:,}"
    fined = ComplianceResult.objects.filter(fine_basis_high__gt=0).order_by("-fine_basis_high").first()
    assert fined is not None and fined.fine_basis_high >= 100_000  # at least 1,000.00 yuan: separators show
    listing = _page("/admin/compliance/complianceresult/")
    assert "Fine basis high (CNY)" in listing
    assert f"{fined.fine_basis_high / 100:,.2f}" in _cell(listing, "fine_basis_high_shown")
    assert str(fined.fine_basis_high) not in _cell(listing, "fine_basis_high_shown")  # never raw fen


@pytest.mark.django_db(transaction=True)
def test_the_auditor_reads_audit_times_in_beijing_time_in_chinese(demo):
    event = AuditEvent.objects.order_by("-pk").first()
    listing = _page("/admin/core/auditevent/", username="auditor", language="zh-hans")
    assert "创建时间（北京时间）" in listing
    assert format_market_time(event.created_at) in _cell(listing, "created_at_shown") + [
        # the first column is the row's link (a <th>)
        value.strip() for value in re.findall(r'<th class="field-created_at_shown"><a [^>]*>(.*?)</a>', listing)]
    detail = _page(f"/admin/core/auditevent/{event.pk}/change/", username="auditor", language="zh-hans")
    assert _readonly(detail, "created_at_shown") == format_market_time(event.created_at)
