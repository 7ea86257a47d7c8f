"""The exchange operator's admin: market status (with a reason, audited), the holiday calendar, and
read-only orders, trades and daily bars (a provincial regulator sees its province's only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy as _

from accounts.selectors import rows_in_scope
from core.admin import COUNT, TONNES, YUAN, YUAN_PER_TONNE, AuditedModelAdmin, ReadOnlyAdmin, action_with_reason
from core.money import format_grouped
from trading import services
from trading.models import DailyBar, Holiday, Instrument, Order, Side, Trade


def _set_status(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Instrument], status: str) -> HttpResponse | None:
    return action_with_reason(
        modeladmin, request, queryset, title=_("Set the status: %(status)s") % {"status": Instrument.Status(status).label},
        apply=lambda instrument, reason: services.instrument_set_status(
            instrument=instrument, status=status, reason=reason, actor=request.user
        ),
    )


@admin.register(Instrument)
class InstrumentAdmin(ReadOnlyAdmin):
    list_display = ["symbol", "status", "reference_price", "limits", "last_sequence", "matched_sequence"]
    units = {"tick": YUAN, "reference_price": YUAN_PER_TONNE, "min_quantity": TONNES, "max_quantity": TONNES,
             "last_sequence": COUNT}
    list_filter = ["status"]
    list_select_related = ["matching_position"]
    actions = ["open_market", "halt_market", "close_market"]

    @admin.display(description=_("Matched sequence"))
    def matched_sequence(self, instrument: Instrument) -> str:
        return format_grouped(instrument.matching_position.matched_sequence, 0)

    @admin.display(description=_("Price limits (CNY/t)"))
    def limits(self, instrument: Instrument) -> str:
        return f"{format_grouped(instrument.lower_limit, 2)} – {format_grouped(instrument.upper_limit, 2)}"

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("trading.operate_market")

    def has_halt_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("trading.operate_market") or request.user.has_perm("trading.halt_market")

    @admin.action(description=_("Open trading in the selected instruments"), permissions=["operate"])
    def open_market(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> HttpResponse | None:
        return _set_status(self, request, queryset, Instrument.Status.OPEN)

    @admin.action(description=_("Halt trading in the selected instruments"), permissions=["halt"])
    def halt_market(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> HttpResponse | None:
        return _set_status(self, request, queryset, Instrument.Status.HALTED)

    @admin.action(description=_("Close the selected instruments"), permissions=["operate"])
    def close_market(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> HttpResponse | None:
        return _set_status(self, request, queryset, Instrument.Status.CLOSED)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "instrument", "organization", "side", "price", "quantity", "filled_quantity", "status"]
    units = {"price": YUAN_PER_TONNE, "quantity": TONNES, "filled_quantity": TONNES}
    list_filter = ["status", "side", "instrument", "trading_day"]
    search_fields = ["client_order_id", "organization__name", "organization__uscc"]
    list_select_related = ["instrument", "organization"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return rows_in_scope(super().get_queryset(request), request.user, "organization")

    @admin.display(description=_("Reserved (CNY for a buy, t for a sell)"), ordering="reserved")
    def reserved_shown(self, order: Order) -> str:
        """Still reserved for the unfilled rest: fen for a buy, tonnes for a sell."""
        return format_grouped(order.reserved, 2 if order.side == Side.BUY else 0)


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = ["id", "executed_at", "instrument", "buyer", "seller", "price", "quantity", "aggressor_side", "settled_at"]
    units = {"price": YUAN_PER_TONNE, "quantity": TONNES, "buyer_fee": YUAN, "seller_fee": YUAN}
    list_filter = ["instrument", "trading_day", "aggressor_side"]
    search_fields = ["buyer__name", "seller__name", "buyer__uscc", "seller__uscc"]
    list_select_related = ["instrument", "buyer", "seller"]
    date_hierarchy = "executed_at"
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Trade]:
        return rows_in_scope(super().get_queryset(request), request.user, "buyer", "seller")


@admin.register(DailyBar)
class DailyBarAdmin(ReadOnlyAdmin):
    list_display = ["day", "instrument", "open", "high", "low", "close", "volume", "turnover", "trade_count"]
    units = {"open": YUAN_PER_TONNE, "high": YUAN_PER_TONNE, "low": YUAN_PER_TONNE, "close": YUAN_PER_TONNE,
             "reference_price": YUAN_PER_TONNE, "volume": TONNES, "turnover": YUAN, "trade_count": COUNT}
    list_filter = ["instrument"]
    date_hierarchy = "day"


@admin.register(Holiday)
class HolidayAdmin(AuditedModelAdmin):
    list_display = ["day", "name"]
    date_hierarchy = "day"

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"name": _("Public holiday")}
