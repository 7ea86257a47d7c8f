"""Pages of one-way bidding (trading.auctions): the auctions' list with the announcement form (the
national regulator, companies) and the approval queue (the exchange operator); an auction's page with
the bid form, one's own bids and, after the close, the published results."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError, InvalidInput, NotFound
from core.money import format_minor_units
from core.numbers import parse_quantity
from core.throttling import order_entry_check
from trading import auctions
from trading.models import Auction, Instrument, Side
from trading.services import trading_organization

ANNOUNCE_FIELDS = ("instrument", "side", "quantity", "reserve_price", "min_bid_quantity", "max_share_percent", "starts_at", "ends_at")


def _may_announce(user: Any) -> bool:
    if user.has_perm("trading.add_auction"):
        return True
    try:
        trading_organization(user)
    except DomainError:
        return False
    return True


def _bidder(user: Any) -> bool:
    try:
        trading_organization(user)
    except DomainError:
        return False
    return True


def _local(text: str, field: str) -> dt.datetime:
    """A datetime-local input ("2026-12-07T09:30"), in market time."""
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(_("Give a date and time."), field=field) from None
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _whole(text: str, field: str) -> int:
    return parse_quantity(text, field=field, minimum=None, maximum=None)


@login_required
@require_GET
def auctions_page(request: HttpRequest) -> HttpResponse:
    return _auctions_page(request)


def _auctions_page(request: HttpRequest, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                   status: int = 200) -> HttpResponse:
    visible = list(auctions.auctions_visible_to(request.user).order_by("-id")[:200])
    now = timezone.localtime()
    return render(request, "trading/auctions.html", {
        "pending": [a for a in visible if a.status == Auction.Status.PENDING],
        "current": [a for a in visible if a.status == Auction.Status.APPROVED],
        "finished": [a for a in visible if a.status not in (Auction.Status.PENDING, Auction.Status.APPROVED)],
        "may_announce": _may_announce(request.user),
        "may_approve": request.user.has_perm("trading.approve_auction"),
        "instruments": Instrument.objects.order_by("symbol"),
        "values": values or {"side": Side.SELL, "max_share_percent": str(settings.AUCTION_MAX_SHARE_PERCENT), "min_bid_quantity": "1",
                             "starts_at": now.strftime("%Y-%m-%dT%H:%M"),
                             "ends_at": (now + dt.timedelta(hours=2)).strftime("%Y-%m-%dT%H:%M")},
        "errors": errors or {},
        "client_auction_id": uuid.uuid4().hex,
    }, status=status)


@login_required
@require_POST
def auction_announce(request: HttpRequest) -> HttpResponse:
    if not _may_announce(request.user):
        raise PermissionDenied
    values = {key: request.POST.get(key, "").strip() for key in ANNOUNCE_FIELDS}
    try:
        order_entry_check(request.user)
        auction, _created = auctions.auction_announce(
            user=request.user, instrument=values["instrument"], side=values["side"], quantity=_whole(values["quantity"], "quantity"),
            reserve_price=values["reserve_price"], min_bid_quantity=_whole(values["min_bid_quantity"] or "1", "min_bid_quantity"),
            max_share_percent=_whole(values["max_share_percent"], "max_share_percent") if values["max_share_percent"] else None,
            starts_at=_local(values["starts_at"], "starts_at"), ends_at=_local(values["ends_at"], "ends_at"),
            client_auction_id=request.POST.get("client_auction_id", ""))
    except DomainError as error:
        field = {"price": "reserve_price"}.get(error.field or "", error.field)
        field = field if field in ANNOUNCE_FIELDS else "form"
        return _auctions_page(request, values=values, errors={field: error.message}, status=error.status)
    messages.success(request, _("Auction #%(id)s announced: it waits for the exchange's approval.") % {"id": auction.pk})
    return redirect("auction-detail", auction_id=auction.pk)


def _auction(request: HttpRequest, auction_id: int) -> Auction:
    try:
        return auctions.auction_get_for(request.user, auction_id)
    except NotFound:
        raise Http404("No such auction") from None


@login_required
@require_GET
def auction_page(request: HttpRequest, auction_id: int) -> HttpResponse:
    return _auction_page(request, _auction(request, auction_id))


def _auction_page(request: HttpRequest, auction: Auction, *, values: dict[str, str] | None = None,
                  errors: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    now = timezone.now()
    return render(request, "trading/auction.html", {
        "auction": auction,
        "results": auctions.auction_results(auction),
        "my_bids": list(auctions.bids_of(request.user, auction)),
        "bidding_open": auction.status == Auction.Status.APPROVED and auction.starts_at <= now < auction.ends_at,
        "may_bid": _bidder(request.user) and auction.organization_id not in {m for m in _orgs(request.user)},
        "may_approve": request.user.has_perm("trading.approve_auction") and auction.status == Auction.Status.PENDING,
        "values": values or {},
        "errors": errors or {},
        "client_bid_id": uuid.uuid4().hex,
    }, status=status)


def _orgs(user: Any) -> set[int]:
    from accounts.selectors import user_organization_ids

    return user_organization_ids(user)


def _act(request: HttpRequest, auction_id: int, act: Any, *, values: dict[str, str] | None = None) -> HttpResponse:
    """A decision or a bid from the page: done, back to the auction with a message; refused, the page
    again with the reason beside its field, at the refusal's status."""
    auction = _auction(request, auction_id)
    try:
        order_entry_check(request.user)
        message = act()
    except NotFound:
        raise Http404("No such auction") from None
    except DomainError as error:
        field = error.field if error.field in ("price", "quantity", "reason") else "form"
        return _auction_page(request, auction, values=values, errors={field: error.message}, status=error.status)
    messages.success(request, message)
    return redirect("auction-detail", auction_id=auction_id)


