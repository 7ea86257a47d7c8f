"""Regulators' admin for allocation: periods and their benchmark tables, plans with their lines,
and the maker-checker actions (with a confirmation page and a reason)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from accounts.models import Organization
from accounts.selectors import organizations_visible_to
from allocation import services
from allocation.importing import read_rows
from allocation.models import AllocationLine, AllocationPlan, Benchmark, CompliancePeriod, Deduction
from core import import_jobs
from core.admin import AuditedModelAdmin, ReadOnlyAdmin, action_with_reason, import_job_response
from core.errors import DomainError
from core.models import ImportJob
from core.numbers import NumberRefused, parse_decimal
from registry.models import Asset


class BenchmarkInline(admin.TabularInline):
    model = Benchmark
    extra = 0


@admin.register(CompliancePeriod)
class CompliancePeriodAdmin(AuditedModelAdmin):
    list_display = ["code", "first_year", "last_year", "surrender_deadline", "status"]
    list_filter = ["status"]
    inlines = [BenchmarkInline]
    filter_horizontal = ["vintages"]


class AllocationLineInline(admin.TabularInline):
    model = AllocationLine
    fields = ["organization", "unit_category", "electricity_mwh", "heat_gj", "correction_factor", "computed_allocation",
              "deduction_amount", "issue_amount", "clawback_amount"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def get_queryset(self, request: HttpRequest) -> QuerySet[AllocationLine]:
        return super().get_queryset(request).select_related("organization")


class ImportForm(forms.Form):
    kind = forms.ChoiceField(choices=AllocationPlan.Kind.choices, initial=AllocationPlan.Kind.PRE_ALLOCATION)
    period = forms.ModelChoiceField(queryset=CompliancePeriod.objects.all())
    vintage = forms.ModelChoiceField(queryset=Asset.objects.filter(kind=Asset.Kind.ALLOWANCE))
    issue_percent = forms.DecimalField(initial=Decimal("70"), min_value=Decimal("0.01"), max_value=Decimal("100"),
                                       help_text="Pre-allocation: the share of the computed allocation issued now (a true-up always settles on 100)")
    file = forms.FileField(required=False, help_text="CSV or XLSX: uscc,unit_category,electricity_mwh,heat_gj,correction_factor")
    upload = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_issue_percent(self) -> Decimal:
        """By the platform's one number rule (core.numbers): no exponent, no other script's digits."""
        try:
            return parse_decimal(self.data.get("issue_percent", ""), field="issue_percent", places=2, below=1000)
        except NumberRefused as refused:
            raise forms.ValidationError(refused.message) from None


@admin.register(AllocationPlan)
class AllocationPlanAdmin(ReadOnlyAdmin):
    list_display = ["id", "period", "kind", "vintage", "status", "units", "total_computed", "total_issue", "total_clawback",
                    "created_by", "submitted_by", "decided_by"]
    list_filter = ["period", "kind", "status", "lines__organization__province"]
    readonly_fields = ["audit_trail"]
    list_select_related = ["period", "vintage", "created_by", "submitted_by", "decided_by"]
    inlines = [AllocationLineInline]
    actions = ["submit_plans", "approve_plans", "reject_plans"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[AllocationPlan]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser or request.user.has_perm("accounts.view_all_organizations"):
            return queryset
        # A provincial regulator sees the plans all of whose units are in its province.
        outside = Organization.objects.exclude(pk__in=organizations_visible_to(request.user))
        return queryset.exclude(lines__organization__in=outside)

    @admin.display(description="History (audit trail)")
    def audit_trail(self, plan: AllocationPlan) -> str:
        from django.utils.html import format_html_join

        from core.models import AuditEvent

        events = AuditEvent.objects.filter(object_type="allocation.allocationplan", object_id=str(plan.pk)).order_by("id")
        return format_html_join(
            "", "<div>{} &middot; {} &middot; {}</div>",
            ((f"{e.created_at:%Y-%m-%d %H:%M:%S}", e.actor_label, e.action) for e in events),
        ) or "—"

    @admin.display(description="Units")
    def units(self, plan: AllocationPlan) -> int:
        return plan.lines.count()

    def get_urls(self) -> list[Any]:
        return [path("import/", self.admin_site.admin_view(self.import_view), name="allocation_allocationplan_import"),
                path("import/job/<int:job_id>/", self.admin_site.admin_view(self.import_job_view),
                     name="allocation_allocationplan_import_job"),
                *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload -> a dry-run preview of every row (figures and errors, nothing saved; bounded by
        IMPORT_MAX_ROWS) -> confirm, which queues a job that saves all rows or none, in a worker, with
        its progress on the job's page. The upload waits under IMPORT_UPLOAD_DIR by a generated name
        between the two steps; a refused file is deleted at once."""
        if not request.user.has_perm("allocation.add_allocationplan"):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        context: dict[str, Any] = {**self.admin_site.each_context(request), "title": "Import an allocation plan",
                                   "opts": self.model._meta, "form": form, "max_rows": settings.IMPORT_MAX_ROWS}
        if request.method != "POST" or not form.is_valid():
            return TemplateResponse(request, "admin/allocation/import.html", context)
        data = form.cleaned_data
        upload, source_name = data["upload"], request.POST.get("source_name", "")
        confirming = "confirm" in request.POST and not data["file"]
        true_up = data["kind"] == AllocationPlan.Kind.TRUE_UP
        issue_percent = Decimal(100) if true_up else data["issue_percent"]
        try:
            if data["file"]:
                upload, source_name = import_jobs.upload_store(data["file"]), data["file"].name
            stored = import_jobs.upload_path(upload)
            if stored is None or not stored.exists():
                form.add_error("file", "Choose a file to import.")
                return TemplateResponse(request, "admin/allocation/import.html", context)
            if confirming:
                job = import_jobs.import_job_start(
                    kind=ImportJob.Kind.ALLOCATION_PLAN, upload=upload, source_name=source_name, user=request.user,
                    params={"period": data["period"].pk, "vintage": data["vintage"].pk, "issue_percent": str(issue_percent),
                            "kind": data["kind"]})
                return redirect("admin:allocation_allocationplan_import_job", job.pk)
            with stored.open("rb") as stream:
                rows = read_rows(stream, stored.name)
            preview = services.allocation_preview(period=data["period"], rows=rows, issue_percent=issue_percent,
                                                  actor=request.user, kind=data["kind"], vintage=data["vintage"])
        except services.ImportRefused as refused:
            import_jobs.upload_delete(upload)
            context["refused"] = refused.errors
            return TemplateResponse(request, "admin/allocation/import.html", context)
        except DomainError as error:
            if not confirming:
                import_jobs.upload_delete(upload)  # a refused file is not kept
            form.add_error(None, error.message)
            return TemplateResponse(request, "admin/allocation/import.html", context)
        errors_by_row: dict[int, list[str]] = {}
        for error in preview.errors:
            errors_by_row.setdefault(error.row, []).append(f"{error.field}: {error.message}")
        if not preview.ok:
            import_jobs.upload_delete(upload)  # refused: fix the file and upload it again
            upload = ""
        context.update(preview=preview, upload=upload, errors_by_row=errors_by_row, true_up=true_up, source_name=source_name)
        return TemplateResponse(request, "admin/allocation/import.html", context)

    def import_job_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        if not request.user.has_perm("allocation.add_allocationplan"):
            raise PermissionDenied
        return import_job_response(
            self, request, job_id, kind=ImportJob.Kind.ALLOCATION_PLAN, title="Saving an allocation plan",
            done_url=lambda job: reverse("admin:allocation_allocationplan_change", args=[job.result["plan"]]))

    def has_maker_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("allocation.add_allocationplan")

    def has_checker_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("allocation.approve_allocationplan")

    @admin.action(description="Submit the selected plans for approval", permissions=["maker"])
    def submit_plans(self, request: HttpRequest, queryset: QuerySet[AllocationPlan]) -> HttpResponse | None:
        return action_with_reason(self, request, queryset, title="Submit plans",
                                  apply=lambda plan, reason: services.plan_submit(plan=plan, actor=request.user))

    @admin.action(description="Approve and issue the selected plans", permissions=["checker"])
    def approve_plans(self, request: HttpRequest, queryset: QuerySet[AllocationPlan]) -> HttpResponse | None:
        return action_with_reason(self, request, queryset, title="Approve and issue plans",
                                  apply=lambda plan, reason: services.plan_approve(plan=plan, actor=request.user, reason=reason))

    @admin.action(description="Reject the selected plans", permissions=["checker"])
    def reject_plans(self, request: HttpRequest, queryset: QuerySet[AllocationPlan]) -> HttpResponse | None:
        return action_with_reason(self, request, queryset, title="Reject plans",
                                  apply=lambda plan, reason: services.plan_reject(plan=plan, actor=request.user, reason=reason))


@admin.register(Deduction)
class DeductionAdmin(ReadOnlyAdmin):
    list_display = ["organization", "period", "tonnes", "remaining", "reason", "created_at"]
    list_filter = ["period", "organization__province"]
    search_fields = ["organization__name", "organization__uscc"]
    list_select_related = ["organization", "period"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Deduction]:
        return super().get_queryset(request).filter(organization__in=organizations_visible_to(request.user))
