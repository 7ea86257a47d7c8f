"""The exchange operator's admin: market status (with a reason, audited), the holiday calendar, and
read-only orders, trades and daily bars."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse

from core.admin import AuditedModelAdmin, ReadOnlyAdmin
from core.errors import DomainError
from core.money import format_minor_units
from trading import services
from trading.models import DailyBar, Holiday, Instrument, Order, Trade


class StatusForm(forms.Form):
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3}), help_text="Recorded in the audit trail.")


def _set_status(modeladmin: admin.ModelAdmin, request: HttpRequest, queryset: QuerySet[Instrument], status: str) -> HttpResponse | None:
    form = StatusForm(request.POST if "confirm" in request.POST else None)
    if form.is_bound and form.is_valid():
        for instrument in queryset:
            try:
                services.instrument_set_status(instrument=instrument, status=status, reason=form.cleaned_data["reason"], actor=request.user)
            except DomainError as error:
                modeladmin.message_user(request, f"{instrument.symbol}: {error.message}", messages.ERROR)
            else:
                modeladmin.message_user(request, f"{instrument.symbol} is now {status}.", messages.SUCCESS)
        return None
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": f"Set {status}: {', '.join(i.symbol for i in queryset)}",
        "objects": queryset,
        "form": form,
        "action": request.POST.get("action"),
        "opts": modeladmin.model._meta,
        "selected": request.POST.getlist(admin.helpers.ACTION_CHECKBOX_NAME),
    }
    return TemplateResponse(request, "admin/registry/confirm_with_reason.html", context)


@admin.register(Instrument)
class InstrumentAdmin(ReadOnlyAdmin):
    list_display = ["symbol", "status", "reference", "limits", "last_sequence", "matched_sequence"]
    list_filter = ["status"]
    actions = ["open_market", "halt_market", "close_market"]

    @admin.display(description="Reference price")
    def reference(self, instrument: Instrument) -> str:
        return format_minor_units(instrument.reference_price, 2)

    @admin.display(description="Price limits")
    def limits(self, instrument: Instrument) -> str:
        return f"{format_minor_units(instrument.lower_limit, 2)} - {format_minor_units(instrument.upper_limit, 2)}"

    def has_operate_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("trading.operate_market")

    @admin.action(description="Open trading in the selected instruments", permissions=["operate"])
    def open_market(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> HttpResponse | None:
        return _set_status(self, request, queryset, Instrument.Status.OPEN)

    @admin.action(description="Halt trading in the selected instruments", permissions=["operate"])
    def halt_market(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> HttpResponse | None:
        return _set_status(self, request, queryset, Instrument.Status.HALTED)

    @admin.action(description="Close the selected instruments", permissions=["operate"])
    def close_market(self, request: HttpRequest, queryset: QuerySet[Instrument]) -> HttpResponse | None:
        return _set_status(self, request, queryset, Instrument.Status.CLOSED)


@admin.register(Order)
class OrderAdmin(ReadOnlyAdmin):
    list_display = ["id", "created_at", "instrument", "organization", "side", "price_cny", "quantity", "filled_quantity", "status"]
    list_filter = ["status", "side", "instrument", "trading_day"]
    search_fields = ["client_order_id", "organization__name", "organization__uscc"]
    list_select_related = ["instrument", "organization"]
    date_hierarchy = "created_at"
    show_full_result_count = False

    @admin.display(description="Price")
    def price_cny(self, order: Order) -> str:
        return format_minor_units(order.price, 2)


@admin.register(Trade)
class TradeAdmin(ReadOnlyAdmin):
    list_display = ["id", "executed_at", "instrument", "buyer", "seller", "price_cny", "quantity", "aggressor_side", "settled_at"]
    list_filter = ["instrument", "trading_day", "aggressor_side"]
    search_fields = ["buyer__name", "seller__name", "buyer__uscc", "seller__uscc"]
    list_select_related = ["instrument", "buyer", "seller"]
    date_hierarchy = "executed_at"
    show_full_result_count = False

    @admin.display(description="Price")
    def price_cny(self, trade: Trade) -> str:
        return format_minor_units(trade.price, 2)


@admin.register(DailyBar)
class DailyBarAdmin(ReadOnlyAdmin):
    list_display = ["day", "instrument", "open", "high", "low", "close", "volume", "turnover", "trade_count"]
    list_filter = ["instrument"]
    date_hierarchy = "day"


@admin.register(Holiday)
class HolidayAdmin(AuditedModelAdmin):
    list_display = ["day", "name"]
    date_hierarchy = "day"

    def get_changeform_initial_data(self, request: HttpRequest) -> dict[str, Any]:
        return {"name": "Public holiday"}