@login_required
@require_POST
def auction_approve(request: HttpRequest, auction_id: int) -> HttpResponse:
    if not request.user.has_perm("trading.approve_auction"):
        raise PermissionDenied

    def approve() -> str:
        auctions.auction_approve(user=request.user, auction_id=auction_id)
        return _("Auction #%(id)s approved: members may bid in its window.") % {"id": auction_id}

    return _act(request, auction_id, approve)


@login_required
@require_POST
def auction_reject(request: HttpRequest, auction_id: int) -> HttpResponse:
    if not request.user.has_perm("trading.approve_auction"):
        raise PermissionDenied
    reason = request.POST.get("reason", "").strip()

    def reject() -> str:
        auctions.auction_reject(user=request.user, auction_id=auction_id, reason=reason)
        return _("Auction #%(id)s rejected; the initiator's reservation is released.") % {"id": auction_id}

    return _act(request, auction_id, reject, values={"reason": reason})


@login_required
@require_POST
def auction_bid(request: HttpRequest, auction_id: int) -> HttpResponse:
    if not _bidder(request.user):
        raise PermissionDenied
    values = {key: request.POST.get(key, "").strip() for key in ("price", "quantity")}

    def bid() -> str:
        placed, _created = auctions.auction_bid_place(
            user=request.user, auction_id=auction_id, price=values["price"], quantity=_whole(values["quantity"], "quantity"),
            client_bid_id=request.POST.get("client_bid_id", ""))
        return _("Bid #%(id)s placed: %(quantity)s t at %(price)s. Only you see it until the close.") % {
            "id": placed.pk, "quantity": f"{placed.quantity:,}", "price": format_minor_units(placed.price, 2)}

    return _act(request, auction_id, bid, values=values)


@login_required
@require_POST
def auction_bid_withdraw(request: HttpRequest, auction_id: int, bid_id: int) -> HttpResponse:
    if not _bidder(request.user):
        raise PermissionDenied

    def withdraw() -> str:
        auctions.auction_bid_withdraw(user=request.user, auction_id=auction_id, bid_id=bid_id)
        return _("Bid #%(id)s withdrawn; its reservation is released.") % {"id": bid_id}

    return _act(request, auction_id, withdraw)
