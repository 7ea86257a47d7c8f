"""The regulators' carry-over pages: windows with their parameters (editable while a draft), and each
window's review page (statements of every company, the one decision open to this person, CSV export)."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from carryover import services
from carryover.models import CarryOverWindow
from carryover.selectors import transfer_reference, window_lines, window_periods, window_totals, window_vintages
from core.admin import TONNES, AuditedModelAdmin, ReasonForm
from core.csv import csv_response
from core.errors import DomainError
from core.models import AuditEvent
from registry.models import Transfer

PARAMETERS = ["code", "first_year", "last_year", "trades_from", "trades_until", "base_tonnes", "sales_multiplier"]
LINES_PER_PAGE = 50


def statement_columns() -> list[str]:
    return [_("Company"), _("USCC"), _("Sold (t)"), _("Bought (t)"), _("Net sales (t)"), _("Carry-over cap (t)"),
            _("Holding when computed (t)"), _("Above the cap when computed (t)"), _("Holding at approval (t)"),
            _("Not carried over (t)"), _("Above the cap, not marked (t)")]


@admin.register(CarryOverWindow)
class CarryOverWindowAdmin(AuditedModelAdmin):
    list_display = ["code", "first_year", "last_year", "base_tonnes", "sales_multiplier", "status", "computed_by",
                    "submitted_by", "decided_by", "review_link"]
    units = {"base_tonnes": TONNES}
    list_filter = ["status"]
    list_select_related = ["computed_by", "submitted_by", "decided_by"]
    fields = PARAMETERS
    actions = None  # decisions are taken one window at a time, on its review page

    def get_readonly_fields(self, request: HttpRequest, obj: CarryOverWindow | None = None) -> list[str]:
        # The parameters are the regulators' to edit until the computation is submitted.
        if obj is not None and obj.status != CarryOverWindow.Status.DRAFT:
            return PARAMETERS
        return []

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description=gettext_lazy("Statements"))
    def review_link(self, window: CarryOverWindow) -> str:
        return format_html('<a href="{}">{}</a>', reverse("admin:carryover_carryoverwindow_review", args=[window.pk]),
                           _("Review the statements"))

    def get_urls(self) -> list[Any]:
        return [path("<path:object_id>/review/", self.admin_site.admin_view(self.review_view),
                     name="carryover_carryoverwindow_review"),
                path("<path:object_id>/statements.csv", self.admin_site.admin_view(self.export_view),
                     name="carryover_carryoverwindow_export"),
                *super().get_urls()]

    def _window(self, request: HttpRequest, object_id: str) -> CarryOverWindow:
        if not self.has_view_permission(request):
            raise PermissionDenied
        window = self.get_object(request, object_id)
        if window is None:
            raise Http404
        return window

    def _decisions(self, request: HttpRequest, window: CarryOverWindow) -> list[str]:
        user = request.user
        if window.status == CarryOverWindow.Status.DRAFT and user.has_perm("carryover.add_carryoverwindow"):
            return ["compute", "submit"] if window.computed_at else ["compute"]
        maker = user.pk in (window.computed_by_id, window.submitted_by_id)
        if window.status == CarryOverWindow.Status.SUBMITTED and user.has_perm("carryover.approve_carryoverwindow") and not maker:
            return ["approve", "reject"]
        return []

    def review_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The window's facts and statements, and the decision open to this person: compute and submit
        (the maker), approve or reject (a second regulator). Submitting, approving and rejecting ask for
        a reason, which the history keeps."""
        window = self._window(request, object_id)
        decisions = self._decisions(request, window)
        form = ReasonForm(request.POST if request.method == "POST" and request.POST.get("decision") != "compute" else None)
        if request.method == "POST":
            decision = request.POST.get("decision")
            if decision not in decisions:
                raise PermissionDenied
            if decision == "compute" or form.is_valid():
                reason = form.cleaned_data["reason"] if decision != "compute" else ""
                apply = {
                    "compute": lambda: services.carryover_compute(window=window, actor=request.user),
                    "submit": lambda: services.carryover_submit(window=window, actor=request.user, reason=reason),
                    "approve": lambda: services.carryover_approve(window=window, actor=request.user, reason=reason),
                    "reject": lambda: services.carryover_reject(window=window, actor=request.user, reason=reason),
                }
                try:
                    apply[decision]()
                except DomainError as error:
                    self.message_user(request, error.message, messages.ERROR)
                else:
                    self.message_user(request, _decided_message(decision, window), messages.SUCCESS)
                    return redirect("admin:carryover_carryoverwindow_review", window.pk)
        search = request.GET.get("q", "")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Review %(window)s") % {"window": window},
            "window": window,
            "periods": list(window_periods(window)),
            "vintages": window_vintages(window),
            "totals": window_totals(window),
            "page": Paginator(window_lines(window, search), LINES_PER_PAGE).get_page(request.GET.get("page")),
            "search": search,
            "decisions": decisions,
            "awaiting_other_checker": window.status == CarryOverWindow.Status.SUBMITTED and "approve" not in decisions,
            "form": form,
            "history": AuditEvent.objects.filter(object_type="carryover.carryoverwindow", object_id=str(window.pk)).order_by("id"),
            "transfers": Transfer.objects.filter(kind=Transfer.Kind.CARRY_OVER, reference=transfer_reference(window)).count(),
            "reference": transfer_reference(window),
        }
        return TemplateResponse(request, "admin/carryover/review.html", context)

    def export_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """Every company's statement of the window, as CSV (UTF-8 with BOM, formula-injection safe)."""
        window = self._window(request, object_id)
        rows = ([line.organization.name, line.organization.uscc, line.sold, line.bought, line.net_sales, line.cap,
                 line.holding, line.excess, line.holding_at_approval, line.not_carried, line.unmarked]
                for line in window_lines(window).iterator(chunk_size=2000))
        return csv_response(f"carry-over-{window.code}.csv", statement_columns(), rows)


def _decided_message(decision: str, window: CarryOverWindow) -> str:
    window.refresh_from_db()
    totals = window_totals(window)
    if decision == "compute":
        return _("Computed %(companies)s statements: %(excess)s t above the caps.") % {
            "companies": f"{totals['companies']:,}", "excess": f"{totals['excess']:,}"}
    if decision == "submit":
        return _("Submitted for approval by a second national regulator.")
    if decision == "approve":
        return _("Approved: %(t)s t marked as not carried over.") % {"t": f"{totals['not_carried']:,}"}
    return _("Rejected: the window is a draft again.")
