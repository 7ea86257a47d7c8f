"""The company pages: dashboard, orders, trades, profile, password and API tokens. Views parse input,
call selectors and services, and render; everything is the user's own organization's."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import update_session_auth_hash
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.models import Organization
from accounts.roles import Role
from accounts.selectors import (
    api_token_get_for,
    api_tokens_of,
    totp_device_confirmed,
    two_factor_required,
    user_organization_ids,
)
from accounts.services import api_token_create, api_token_revoke, user_password_change, user_profile_update
from accounts.tokens import otp_verified_at_of
from core.csv import csv_response
from core.errors import DomainError, NotFound
from core.money import format_minor_units
from registry.models import Account
from trading.clock import trading_day
from trading.selectors import order_get_for
from web import forms, selectors

PAGE_SIZE = 50


def _form_errors(form: Any, error: DomainError) -> None:
    form.add_error(error.field if error.field in form.fields else None, error.message)


def statement_url(account: Account) -> str:
    """The account's statement: the reports' statement (filters, CSV) where it exists, else the ledger page."""
    try:
        return reverse("reports-statement", args=[account.number])
    except NoReverseMatch:
        return reverse("account-detail", args=[account.number])


@login_required
def dashboard(request: HttpRequest) -> HttpResponse:
    user = request.user
    organization_ids = user_organization_ids(user)
    accounts = list(Account.objects.filter(organization_id__in=organization_ids).select_related("organization").order_by("number"))
    return render(request, "web/dashboard.html", {
        "organizations": Organization.objects.filter(pk__in=organization_ids),
        "holdings": selectors.holdings_by_asset(user),
        "cash_flow": selectors.cash_flow_of_day(user, trading_day()),
        "obligations": selectors.my_obligations(user),
        "accounts": [(account, statement_url(account)) for account in accounts],
        "live_orders": selectors.orders_filtered(user, status="live").count() if organization_ids else 0,
    })


def _page(request: HttpRequest, queryset: Any) -> Any:
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


@login_required
def orders(request: HttpRequest) -> HttpResponse:
    form = forms.OrderFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    found = selectors.orders_filtered(request.user, **filters)
    if form.is_bound and not form.is_valid():
        found = found.none()
    return render(request, "web/orders.html", {"form": form, "page": _page(request, found)})


@login_required
def order_detail(request: HttpRequest, order_id: int) -> HttpResponse:
    try:
        order = order_get_for(request.user, order_id)
    except NotFound:
        raise Http404("No such order") from None
    fills = selectors.as_fills(request.user, selectors.order_fills(order))
    return render(request, "web/order_detail.html", {"order": order, "fills": fills})


def _trade_rows(fills: list[selectors.Fill]) -> Iterator[list[Any]]:
    for fill in fills:
        trade = fill.trade
        yield [
            trade.pk, timezone.localtime(trade.executed_at).strftime("%Y-%m-%d %H:%M:%S"), trade.trading_day.isoformat(),
            trade.instrument.symbol, fill.side, format_minor_units(trade.price, 2), trade.quantity,
            format_minor_units(fill.value, 2), format_minor_units(fill.fee, 2), fill.order_id,
            timezone.localtime(trade.settled_at).strftime("%Y-%m-%d %H:%M:%S") if trade.settled_at else "",
        ]


def _trades_csv(request: HttpRequest, trades: Any) -> HttpResponse:
    header = [_("Trade"), _("Executed at"), _("Trading day"), _("Instrument"), _("Side"), _("Price (CNY)"),
              _("Quantity (t)"), _("Value (CNY)"), _("Fee (CNY)"), _("Order"), _("Settled at")]

    def rows() -> Iterator[list[Any]]:
        # In chunks, so a long history streams without being held in memory.
        chunk: list[Any] = []
        for trade in trades.iterator(chunk_size=2000):
            chunk.append(trade)
            if len(chunk) == 2000:
                yield from _trade_rows(selectors.as_fills(request.user, chunk))
                chunk = []
        yield from _trade_rows(selectors.as_fills(request.user, chunk))

    return csv_response(f"trades-{timezone.localdate():%Y%m%d}.csv", header, rows())


@login_required
def trades(request: HttpRequest) -> HttpResponse:
    query = request.GET.copy()
    export = query.pop("format", [""])[-1] == "csv"
    form = forms.TradeFilterForm(query or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    found = selectors.trades_filtered(request.user, **filters)
    if form.is_bound and not form.is_valid():
        found = found.none()
    elif export:
        return _trades_csv(request, found)
    page = _page(request, found)
    return render(request, "web/trades.html", {
        "form": form, "page": page, "fills": selectors.as_fills(request.user, page.object_list),
    })


@login_required
def profile(request: HttpRequest) -> HttpResponse:
    user = request.user
    initial = {"first_name": user.first_name, "last_name": user.last_name, "email": user.email, "language": user.language}
    form = forms.ProfileForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            user_profile_update(user=user, actor=user, **form.cleaned_data)
        except DomainError as error:
            _form_errors(form, error)
        else:
            messages.success(request, _("Your profile is saved."))
            response = redirect("profile")
            if user.language:
                response.set_cookie(settings.LANGUAGE_COOKIE_NAME, user.language, samesite="Lax")
            else:  # back to the browser's choice
                response.delete_cookie(settings.LANGUAGE_COOKIE_NAME)
            return response
    return render(request, "web/profile.html", {
        "form": form, "organizations": Organization.objects.filter(pk__in=user_organization_ids(user)),
        "roles": [Role(name).label if name in Role.values else name for name in user.groups.order_by("name").values_list("name", flat=True)],
        "two_factor": {"device": totp_device_confirmed(user), "required": two_factor_required(user)},
    })


@login_required
def profile_password(request: HttpRequest) -> HttpResponse:
    form = forms.PasswordChangeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user_password_change(user=request.user, old_password=form.cleaned_data["old_password"],
                                 new_password=form.cleaned_data["new_password1"], actor=request.user)
        except DomainError as error:
            _form_errors(form, error)
        else:
            update_session_auth_hash(request, request.user)  # this session stays signed in, others end
            messages.success(request, _("Your password is changed."))
            return redirect("profile")
    return render(request, "web/password.html", {"form": form})


@login_required
def tokens(request: HttpRequest) -> HttpResponse:
    form = forms.TokenCreateForm(request.POST or None)
    created = None
    if request.method == "POST" and form.is_valid():
        try:
            token, key = api_token_create(
                user=request.user, name=form.cleaned_data["name"], expires_at=form.expires_at(), actor=request.user,
                otp_verified_at=otp_verified_at_of(request),
            )
        except DomainError as error:
            _form_errors(form, error)
        else:
            created = {"token": token, "key": key}
            form = forms.TokenCreateForm()
    response = render(request, "web/tokens.html", {
        "form": form, "created": created, "tokens": api_tokens_of(request.user), "now": timezone.now(),
    })
    response["Cache-Control"] = "no-store"  # the page may show a key: no copy in any cache
    return response


@login_required
@require_POST
def token_revoke(request: HttpRequest, token_id: int) -> HttpResponse:
    try:
        token = api_token_get_for(request.user, token_id)
    except NotFound:
        raise Http404("No such token") from None
    api_token_revoke(token=token, actor=request.user)
    messages.success(request, _("The token “%(name)s” is revoked.") % {"name": token.name})
    return redirect("tokens")
