"""One-way bidding at scale: the national regulator sells paid allocation to 2,000 bidders; the close
clears the auction and settles every winner (DvP) and releases every loser in one posting. Target:
the close (clearing and settlement) in under 5 s. Prints JSON: the seconds to place the bids (through
the service, one by one), the seconds of the close, and the outcome.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench python bench/auction_bench.py [--bidders 2000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import random
import time

from _setup import django_ready

CASH = 1_000_000_000_00  # 1 billion CNY per bidder: never the limit here


def bidders(count: int) -> list:
    """Traders of `count` companies with cash (reference data bulk-created once; the cash deposited in
    one posting through the ledger, so the ledger stays provable)."""
    from django.contrib.auth.models import Group
    from stdnum.cn import uscc

    from accounts.models import Membership, Organization, User
    from accounts.roles import Role
    from registry.models import Account, Asset, Balance, Bucket, Transfer
    from registry.services import Movement, ledger_post

    codes = []
    for index in range(count):
        body = f"91310100AUCTB{index:04d}"
        codes.append(body + uscc.calc_check_digit(body))
    existing = set(Organization.objects.filter(uscc__in=codes).values_list("uscc", flat=True))
    new = [code for code in codes if code not in existing]
    if new:
        Organization.objects.bulk_create(
            [Organization(name=f"Bench Bidder {code[-6:]} Co., Ltd.", uscc=code, kind="key_emitting_unit", province="31")
             for code in new], batch_size=2000)
        organizations = list(Organization.objects.filter(uscc__in=new))
        Account.objects.bulk_create([Account(number=f"{prefix}-{o.uscc}", name=o.name, kind=kind, organization=o)
                                     for o in organizations for prefix, kind in (("HA", "holding"), ("CA", "cash"))],
                                    batch_size=2000)
        assets = list(Asset.objects.all())
        Balance.objects.bulk_create([Balance(account=a, asset=asset) for a in Account.objects.filter(organization__in=organizations)
                                     for asset in assets if a.holds(asset)], batch_size=5000, ignore_conflicts=True)
        cny = Asset.objects.get(code="CNY")
        ledger_post([Movement(kind=Transfer.Kind.DEPOSIT, asset=cny, amount=CASH, destination=account,
                              destination_bucket=Bucket.AVAILABLE, external_reference=f"bench-auction-{account.number}")
                     for account in Account.objects.filter(organization__in=organizations, kind=Account.Kind.CASH)])
        traders = User.objects.bulk_create([User(username=f"bench-bidder-{code}") for code in new], batch_size=2000)
        group = Group.objects.get(name=Role.COMPANY_TRADER)
        User.groups.through.objects.bulk_create([User.groups.through(user_id=t.pk, group_id=group.pk) for t in traders])
        by_code = {o.uscc: o for o in organizations}
        Membership.objects.bulk_create([Membership(user=t, organization=by_code[t.username.removeprefix("bench-bidder-")])
                                        for t in traders], batch_size=2000)
    return list(User.objects.filter(username__in=[f"bench-bidder-{code}" for code in codes]).order_by("username"))


def staff(username: str, role: str, organization_name: str, number: int):
    from django.contrib.auth.models import Group
    from stdnum.cn import uscc

    from accounts.models import Membership, Organization, User

    user = User.objects.filter(username=username).first() or User.objects.create_user(username)
    user.groups.set([Group.objects.get(name=role)])
    organization = Organization.objects.filter(name=organization_name).first() or Organization.objects.create(
        name=organization_name, kind=Organization.Kind.INSTITUTION, sector="government", province="",
        uscc=f"12100000AUCTB{number:04d}" + uscc.calc_check_digit(f"12100000AUCTB{number:04d}"))
    Membership.objects.get_or_create(user=user, organization=organization)
    return User.objects.get(pk=user.pk)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--bidders", type=int, default=2_000)
    options = parser.parse_args()
    django_ready()
    from django.db.models import Sum
    from django.utils import timezone

    from accounts.roles import Role
    from registry.models import Balance
    from registry.selectors import ledger_verify
    from trading import auctions
    from trading.models import Auction, AuctionBid, Trade

    traders = bidders(options.bidders)
    regulator = staff("bench-auction-regulator", Role.NATIONAL_REGULATOR, "Bench Ministry of Ecology and Environment", 9001)
    operator = staff("bench-auction-operator", Role.EXCHANGE_OPERATOR, "Bench Environment and Energy Exchange", 9002)
    # An earlier run that stopped half-way leaves its auction open: close it first (its window ends now).
    for leftover in Auction.objects.filter(status="approved", created_by=regulator).values_list("pk", flat=True):
        Auction.objects.filter(pk=leftover).update(ends_at=timezone.now())
        auctions.auction_close(auction_id=leftover)
    rng = random.Random(18)
    # Prices on a 0.10 grid from the reserve up: many ties at the margin.
    bids = [(rng.randrange(5000, 6000, 10), rng.randrange(1_000, 5_001, 500)) for _ in traders]
    demand = sum(quantity for _, quantity in bids)
    now = timezone.now()
    auction, _ = auctions.auction_announce(
        user=regulator, instrument="CEA21", side="sell", quantity=demand * 2 // 3, reserve_price="50.00", min_bid_quantity=500,
        starts_at=now - dt.timedelta(minutes=1), ends_at=now + dt.timedelta(hours=1), client_auction_id=f"bench-{time.time_ns()}")
    auctions.auction_approve(user=operator, auction_id=auction.pk)

    started = time.perf_counter()
    placed = 0
    for trader, (price, quantity) in zip(traders, bids, strict=True):
        auctions.auction_bid_place(user=trader, auction_id=auction.pk, price=f"{price / 100:.2f}", quantity=quantity,
                                   client_bid_id=f"bench-{auction.pk}")
        placed += 1
    bid_seconds = time.perf_counter() - started

    Auction.objects.filter(pk=auction.pk).update(ends_at=timezone.now())
    started = time.perf_counter()
    auction = auctions.auction_close(auction_id=auction.pk)
    close_seconds = time.perf_counter() - started

    report = ledger_verify()
    won = AuctionBid.objects.filter(auction=auction, status="won").count()
    print(json.dumps({
        "benchmark": "auction", "bidders": auction.bidder_count, "bids_placed": placed,
        "bids_per_second": round(placed / bid_seconds, 1), "close_seconds": round(close_seconds, 2),
        "target_close_seconds": 5, "quantity_offered": auction.quantity, "quantity_bid": auction.bid_quantity,
        "quantity_traded": auction.quantity_filled, "clearing_price": f"{auction.clearing_price / 100:.2f}",
        "winning_bids": won, "trades": Trade.objects.filter(auction_bid__auction=auction).count(),
        "reserved_left": (AuctionBid.objects.filter(auction=auction).aggregate(r=Sum("reserved"))["r"] or 0) + auction.reserved,
        "bidders_cash_reserved": Balance.objects.filter(account__organization__memberships__user__in=traders).aggregate(
            r=Sum("reserved"))["r"] or 0,
        "ledger_ok": report.ok,
    }))


if __name__ == "__main__":
    main()
