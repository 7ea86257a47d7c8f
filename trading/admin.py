"""The exchange operator's admin: market status (with a reason, audited), the holiday calendar, and
read-only orders, trades and daily bars (a provincial regulator sees its province's only)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext_lazy

from accounts.selectors import rows_in_scope
from core.admin import AuditedModelAdmin, ReadOnlyAdmin, action_with_reason, grouped_column
from core.money import format_minor_units
from trading import services
from trading.models import DailyBar, Holiday, Instrument, Order, Trade


def _set_status(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Instrument], status: str) -> HttpResponse | None:
    return action_with_reason(
        modeladmin, request, queryset, title=f"Set {status}",
        apply=lambda instrument, reason: services.instrument_set_status(
            instrument=instrument, status=status, reason=reason, actor=request.user
        ),
    )


@admin.register(Instrument)
class InstrumentAdmin(ReadOnlyAdmin):
    list_display = ["symbol", "status", "reference", "limits", "last_sequence", "matched_sequence"]
    list_filter = ["status"]
    list_select_related = ["matching_position"]
    actions = ["open_market", "halt_market", "close_market"]

    @admin.display(description="Matched sequence")
    def matched_sequence(self, instrument: Instrument) -> int:
        return instrument.matching_position.matched_sequence

    @admin.display(description="Reference price")
    def reference(self, instrument: Instrument) -> str:
        return format_minor_units(instrument.reference_price, 2)

    @admin.display(description="Price limits")
    def limits(self, instrument: Instrument) -> str:
        return f"{format_minor_units(instrument.lower_limit, 2)} - {format_minor_units(instrument.upper_limit, 2)}"

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("trading.operate_market")

    def has_halt_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("trading.operate_market") or request.user.has_perm("trading.halt_market")

    @admin.action(description="Open trading in the selected instruments", permissions=["operate"])
    def open_market(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> HttpResponse | None:
        return _set_status(self, request, queryset, Instrument.Status.OPEN)

    @admin.action(description="Halt trading in the selected instruments", permissions=["halt"])
    def halt_market(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> HttpResponse | None:
        return _set_status(self, request, queryset, Instrument.Status.HALTED)

    @admin.action(description="Close the selected instruments", permissions=["operate"])
    def close_market(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> HttpResponse | None:
        return _set_status(self, request, queryset, Instrument.Status.CLOSED)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "instrument", "organization", "side", "price_cny", "quantity_t", "filled_t", "status"]
    quantity_t = grouped_column("quantity", gettext_lazy("Quantity (t)"))
    filled_t = grouped_column("filled_quantity", gettext_lazy("Filled (t)"))
    list_filter = ["status", "side", "instrument", "trading_day"]
    search_fields = ["client_order_id", "organization__name", "organization__uscc"]
    list_select_related = ["instrument", "organization"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        return rows_in_scope(super().get_queryset(request), request.user, "organization")

    price_cny = grouped_column("price", gettext_lazy("Price (CNY/t)"), decimals=2)


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = ["id", "executed_at", "instrument", "buyer", "seller", "price_cny", "quantity_t", "aggressor_side", "settled_at"]
    quantity_t = grouped_column("quantity", gettext_lazy("Quantity (t)"))
    list_filter = ["instrument", "trading_day", "aggressor_side"]
    search_fields = ["buyer__name", "seller__name", "buyer__uscc", "seller__uscc"]
    list_select_related = ["instrument", "buyer", "seller"]
    date_hierarchy = "executed_at"
    show_full_result_count = False

    def get_queryset(self, request: HttpRequest) -> QuerySet[Trade]:
        return rows_in_scope(super().get_queryset(request), request.user, "buyer", "seller")

    price_cny = grouped_column("price", gettext_lazy("Price (CNY/t)"), decimals=2)


@admin.register(DailyBar)
class DailyBarAdmin(ReadOnlyAdmin):
    list_display = ["day", "instrument", "open_cny", "high_cny", "low_cny", "close_cny", "volume_t", "turnover_cny", "trade_count"]
    open_cny = grouped_column("open", gettext_lazy("Open (CNY/t)"), decimals=2)
    high_cny = grouped_column("high", gettext_lazy("High (CNY/t)"), decimals=2)
    low_cny = grouped_column("low", gettext_lazy("Low (CNY/t)"), decimals=2)
    close_cny = grouped_column("close", gettext_lazy("Close (CNY/t)"), decimals=2)
    volume_t = grouped_column("volume", gettext_lazy("Volume (t)"))
    turnover_cny = grouped_column("turnover", gettext_lazy("Turnover (CNY)"), decimals=2)
    list_filter = ["instrument"]
    date_hierarchy = "day"


@admin.register(Holiday)
class HolidayAdmin(AuditedModelAdmin):
    list_display = ["day", "name"]
    date_hierarchy = "day"

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"name": "Public holiday"}
