"""Pages of the exchange: the trading page of an instrument (with its htmx fragments and the order
ticket), the public market page, and the live streams both listen to (core/live.py)."""

from __future__ import annotations

import uuid
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import escape
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Organization
from accounts.selectors import user_organization_ids
from core import live
from core.errors import DomainError, NotFound, RateLimited
from core.money import format_minor_units
from core.numbers import parse_quantity
from core.throttling import order_entry_check
from trading import market_data, selectors, services
from trading.clock import is_block_time, is_trading_time, sessions, trading_day
from trading.errors import OrderNotOpen, UnknownInstrument
from trading.models import Instrument, Order, Side

TAPE_LENGTH = 30
BOOK_DEPTH = 10


def _instrument(symbol: str) -> Instrument:
    try:
        return selectors.instrument_get(symbol)
    except UnknownInstrument:
        raise Http404("No such instrument") from None


def _participant(user: Any) -> Organization | None:
    """The organization the user trades for, or None for those who may only look."""
    try:
        return services.trading_organization(user)
    except DomainError:
        return None


def _with_cumulative(levels: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Levels best first, each with the total quantity from the best price to its own."""
    total = 0
    out = []
    for level in levels:
        total += level["quantity"]
        out.append({**level, "cumulative": total})
    return out


def _summary(instrument: Instrument, market: market_data.Market | None = None) -> dict[str, Any]:
    day = trading_day()
    market = market or market_data.market_get(instrument.symbol)
    book = market.book(BOOK_DEPTH)
    book = {**book, "bids": _with_cumulative(book["bids"]), "asks": _with_cumulative(book["asks"])}
    best_bid = book["bids"][0]["price"] if book["bids"] else None
    best_ask = book["asks"][0]["price"] if book["asks"] else None
    last = market.last_trade()
    largest = max((level["quantity"] for level in book["bids"] + book["asks"]), default=0)
    return {
        "instrument": instrument,
        "book": book,
        "asks_top_down": list(reversed(book["asks"])),
        "largest_level": largest,
        "best_bid": best_bid,
        "best_ask": best_ask,
        "spread": best_ask - best_bid if best_bid is not None and best_ask is not None else None,
        "last": last,
        # Against the reference price, which is the previous close (RULEBOOK: set by end of day).
        "change": last["price"] - instrument.reference_price if last else None,
        "change_percent": (last["price"] - instrument.reference_price) * 100 / instrument.reference_price if last else None,
        "day": selectors.day_statistics(instrument, day),
        "trading_now": instrument.status == Instrument.Status.OPEN and is_trading_time(),
        "sessions": sessions(),
        "always_open": settings.MARKET_HOURS == "always",
    }


def _tape(instrument: Instrument, market: market_data.Market | None = None) -> list[Any]:
    """The last trades, newest first: from the matcher's snapshot when it has them."""
    tape = (market or market_data.market_get(instrument.symbol)).tape(TAPE_LENGTH)
    return tape[1] if tape is not None else list(selectors.trade_tape(instrument)[:TAPE_LENGTH])


def _private(user: Any, instrument: Instrument) -> dict[str, Any]:
    return {
        "open_orders": list(selectors.open_orders_of(user, instrument)[:50]),
        "balances": list(selectors.trading_balances_of(user, instrument)),
        "last_fill": selectors.last_fill_id(user, instrument),
    }


def _ticket(instrument: Instrument, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
            order: Order | None = None) -> dict[str, Any]:
    return {
        "instrument": instrument,
        "values": values or {"side": Side.BUY},
        "errors": errors or {},
        "order": order,  # the order this ticket just sent: its line follows the order's status
        "client_order_id": uuid.uuid4().hex,  # a fresh one per ticket: a double submit is one order
        "fee_ppm": int(settings.TRADING_FEE_RATE * 1_000_000),  # for the ticket's estimate, in whole numbers
    }


def _trade_stream_url(user: Any, instrument: Instrument) -> str:
    """The trading page's stream: its market's news, and the user's own organizations' (never another's)."""
    if not settings.LIVE_UPDATES:
        return ""
    topics = ["market", f"market:{instrument.symbol}"]
    if getattr(user, "is_authenticated", False):
        topics += [f"org:{pk}" for pk in sorted(user_organization_ids(user))]
    return live.stream_url(topics)


def _stream_urls(user: Any, instrument: Instrument) -> dict[str, str]:
    return {"stream_url": _trade_stream_url(user, instrument),
            "stream_refresh_url": reverse("trade-stream-url", args=[instrument.symbol])}


@login_required
@require_GET
def trade(request: HttpRequest, symbol: str) -> HttpResponse:
    instrument = _instrument(symbol)
    return _trade_page(request, instrument, ticket=_ticket(instrument))


def _trade_page(request: HttpRequest, instrument: Instrument, *, ticket: dict[str, Any], status: int = 200) -> HttpResponse:
    participant = _participant(request.user)
    market = market_data.market_get(instrument.symbol)
    context = {
        **_summary(instrument, market),
        **(_private(request.user, instrument) if participant else {}),
        "participant": participant,
        "instruments": Instrument.objects.order_by("symbol"),
        "tape": _tape(instrument, market),
        "ticket": ticket,
        "retry_ms": settings.LIVE_RETRY_MS, "refresh_ms": settings.LIVE_REFRESH_MS,
        **_stream_urls(request.user, instrument),
    }
    return render(request, "trading/trade.html", context, status=status)


@login_required
def trade_index(request: HttpRequest) -> HttpResponse:
    first = Instrument.objects.filter(symbol="CEA21").first() or Instrument.objects.order_by("symbol").first()
    if first is None:
        raise Http404("No instruments")
    return redirect("trade", symbol=first.symbol)


PARTS = ("summary", "book", "tape", "orders", "balances")


@login_required
@require_GET
def trade_part(request: HttpRequest, symbol: str, part: str) -> HttpResponse:
    """One fragment of the trading page, for htmx to swap in when the stream says it changed (every
    open page asks at each announcement: the market's fragments read the instrument once, with the
    snapshot)."""
    if part in ("summary", "book", "tape"):
        try:
            market = market_data.market_get(symbol)
        except UnknownInstrument:
            raise Http404("No such instrument") from None
        context: dict[str, Any] = {"instrument": market.instrument}
        if part == "tape":
            context["tape"] = _tape(market.instrument, market)
        else:
            context.update(_summary(market.instrument, market))
        return render(request, f"trading/_{part}.html", context)
    instrument = _instrument(symbol)
    participant = _participant(request.user)
    if participant is None:
        raise PermissionDenied
    return render(request, f"trading/_{part}.html",
                  {"instrument": instrument, **_private(request.user, instrument), "participant": participant})


@login_required
@require_POST
def order_submit(request: HttpRequest, symbol: str) -> HttpResponse:
    """The order ticket. With htmx the ticket comes back (errors next to their fields, or the order
    accepted); without, the page is redirected to (or shown again with the errors)."""
    instrument = _instrument(symbol)
    if _participant(request.user) is None:
        raise PermissionDenied
    values = {key: request.POST.get(key, "").strip() for key in ("side", "price", "quantity")}
    try:
        order_entry_check(request.user)  # the same limit as the API's
        # The API's parser (core.numbers): full-width digits read, other scripts and fractions refused.
        quantity = parse_quantity(values["quantity"], field="quantity", minimum=None, maximum=None)
        order, _created = services.order_place(
            user=request.user, instrument=instrument.symbol, side=values["side"], price=values["price"],
            quantity=quantity, client_order_id=request.POST.get("client_order_id", ""),
        )
    except DomainError as error:
        field = error.field if error.field in ("side", "price", "quantity") else "ticket"
        ticket = _ticket(instrument, values=values, errors={field: error.message})
        if request.headers.get("HX-Request"):
            response = render(request, "trading/_ticket.html", {"ticket": ticket, "instrument": instrument})
        else:
            response = _trade_page(request, instrument, ticket=ticket, status=error.status)
        if isinstance(error, RateLimited):
            response["Retry-After"] = str(error.retry_after)
        return response
    if request.headers.get("HX-Request"):
        order.refresh_from_db()  # the embedded matcher may have matched it already, once it committed
        ticket = _ticket(instrument, values={"side": values["side"], "price": values["price"]}, order=order)
        response = render(request, "trading/_ticket.html", {"ticket": ticket, "instrument": instrument})
        response["HX-Trigger"] = "live-market, live-org"  # refresh at once, not only when the stream says so
        return response
    messages.success(request, _("Order #%(id)s accepted: %(side)s %(quantity)s t at %(price)s (%(status)s).") % {
        "id": order.pk, "side": order.get_side_display().lower(), "quantity": f"{order.quantity:,}",
        "price": format_minor_units(order.price, 2), "status": order.get_status_display().lower(),
    })
    return redirect("trade", symbol=instrument.symbol)


@login_required
@require_POST
def order_cancel(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        order_entry_check(request.user)  # the same limit as the API's
        order = services.order_cancel(user=request.user, order_id=order_id)
    except NotFound:
        raise Http404("No such order") from None
    except DomainError as error:
        if error.status == 403:  # a role that may see orders but not cancel them
            raise PermissionDenied from None
        if request.headers.get("HX-Request"):
            response = HttpResponse(error.message, status=429) if isinstance(error, RateLimited) else HttpResponse(status=204)
            response["HX-Trigger"] = "live-org"
        else:
            messages.error(request, error.message)
            response = _back(request) or redirect("trade-index")
        if isinstance(error, RateLimited):
            response["Retry-After"] = str(error.retry_after)
        return response
    if request.headers.get("HX-Request"):
        response = HttpResponse(status=204)
        response["HX-Trigger"] = "live-market, live-org"
        return response
    messages.success(request, _("Order #%(id)s cancelled.") % {"id": order.pk})
    return _back(request) or redirect("trade", symbol=order.instrument.symbol)


def _back(request: HttpRequest) -> HttpResponse | None:
    """A redirect to the page the form came from (its `next`, a path of this site), if it gave one."""
    target = request.POST.get("next", "")
    if target and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=request.is_secure()):
        return redirect(target)
    return None


@login_required
@require_POST
def orders_cancel_all(request: HttpRequest, symbol: str) -> HttpResponse:
    """Cancels every live order of the user's organizations in the instrument (the trading page's
    "Cancel all", after its confirmation): each through order_cancel, audited one by one, and each
    counted against the order-entry rate limit, as many cancels by the API would be. Past the limit
    it stops and says how many it cancelled; the rest stay open."""
    instrument = _instrument(symbol)
    if _participant(request.user) is None:
        raise PermissionDenied
    order_ids = list(selectors.open_orders_of(request.user, instrument).filter(cancel_requested=False).values_list("pk", flat=True))
    cancelled, stopped = 0, None
    for order_id in order_ids:
        try:
            order_entry_check(request.user)
            services.order_cancel(user=request.user, order_id=order_id)
        except (OrderNotOpen, NotFound):
            continue  # filled or expired meanwhile: nothing left to cancel
        except DomainError as error:
            if error.status == 403:
                raise PermissionDenied from None
            stopped = error
            break
        cancelled += 1
    if stopped is None:
        result = ngettext("%(count)s order cancelled.", "%(count)s orders cancelled.", cancelled) % {"count": cancelled}
    else:
        result = _("%(count)s of %(total)s orders cancelled; the rest are still open: %(reason)s") % {
            "count": cancelled, "total": len(order_ids), "reason": stopped.message}
    if request.headers.get("HX-Request"):
        response = HttpResponse(escape(result))  # into the orders card's status line; the orders are read again
        response["HX-Trigger"] = "live-market, live-org"
    else:
        (messages.success if stopped is None else messages.error)(request, result)
        response = redirect("trade", symbol=instrument.symbol)
    if isinstance(stopped, RateLimited):
        response["Retry-After"] = str(stopped.retry_after)
    return response


@login_required
@require_GET
def order_status(request: HttpRequest, order_id: int) -> HttpResponse:
    """The ticket's line about the order it sent, read again whenever the stream says the
    organization's orders changed: accepted, open, partially filled, filled, cancelled, expired."""
    if _participant(request.user) is None:
        raise PermissionDenied
    try:
        order = selectors.order_get_for(request.user, order_id)
    except NotFound:
        raise Http404("No such order") from None
    return render(request, "trading/_order_status.html", {"order": order})


@login_required
@require_GET
def trade_fills(request: HttpRequest, symbol: str) -> HttpResponse:
    """The organization's fills in the instrument after trade `after` (the last one the page has
    seen), for the page's fill notices; the newest trade id comes back in data-last-fill."""
    instrument = _instrument(symbol)
    if _participant(request.user) is None:
        raise PermissionDenied
    after = request.GET.get("after", "")
    if not (after.isascii() and after.isdigit() and len(after) <= 18):  # a bigint, else from now on
        return render(request, "trading/_fills.html", {"fills": [], "last": selectors.last_fill_id(request.user, instrument)})
    fills = selectors.fills_of(request.user, instrument, after=int(after))
    last = max((fill["trade"].pk for fill in fills), default=int(after))
    return render(request, "trading/_fills.html", {"fills": fills, "last": last})


@require_GET
def trade_stream_url(request: HttpRequest, symbol: str) -> HttpResponse:
    """A new signed stream URL for the trading page, when the one it has has expired."""
    return JsonResponse({"url": _trade_stream_url(request.user, _instrument(symbol))})


# --- the public market page ---


@require_GET
def market(request: HttpRequest) -> HttpResponse:
    rows = selectors.market_overview(trading_day())
    chosen = request.GET.get("symbol") or next((r["instrument"].symbol for r in rows if r["instrument"].symbol == "CEA21"), "")
    if chosen and not any(r["instrument"].symbol == chosen for r in rows):
        raise Http404("No such instrument")
    return render(request, "trading/market.html", {
        "rows": rows, "chosen": chosen, "retry_ms": settings.LIVE_RETRY_MS, "refresh_ms": settings.LIVE_REFRESH_MS,
        "stream_url": _market_stream_url(), "stream_refresh_url": reverse("market-stream-url"),
    })


@require_GET
def market_table(request: HttpRequest) -> HttpResponse:
    return render(request, "trading/_market_table.html", {"rows": selectors.market_overview(trading_day())})


def _market_stream_url() -> str:
    if not settings.LIVE_UPDATES:
        return ""
    return live.stream_url(["market", *(f"market:{symbol}" for symbol in Instrument.objects.values_list("symbol", flat=True))])


@require_GET
def market_stream_url(request: HttpRequest) -> HttpResponse:
    """A new signed stream URL for the public market page."""
    return JsonResponse({"url": _market_stream_url()})


# --- block agreement trading (trading.blocks) ---


@login_required
@require_GET
def blocks_page(request: HttpRequest, symbol: str) -> HttpResponse:
    return _blocks_page(request, _instrument(symbol))


def _blocks_page(request: HttpRequest, instrument: Instrument, *, values: dict[str, str] | None = None,
                 errors: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    """The block offers of an instrument a member may accept, its own, today's block trades, and the
    form to post one. Anyone logged in may look; only a trading member may post or accept."""
    from trading import blocks
    from trading.models import BlockOffer, Trade

    today = trading_day()
    mine = user_organization_ids(request.user)
    offers = list(blocks.offers_visible_to(request.user).filter(instrument=instrument, trading_day__gte=today)
                  .order_by("-id").select_related("trade")[:200])
    lower, upper = blocks.block_limits(instrument)
    block_trades = Trade.objects.filter(instrument=instrument, kind=Trade.Kind.BLOCK, trading_day=today).order_by("-id")
    block_volume, block_turnover, _count = selectors.trade_totals(block_trades)
    return render(request, "trading/blocks.html", {
        "instrument": instrument,
        "instruments": Instrument.objects.order_by("symbol"),
        "participant": _participant(request.user),
        "open_offers": [o for o in offers if o.status == BlockOffer.Status.OPEN and o.organization_id not in mine],
        "my_offers": [o for o in offers if o.organization_id in mine],
        "block_trades": list(block_trades[:50]),
        "block_volume": block_volume,
        "block_turnover": block_turnover,
        "lower": lower, "upper": upper,
        "min_quantity": settings.BLOCK_MIN_QUANTITY,
        "band_percent": settings.BLOCK_BAND_PERCENT,
        "sessions": settings.BLOCK_SESSIONS,
        "always_open": settings.MARKET_HOURS == "always",
        "open_now": is_block_time(),
        "values": values or {"side": Side.SELL},
        "errors": errors or {},
        "client_order_id": uuid.uuid4().hex,  # one per form shown: a double submit is one offer, one trade
    }, status=status)


@login_required
@require_POST
def block_post(request: HttpRequest, symbol: str) -> HttpResponse:
    from trading import blocks

    instrument = _instrument(symbol)
    if _participant(request.user) is None:
        raise PermissionDenied
    values = {key: request.POST.get(key, "").strip() for key in ("side", "price", "quantity", "counterparty")}
    try:
        order_entry_check(request.user)
        quantity = parse_quantity(values["quantity"], field="quantity", minimum=None, maximum=None)
        offer, _created = blocks.block_offer_post(
            user=request.user, instrument=instrument.symbol, side=values["side"], price=values["price"], quantity=quantity,
            counterparty=values["counterparty"], client_order_id=request.POST.get("client_order_id", ""))
    except DomainError as error:
        field = error.field if error.field in ("side", "price", "quantity", "counterparty") else "form"
        return _blocks_page(request, instrument, values=values, errors={field: error.message}, status=error.status)
    messages.success(request, _("Block offer #%(id)s posted: %(side)s %(quantity)s t at %(price)s; %(reserved)s reserved.") % {
        "id": offer.pk, "side": offer.get_side_display().lower(), "quantity": f"{offer.quantity:,}",
        "price": format_minor_units(offer.price, 2),
        "reserved": (f"{offer.reserved / 100:,.2f} CNY" if offer.side == Side.BUY else f"{offer.reserved:,} t")})
    return redirect("trade-blocks", symbol=instrument.symbol)


def _block_action(request: HttpRequest, offer_id: int, act: Any) -> HttpResponse:
    """Accept or withdraw from the page: done, back to the page with a message; refused, the page
    again with the reason, at the refusal's status."""
    from trading.models import BlockOffer

    if _participant(request.user) is None:
        raise PermissionDenied
    offer = BlockOffer.objects.select_related("instrument").filter(pk=offer_id).first()
    if offer is None:
        raise Http404("No such block offer")
    try:
        order_entry_check(request.user)
        message = act()
    except NotFound:
        raise Http404("No such block offer") from None
    except DomainError as error:
        return _blocks_page(request, offer.instrument, errors={"offers": error.message}, status=error.status)
    messages.success(request, message)
    return redirect("trade-blocks", symbol=offer.instrument.symbol)


@login_required
@require_POST
def block_accept(request: HttpRequest, offer_id: int) -> HttpResponse:
    from trading import blocks

    def accept() -> str:
        trade, _created = blocks.block_offer_accept(user=request.user, offer_id=offer_id,
                                                    client_order_id=request.POST.get("client_order_id", ""))
        side = _("Bought") if trade.buyer_id in user_organization_ids(request.user) else _("Sold")
        return _("%(side)s %(quantity)s t at %(price)s in block trade #%(id)s; it settles now (allowances T+1).") % {
            "side": side, "quantity": f"{trade.quantity:,}", "price": format_minor_units(trade.price, 2), "id": trade.pk}

    return _block_action(request, offer_id, accept)


@login_required
@require_POST
def block_withdraw(request: HttpRequest, offer_id: int) -> HttpResponse:
    from trading import blocks

    def withdraw() -> str:
        offer = blocks.block_offer_withdraw(user=request.user, offer_id=offer_id)
        return _("Block offer #%(id)s withdrawn; its reservation is released.") % {"id": offer.pk}

    return _block_action(request, offer_id, withdraw)
