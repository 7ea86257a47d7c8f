"""One-way bidding (issue 18, item 2): the uniform-price clearing (ties at the margin pro rata with the
remainder by time, the reserve, the maximum share), announcement and maker-checker approval, sealed
bids and their refusals, the close with DvP settlement and releases, paid allocation into the
government revenue account, and the close job. The ledger is conserved after each test
(tests/conftest.py); the service tests also check that nothing stays reserved after a close."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.db.models import Sum
from django.utils import timezone

from core.errors import DomainError
from registry.models import Account, Balance, Transfer
from trading import auctions
from trading.auctions import SealedBid, auction_clear
from trading.clock import trading_day
from trading.fees import buy_reservation, fee_for
from trading.models import Auction, AuctionBid, Trade
from trading.selectors import daily_bar_compute
from trading.tasks import auctions_close_task

from .conftest import ALLOWANCES, CASH, balance, fund

_ids = itertools.count(1)


# --- the clearing, alone ---


def clear(bids, *, side="sell", quantity=1000, reserve=5000, max_share=1000):
    sealed = [SealedBid(index + 1, organization, price, size) for index, (organization, price, size) in enumerate(bids)]
    return auction_clear(side=side, quantity=quantity, reserve_price=reserve, max_share=max_share, bids=sealed)


def test_a_sell_auction_fills_the_highest_bids_and_clears_at_the_lowest_winning_price():
    price, won = clear([(1, 5500, 400), (2, 6000, 300), (3, 5200, 500), (4, 5100, 200)])
    assert won == {2: 300, 1: 400, 3: 300}
    assert price == 5200


def test_a_buy_auction_fills_the_lowest_offers_and_clears_at_the_highest_winning_price():
    price, won = clear([(1, 4500, 400), (2, 4000, 300), (3, 4800, 500), (4, 5100, 900)], side="buy", reserve=5000)
    assert won == {2: 300, 1: 400, 3: 300}
    assert price == 4800  # 51.00 is above the buyer's reserve of 50.00: never considered


def test_bids_below_the_reserve_win_nothing_even_when_the_auction_is_undersold():
    price, won = clear([(1, 5000, 300), (2, 4999, 500)], reserve=5000)
    assert (price, won) == (5000, {1: 300})
    assert clear([(1, 4999, 300)], reserve=5000) == (None, {})


def test_ties_at_the_margin_share_pro_rata_in_whole_tonnes_with_the_remainder_by_time():
    # 1,000 t: 400 t at 60.00 fill; 600 t are left for 700 + 300 + 200 t at 55.00 (1,200 t).
    price, won = clear([(1, 6000, 400), (2, 5500, 700), (3, 5500, 300), (4, 5500, 200)])
    # Pro rata 600 x 700/1200 = 350, x 300/1200 = 150, x 200/1200 = 100: exact.
    assert won == {1: 400, 2: 350, 3: 150, 4: 100} and price == 5500
    # 10 t among three equal bids: 3 each, and the remaining tonne to the earliest.
    price, won = clear([(1, 5500, 10), (2, 5500, 10), (3, 5500, 10)], quantity=10, max_share=10)
    assert won == {1: 4, 2: 3, 3: 3}
    # Fractions: 100 t for 7, 11 and 13 t... of 31 t demand at a 100 t auction is all filled; at 20 t:
    price, won = clear([(1, 5500, 7), (2, 5500, 11), (3, 5500, 13)], quantity=20, max_share=20)
    # 20 x 7/31 = 4.5 -> 4, 20 x 11/31 = 7.1 -> 7, 20 x 13/31 = 8.4 -> 8: 19, one more to the earliest.
    assert won == {1: 5, 2: 7, 3: 8}
    assert sum(won.values()) == 20


def test_no_bidder_wins_more_than_the_maximum_share_across_its_bids():
    # 1,000 t, 30 %: at most 300 t each. Bidder 1 bids 300 t twice; its second bid wins nothing, and
    # the lower bids of others fill instead.
    price, won = clear([(1, 6000, 300), (1, 5900, 300), (2, 5800, 300), (3, 5700, 300), (4, 5600, 300)], max_share=300)
    assert won == {1: 300, 3: 300, 4: 300, 5: 100}
    assert price == 5600
    # The cap at a tied margin: a capped bidder's excess does not count in the pro rata.
    price, won = clear([(1, 6000, 200), (1, 5500, 300), (2, 5500, 300), (3, 5500, 300)], quantity=700, max_share=300)
    # Bidder 1 has 100 t of room at 55.00: demand 100 + 300 + 300 = 700 for 500 t left.
    assert won == {1: 200, 2: 72, 3: 214, 4: 214}
    assert sum(won.values()) == 700


# --- the services ---


START = dict(instrument="CEA21", reserve_price="50.00", min_bid_quantity=100)


def announce(user, **overrides):
    now = timezone.now()
    body = {**START, "side": "sell", "quantity": 10_000, "starts_at": now - dt.timedelta(minutes=1),
            "ends_at": now + dt.timedelta(hours=1), "client_auction_id": f"auction-{next(_ids)}", **overrides}
    return auctions.auction_announce(user=user, **body)[0]


def bid(user, auction, price, quantity, client_bid_id=None):
    return auctions.auction_bid_place(user=user, auction_id=auction.pk, price=price, quantity=quantity,
                                      client_bid_id=client_bid_id or f"bid-{next(_ids)}")[0]


def end_window(auction):
    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now() - dt.timedelta(seconds=1))


def close(auction):
    end_window(auction)
    return auctions.auction_close(auction_id=auction.pk)


def reserved_total():
    return Balance.objects.aggregate(r=Sum("reserved"))["r"]


def revenue():
    return Balance.objects.get(account__kind=Account.Kind.GOVERNMENT_REVENUE, asset__code="CNY").available


def fees():
    return Balance.objects.get(account__kind=Account.Kind.EXCHANGE_FEES, asset__code="CNY").available


@pytest.fixture
def funded_all(funded3, company_a, company_b, company_c):
    """A, B, C with 10 million CNY and 100,000 t CEA21 each."""


def test_a_company_sell_auction_clears_settles_and_releases_everything(
    funded_all, trader_a, trader_b, trader_c, exchange_operator, company_a, company_b, company_c
):
    auction = announce(trader_a, quantity=10_000, max_share_percent=60)
    assert (auction.status, auction.reserved) == ("pending", 10_000)
    assert balance(company_a, "CEA21") == (ALLOWANCES - 10_000, 10_000, 0, 0)
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    high = bid(trader_b, auction, "55.00", 6_000)
    low = bid(trader_c, auction, "52.00", 6_000)
    assert balance(company_b, "CNY")[1] == buy_reservation(5500, 6_000, high.fee_rate)

    fees_before = fees()
    auction = close(auction)
    assert (auction.status, auction.clearing_price, auction.quantity_filled, auction.bidder_count, auction.bid_quantity) == (
        "closed", 5200, 10_000, 2, 12_000)
    high.refresh_from_db()
    low.refresh_from_db()
    assert (high.status, high.won_quantity, high.reserved) == ("won", 6_000, 0)
    assert (low.status, low.won_quantity) == ("won", 4_000)
    # One settled trade per winning bid, at the uniform price; the seller is the initiator.
    trades = list(Trade.objects.filter(kind=Trade.Kind.AUCTION).order_by("quantity"))
    assert [(t.buyer_id, t.seller_id, t.price, t.quantity, t.auction_bid_id) for t in trades] == [
        (company_c.pk, company_a.pk, 5200, 4_000, low.pk), (company_b.pk, company_a.pk, 5200, 6_000, high.pk)]
    assert all(t.settled_at is not None for t in trades)
    # B pays 52.00 (not its 55.00) x 6,000 and the fee; the rest of its reservation came back.
    b_value, c_value = 5200 * 6_000, 5200 * 4_000
    rate = auction.fee_rate
    assert balance(company_b, "CNY") == (CASH - b_value - fee_for(b_value, rate), 0, 0, 0)
    assert balance(company_c, "CNY") == (CASH - c_value - fee_for(c_value, rate), 0, 0, 0)
    assert balance(company_b, "CEA21") == (ALLOWANCES, 0, 6_000, 0)  # T+1
    assert balance(company_c, "CEA21") == (ALLOWANCES, 0, 4_000, 0)
    seller_fees = fee_for(b_value, rate) + fee_for(c_value, rate)
    assert balance(company_a, "CNY") == (CASH + b_value + c_value - seller_fees, 0, 0, 0)
    assert balance(company_a, "CEA21") == (ALLOWANCES - 10_000, 0, 0, 0)
    assert fees() - fees_before == 2 * seller_fees
    assert reserved_total() == 0
    # Auction trades stay out of the listed close.
    bar = daily_bar_compute(auction.instrument, trading_day())
    assert (bar.volume, bar.close) == (0, auction.instrument.reference_price)


def test_an_undersold_auction_releases_the_unsold_rest_and_losers(
    funded_all, trader_a, trader_b, trader_c, exchange_operator, company_a, company_b, company_c
):
    auction = announce(trader_a, quantity=10_000, reserve_price="50.00")
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    bid(trader_b, auction, "50.00", 3_000)
    auction = close(auction)
    assert (auction.clearing_price, auction.quantity_filled, auction.bidder_count) == (5000, 3_000, 1)
    assert balance(company_a, "CEA21") == (ALLOWANCES - 3_000, 0, 0, 0)
    assert reserved_total() == 0


def test_an_auction_without_bids_closes_with_nothing_traded(funded_all, trader_a, exchange_operator, company_a):
    auction = announce(trader_a)
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    auction = close(auction)
    assert (auction.status, auction.clearing_price, auction.quantity_filled) == ("closed", None, 0)
    assert auctions.auction_results(auction)["cover_ratio"] == "0.00"
    assert balance(company_a, "CEA21") == (ALLOWANCES, 0, 0, 0)


def test_ties_and_the_share_cap_through_the_close(
    funded_all, trader_a, trader_b, trader_c, exchange_operator, company_b, company_c
):
    # 1,000 t at most 30 % each = 300 t; B and C tie at 51.00 for 300 t each, D... only two bidders:
    # together they may win 600 t, so 400 t stay unsold although they bid for more.
    auction = announce(trader_a, quantity=1_000, min_bid_quantity=1, max_share_percent=30)
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    with pytest.raises(DomainError) as caught:
        bid(trader_b, auction, "51.00", 301)
    assert (caught.value.code, caught.value.field) == ("above_share_cap", "quantity")
    first = bid(trader_b, auction, "51.00", 300)
    bid(trader_b, auction, "50.00", 300)  # would win nothing: B is at its cap
    bid(trader_c, auction, "51.00", 300)
    auction = close(auction)
    assert (auction.clearing_price, auction.quantity_filled) == (5100, 600)
    won = dict(AuctionBid.objects.filter(auction=auction).values_list("pk", "won_quantity"))
    assert won[first.pk] == 300 and sorted(won.values()) == [0, 300, 300]
    assert balance(company_b, "CEA21")[2] == balance(company_c, "CEA21")[2] == 300
    assert reserved_total() == 0


def test_a_tied_margin_through_the_close_splits_pro_rata_and_by_time(
    funded_all, trader_a, trader_b, trader_c, trader_a2, exchange_operator, company_b, company_c, company_a
):
    auction = announce(trader_b, quantity=101, min_bid_quantity=1, max_share_percent=100)
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    early = bid(trader_c, auction, "52.00", 100)
    late = bid(trader_a, auction, "52.00", 100)
    auction = close(auction)
    early.refresh_from_db()
    late.refresh_from_db()
    # 101 t for 200 t tied: 50 each, the odd tonne to the earlier bid.
    assert (early.won_quantity, late.won_quantity) == (51, 50)
    assert auction.clearing_price == 5200
    assert reserved_total() == 0


def test_a_buy_auction_pays_the_highest_winning_price_and_returns_the_rest_of_the_cash(
    funded_all, trader_a, trader_b, trader_c, exchange_operator, company_a, company_b, company_c
):
    auction = announce(trader_a, side="buy", quantity=5_000, reserve_price="56.00", max_share_percent=100)
    rate = auction.fee_rate
    assert balance(company_a, "CNY")[1] == buy_reservation(5600, 5_000, rate)
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    with pytest.raises(DomainError) as caught:
        bid(trader_b, auction, "56.01", 1_000)
    assert caught.value.code == "price_beyond_reserve"
    bid(trader_b, auction, "53.00", 3_000)
    bid(trader_c, auction, "54.00", 4_000)
    assert balance(company_c, "CEA21") == (ALLOWANCES - 4_000, 4_000, 0, 0)
    auction = close(auction)
    assert (auction.clearing_price, auction.quantity_filled) == (5400, 5_000)
    b_value, c_value = 5400 * 3_000, 5400 * 2_000
    assert balance(company_b, "CEA21") == (ALLOWANCES - 3_000, 0, 0, 0)
    assert balance(company_c, "CEA21") == (ALLOWANCES - 2_000, 0, 0, 0)
    assert balance(company_a, "CEA21") == (ALLOWANCES, 0, 5_000, 0)
    assert balance(company_a, "CNY") == (CASH - b_value - c_value - fee_for(b_value, rate) - fee_for(c_value, rate), 0, 0, 0)
    assert balance(company_b, "CNY") == (CASH + b_value - fee_for(b_value, rate), 0, 0, 0)
    assert reserved_total() == 0


def test_paid_allocation_issues_the_shortfall_and_pays_the_government_revenue_account(
    funded_all, national_regulator, exchange_operator, trader_b, trader_c, company_b, company_c
):
    national = Balance.objects.get(account__kind=Account.Kind.NATIONAL_ISSUANCE, asset__code="CEA21")
    assert national.available == 0  # fund() allocated all it issued
    auction = announce(national_regulator, quantity=20_000, reserve_price="48.00")
    assert auction.paid_allocation and auction.organization.name == "Ministry of Ecology and Environment"
    national.refresh_from_db()
    assert (national.available, national.reserved) == (0, 20_000)
    assert Transfer.objects.filter(kind=Transfer.Kind.ISSUANCE, reference=f"auction:{auction.pk}").get().amount == 20_000
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    bid(trader_b, auction, "50.00", 6_000)
    bid(trader_c, auction, "49.00", 6_000)
    fees_before, revenue_before = fees(), revenue()
    auction = close(auction)
    assert (auction.clearing_price, auction.quantity_filled) == (4900, 12_000)
    value = 4900 * 12_000
    # The state pays no seller's fee: the revenue account receives the whole value.
    assert revenue() - revenue_before == value
    assert fees() - fees_before == fee_for(4900 * 6_000, auction.fee_rate) * 2
    national.refresh_from_db()
    assert (national.available, national.reserved) == (8_000, 0)  # unsold: issued, unallocated
    assert balance(company_b, "CEA21")[2] == balance(company_c, "CEA21")[2] == 6_000
    assert reserved_total() == 0


def test_paid_allocation_sells_only(national_regulator):
    with pytest.raises(DomainError) as caught:
        announce(national_regulator, side="buy")
    assert (caught.value.code, caught.value.field) == ("invalid_side", "side")


def test_approval_is_the_exchange_operators_and_a_rejection_releases_the_initiator(
    funded_all, trader_a, trader_b, exchange_operator, company_a
):
    auction = announce(trader_a)
    with pytest.raises(DomainError) as caught:
        auctions.auction_approve(user=trader_b, auction_id=auction.pk)
    assert caught.value.code == "permission_denied"
    with pytest.raises(DomainError) as caught:
        bid(trader_b, auction, "55.00", 1_000)  # pending: members do not see it
    assert caught.value.code == "not_found"
    with pytest.raises(DomainError) as caught:
        auctions.auction_reject(user=exchange_operator, auction_id=auction.pk, reason=" ")
    assert caught.value.field == "reason"
    auction = auctions.auction_reject(user=exchange_operator, auction_id=auction.pk, reason="Window too short")
    assert (auction.status, auction.reserved, auction.decision_reason) == ("rejected", 0, "Window too short")
    assert balance(company_a, "CEA21") == (ALLOWANCES, 0, 0, 0)
    with pytest.raises(DomainError) as caught:
        auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    assert (caught.value.code, caught.value.status) == ("auction_state", 409)


def test_the_announcer_cannot_approve_its_own_auction(funded_all, company_a, exchange_operator):
    from accounts.roles import Role
    from tests.factories import user_with_role

    # A member's trader who also holds the exchange operator's role (a misconfiguration) is still
    # refused by the maker-checker rule when approving its own announcement.
    both = user_with_role(Role.COMPANY_TRADER, company_a)
    auction = announce(both)
    from django.contrib.auth.models import Group

    both.groups.add(Group.objects.get(name=Role.EXCHANGE_OPERATOR))
    both = type(both).objects.get(pk=both.pk)
    with pytest.raises(DomainError) as caught:
        auctions.auction_approve(user=both, auction_id=auction.pk)
    assert (caught.value.code, caught.value.status) == ("auction_maker_checker", 403)


@pytest.mark.parametrize(("price", "quantity", "code", "field"), [
    ("49.99", 1_000, "price_beyond_reserve", "price"),
    ("55.00", 99, "below_minimum_bid", "quantity"),
    ("55.001", 1_000, "invalid_tick", "price"),
    ("55.00", 3_001, "above_share_cap", "quantity"),  # 30 % of 10,000
    ("3400.00", 3_000, "insufficient_funds", "quantity"),  # 10.2 million CNY and fee: more than B holds
])
def test_a_refused_bid_leaves_nothing_behind(funded_all, trader_a, trader_b, exchange_operator, price, quantity, code, field):
    auction = announce(trader_a)
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    before = (AuctionBid.objects.count(), reserved_total())
    with pytest.raises(DomainError) as caught:
        bid(trader_b, auction, price, quantity)
    assert (caught.value.code, caught.value.field) == (code, field)
    assert (AuctionBid.objects.count(), reserved_total()) == before


def test_a_buying_bid_counts_toward_the_position_limit(funded_all, trader_a, trader_b, exchange_operator, settings):
    auction = announce(trader_a)
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    settings.TRADING_POSITION_LIMIT = ALLOWANCES + 2_000  # B holds 100,000 t
    bid(trader_b, auction, "55.00", 2_000)
    with pytest.raises(DomainError) as caught:
        bid(trader_b, auction, "55.00", 1)
    assert (caught.value.code, caught.value.field) == ("below_minimum_bid", "quantity")
    with pytest.raises(DomainError) as caught:
        bid(trader_b, auction, "55.00", 2_000)
    assert (caught.value.code, caught.value.field) == ("position_limit", "quantity")


def test_the_initiator_may_not_bid_and_bids_wait_for_the_window(funded_all, trader_a, trader_a2, trader_b, exchange_operator):
    now = timezone.now()
    auction = announce(trader_a, starts_at=now + dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=2))
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    with pytest.raises(DomainError) as caught:
        bid(trader_a2, auction, "55.00", 1_000)
    assert (caught.value.code, caught.value.status) == ("own_auction", 403)
    with pytest.raises(DomainError) as caught:
        bid(trader_b, auction, "55.00", 1_000)
    assert (caught.value.code, caught.value.status) == ("auction_not_open", 409)


def test_a_withdrawn_bid_releases_its_cash_and_takes_no_part(
    funded_all, trader_a, trader_b, trader_c, exchange_operator, company_b
):
    auction = announce(trader_a)
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    withdrawn = bid(trader_b, auction, "60.00", 3_000)
    bid(trader_c, auction, "51.00", 1_000)
    withdrawn = auctions.auction_bid_withdraw(user=trader_b, auction_id=auction.pk, bid_id=withdrawn.pk)
    assert (withdrawn.status, withdrawn.reserved) == ("withdrawn", 0)
    assert balance(company_b, "CNY") == (CASH, 0, 0, 0)
    with pytest.raises(DomainError) as caught:
        auctions.auction_bid_withdraw(user=trader_b, auction_id=auction.pk, bid_id=withdrawn.pk)
    assert caught.value.code == "auction_state"
    auction = close(auction)
    assert (auction.clearing_price, auction.quantity_filled, auction.bidder_count) == (5100, 1_000, 1)


def test_a_bid_replay_returns_the_first_bid_and_another_body_conflicts(funded_all, trader_a, trader_b, exchange_operator):
    auction = announce(trader_a)
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    first = bid(trader_b, auction, "55.00", 1_000, client_bid_id="mine-1")
    again, created = auctions.auction_bid_place(user=trader_b, auction_id=auction.pk, price="55.00", quantity=1_000,
                                                client_bid_id="mine-1")
    assert (again.pk, created) == (first.pk, False)
    with pytest.raises(DomainError) as caught:
        bid(trader_b, auction, "56.00", 1_000, client_bid_id="mine-1")
    assert caught.value.code == "idempotency_conflict"
    assert AuctionBid.objects.count() == 1


def test_the_close_job_closes_due_auctions_lapses_unapproved_ones_and_is_safe_twice(
    funded_all, trader_a, trader_b, trader_c, exchange_operator, company_a, company_c
):
    approved = announce(trader_a)
    auctions.auction_approve(user=exchange_operator, auction_id=approved.pk)
    bid(trader_b, approved, "55.00", 2_000)
    unapproved = announce(trader_c)
    running = announce(trader_a, ends_at=timezone.now() + dt.timedelta(hours=3))
    end_window(approved)
    end_window(unapproved)
    assert auctions_close_task() == 2
    assert auctions_close_task() == 0
    assert dict(Auction.objects.values_list("pk", "status")) == {
        approved.pk: "closed", unapproved.pk: "lapsed", running.pk: "pending"}
    assert balance(company_c, "CEA21") == (ALLOWANCES, 0, 0, 0)
    assert Trade.objects.filter(kind="auction").count() == 1
    # Closing again by hand changes nothing either.
    before = Transfer.objects.count()
    auctions.auction_close(auction_id=approved.pk)
    assert Transfer.objects.count() == before
    assert balance(company_a, "CEA21")[1] == 10_000  # the running auction's reservation only


def test_announcement_refusals(funded_all, trader_a, exchange_operator):
    now = timezone.now()
    cases = [
        ({"quantity": 0}, "invalid", "quantity"),
        ({"reserve_price": "0"}, "invalid_price", "price"),
        ({"min_bid_quantity": 20_000}, "invalid", "min_bid_quantity"),
        ({"max_share_percent": 0}, "invalid", "max_share_percent"),
        ({"ends_at": now - dt.timedelta(minutes=5)}, "invalid", "ends_at"),
        ({"quantity": 200_000}, "insufficient_allowances", "quantity"),
        ({"side": "buy", "quantity": 200_000}, "insufficient_funds", "quantity"),
    ]
    for overrides, code, field in cases:
        with pytest.raises(DomainError) as caught:
            announce(trader_a, **overrides)
        assert (caught.value.code, caught.value.field) == (code, field), overrides
    with pytest.raises(DomainError) as caught:
        announce(exchange_operator)
    assert caught.value.code == "not_eligible"
    assert Auction.objects.count() == 0 and reserved_total() == 0


# --- the API ---


def _api_body(**overrides):
    now = timezone.now()
    return {"instrument": "CEA21", "side": "sell", "quantity": 10_000, "reserve_price": "50.00", "min_bid_quantity": 100,
            "starts_at": (now - dt.timedelta(minutes=1)).isoformat(), "ends_at": (now + dt.timedelta(hours=1)).isoformat(),
            "client_auction_id": f"api-auction-{next(_ids)}", **overrides}


def test_the_api_announces_approves_takes_sealed_bids_and_publishes_results(
    funded_all, trader_a, trader_b, trader_c, exchange_operator, client_for
):
    from .conftest import api_client

    a, b, c = api_client(trader_a), api_client(trader_b), api_client(trader_c)
    operator = client_for(exchange_operator, api=True)
    created = a.post("/api/v1/auctions/", _api_body(), format="json")
    assert created.status_code == 201, created.json()
    auction_id = created.json()["id"]
    assert created.json()["status"] == "pending" and created.json()["max_share"] == 3_000
    # Pending: B does not see it; the exchange does, and approves it.
    assert b.get(f"/api/v1/auctions/{auction_id}/").status_code == 404
    assert auction_id in [row["id"] for row in operator.get("/api/v1/auctions/").json()["results"]]
    approved = operator.post(f"/api/v1/auctions/{auction_id}/approve/")
    assert (approved.status_code, approved.json()["status"]) == (200, "approved")
    refused = b.post(f"/api/v1/auctions/{auction_id}/bids/", {"price": "49.00", "quantity": 1_000, "client_bid_id": "x"}, format="json")
    assert (refused.status_code, refused.json()["code"], refused.json()["field"]) == (400, "price_beyond_reserve", "price")
    placed = b.post(f"/api/v1/auctions/{auction_id}/bids/", {"price": "55.00", "quantity": 3_000},
                    format="json", HTTP_IDEMPOTENCY_KEY="b-bid-1")
    assert placed.status_code == 201 and placed.json()["client_bid_id"] == "b-bid-1"
    c_bid = c.post(f"/api/v1/auctions/{auction_id}/bids/", {"price": "52.00", "quantity": 2_000, "client_bid_id": "c-1"}, format="json")
    assert c_bid.status_code == 201
    # Sealed: each sees only its own bid, and no results before the close.
    assert [row["client_bid_id"] for row in b.get(f"/api/v1/auctions/{auction_id}/bids/").json()] == ["b-bid-1"]
    assert [row["client_bid_id"] for row in c.get(f"/api/v1/auctions/{auction_id}/bids/").json()] == ["c-1"]
    early = a.get(f"/api/v1/auctions/{auction_id}/results/").json()
    assert (early["published"], early["clearing_price"], early["bidders"], early["my_bids"]) == (False, None, None, [])
    withdrawn = c.delete(f"/api/v1/auctions/{auction_id}/bids/{c_bid.json()['id']}/")
    assert (withdrawn.status_code, withdrawn.json()["status"]) == (200, "withdrawn")
    assert b.delete(f"/api/v1/auctions/{auction_id}/bids/{c_bid.json()['id']}/").status_code == 404
    c.post(f"/api/v1/auctions/{auction_id}/bids/", {"price": "51.00", "quantity": 3_000, "client_bid_id": "c-2"}, format="json")

    end_window(Auction.objects.get(pk=auction_id))
    assert auctions_close_task() == 1
    results = b.get(f"/api/v1/auctions/{auction_id}/results/").json()
    assert {key: results[key] for key in ("published", "clearing_price", "quantity_traded", "bidders", "quantity_bid", "cover_ratio")} == {
        "published": True, "clearing_price": "51.00", "quantity_traded": 6_000, "bidders": 2, "quantity_bid": 6_000,
        "cover_ratio": "0.60"}
    assert [(row["client_bid_id"], row["status"], row["won_quantity"]) for row in results["my_bids"]] == [("b-bid-1", "won", 3_000)]
    # The trades are in each member's fills, of kind auction.
    fills = b.get("/api/v1/trades/").json()["results"]
    assert [(row["kind"], row["price"], row["quantity"], row["side"]) for row in fills] == [("auction", "51.00", 3_000, "buy")]
    late = b.post(f"/api/v1/auctions/{auction_id}/bids/", {"price": "55.00", "quantity": 1_000, "client_bid_id": "late"}, format="json")
    assert (late.status_code, late.json()["code"]) == (409, "auction_not_open")


def test_the_api_refuses_a_members_approval_and_a_replay_with_another_body(funded_all, trader_a, trader_b):
    from .conftest import api_client

    a = api_client(trader_a)
    body = _api_body(client_auction_id="same")
    first = a.post("/api/v1/auctions/", body, format="json")
    assert a.post("/api/v1/auctions/", body, format="json").status_code == 200
    conflict = a.post("/api/v1/auctions/", {**body, "quantity": 9_000}, format="json")
    assert (conflict.status_code, conflict.json()["code"]) == (409, "idempotency_conflict")
    mismatch = a.post("/api/v1/auctions/", body, format="json", HTTP_IDEMPOTENCY_KEY="other")
    assert (mismatch.status_code, mismatch.json()["code"], mismatch.json()["field"]) == (
        422, "idempotency_key_mismatch", "client_auction_id")
    blank = api_client(trader_b).post(f"/api/v1/auctions/{first.json()['id']}/reject/", {"reason": "  "}, format="json")
    assert blank.status_code == 400
    denied = api_client(trader_b).post(f"/api/v1/auctions/{first.json()['id']}/approve/")
    assert (denied.status_code, denied.json()["code"]) == (403, "permission_denied")
    assert Auction.objects.get().status == "pending"


# --- the pages ---


def test_the_pages_announce_approve_bid_refuse_beside_the_field_and_show_results(
    funded_all, national_regulator, exchange_operator, trader_b, trader_c, client_for, company_b
):
    regulator, operator, b, c = (client_for(user) for user in (national_regulator, exchange_operator, trader_b, trader_c))
    now = timezone.localtime()
    form = {"instrument": "CEA21", "side": "sell", "quantity": "10000", "reserve_price": "48.00", "min_bid_quantity": "100",
            "max_share_percent": "30", "starts_at": (now - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M"),
            "ends_at": (now + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M"), "client_auction_id": "page-1"}
    refused = regulator.post("/auctions/announce/", {**form, "reserve_price": "abc"})
    assert refused.status_code == 400 and 'id="error-reserve_price"' in refused.content.decode()
    assert "abc" in refused.content.decode()  # the form keeps what was typed
    response = regulator.post("/auctions/announce/", form)
    auction = Auction.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/auctions/{auction.pk}/"
    assert auction.paid_allocation and auction.status == "pending"
    # Members do not see a pending announcement; the exchange approves it from its page.
    assert b.get(f"/auctions/{auction.pk}/").status_code == 404
    assert "Approve" in operator.get(f"/auctions/{auction.pk}/").content.decode()
    assert operator.post(f"/auctions/{auction.pk}/approve/").status_code == 302
    page = b.get(f"/auctions/{auction.pk}/").content.decode()
    assert 'id="bid-form"' in page
    low = b.post(f"/auctions/{auction.pk}/bid/", {"price": "47.00", "quantity": "1000", "client_bid_id": "p1"})
    assert low.status_code == 400 and "48.00" in low.content.decode() and 'aria-invalid="true"' in low.content.decode()
    assert b.post(f"/auctions/{auction.pk}/bid/", {"price": "50.00", "quantity": "3000", "client_bid_id": "p2"}).status_code == 302
    assert c.post(f"/auctions/{auction.pk}/bid/", {"price": "49.00", "quantity": "3000", "client_bid_id": "p3"}).status_code == 302
    # Sealed: C's page shows its bid and not B's.
    c_page = c.get(f"/auctions/{auction.pk}/").content.decode()
    assert "49.00" in c_page and "50.00" not in c_page
    end_window(auction)
    auctions_close_task()
    results = b.get(f"/auctions/{auction.pk}/").content.decode()
    assert 'id="auction-results"' in results and "49.00" in results and "0.60" in results
    assert balance(company_b, "CEA21")[2] == 3_000
    assert f'id="auction-{auction.pk}"' in b.get("/auctions/").content.decode()


@pytest.mark.django_db(transaction=True)
def test_two_closes_at_once_settle_the_auction_once(company_a, company_b, company_c, national_regulator, exchange_operator,
                                                     trader_a, trader_b, trader_c):
    import threading

    from django.db import connection

    for company in (company_a, company_b, company_c):
        fund(company, regulator=national_regulator, operator=exchange_operator)
    auction = announce(trader_a, max_share_percent=100)
    auctions.auction_approve(user=exchange_operator, auction_id=auction.pk)
    bid(trader_b, auction, "53.00", 6_000)
    bid(trader_c, auction, "52.00", 6_000)
    end_window(auction)
    start = threading.Barrier(2)
    outcomes = []

    def close_it():
        try:
            start.wait(10)
            outcomes.append(auctions.auction_close(auction_id=auction.pk).status)
        finally:
            connection.close()

    threads = [threading.Thread(target=close_it) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert outcomes == ["closed", "closed"]
    assert Trade.objects.filter(kind="auction").count() == 2
    assert Transfer.objects.filter(kind=Transfer.Kind.TRADE_SETTLEMENT, asset__code="CEA21").count() == 2
    assert balance(company_b, "CEA21")[2] + balance(company_c, "CEA21")[2] == 10_000
    assert reserved_total() == 0


def test_an_auction_the_ledger_refuses_to_close_does_not_stop_the_others(
    funded_all, trader_a, trader_b, trader_c, exchange_operator, company_b
):
    from registry.models import Account

    stuck = announce(trader_a)
    auctions.auction_approve(user=exchange_operator, auction_id=stuck.pk)
    bid(trader_b, stuck, "55.00", 2_000)
    fine = announce(trader_c)
    auctions.auction_approve(user=exchange_operator, auction_id=fine.pk)
    # B's holding account closes meanwhile (as only an empty account can, forced here): delivery to it fails.
    Account.objects.filter(organization=company_b, kind=Account.Kind.HOLDING).update(status=Account.Status.CLOSED)
    end_window(stuck)
    end_window(fine)
    assert auctions.auctions_close_due() == [fine.pk]
    assert dict(Auction.objects.values_list("pk", "status")) == {stuck.pk: "approved", fine.pk: "closed"}
    assert AuctionBid.objects.get(auction=stuck).status == "open"  # nothing of it happened
