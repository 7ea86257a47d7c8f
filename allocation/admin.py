"""Regulators' admin for allocation: periods and their benchmark tables, plans, and each plan's
review page, where the maker submits it and a second national regulator approves or rejects it with
the plan's facts on screen (and a reason)."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Organization
from accounts.selectors import organizations_visible_to
from allocation import services
from allocation.importing import UNIT_COLUMNS, read_rows
from allocation.models import AllocationCut, AllocationPlan, Benchmark, CompliancePeriod, Deduction, EmittingUnit
from allocation.selectors import plan_lines, plan_totals
from allocation.vintages import vintages_check
from core import import_jobs, import_preview
from core.admin import TONNES, AuditedModelAdmin, ReadOnlyAdmin, ReasonForm, import_job_response
from core.errors import DomainError
from core.import_preview import EXAMPLE_USCC
from core.models import ImportJob
from core.numbers import NumberRefused, parse_decimal
from registry.models import Asset, Transfer


class BenchmarkInline(admin.TabularInline):
    """The period's benchmark table: method, parameters, pre-allocation share and whether the row is
    an assumed default (each edit is audited by the period's admin)."""

    model = Benchmark
    fk_name = "period"
    extra = 0
    fields = ["sector", "unit_category", "method", "electricity", "heat", "product_intensity", "verified_period",
              "pre_allocation_share", "pre_allocation_basis", "assumed"]


@admin.register(Benchmark)
class BenchmarkAdmin(AuditedModelAdmin):
    """A benchmark row on its own page, with its history (the admin's log and the audit trail)."""

    list_display = ["period", "sector", "unit_category", "method", "electricity", "heat", "product_intensity",
                    "pre_allocation_share", "assumed"]
    list_filter = ["period", "sector", "method", "assumed"]


@admin.register(EmittingUnit)
class EmittingUnitAdmin(AuditedModelAdmin):
    list_display = ["organization", "code", "name", "sector", "category", "province"]
    list_filter = ["sector", "province"]
    search_fields = ["organization__name", "organization__uscc", "code", "name"]
    raw_id_fields = ["organization"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[EmittingUnit]:
        return super().get_queryset(request).filter(organization__in=organizations_visible_to(request.user))


class CompliancePeriodForm(forms.ModelForm):
    class Meta:
        model = CompliancePeriod
        fields = "__all__"  # noqa: DJ007  (the admin's own field list; this form only adds a check)

    def clean(self) -> dict[str, Any]:
        """No borrowing: the eligible vintages end no later than the period's last year."""
        data = super().clean()
        if data.get("last_year") is not None and data.get("vintages") is not None:
            try:
                vintages_check(last_year=data["last_year"], vintages=data["vintages"])
            except DomainError as error:
                self.add_error("vintages", error.message)
        return data


@admin.register(CompliancePeriod)
class CompliancePeriodAdmin(AuditedModelAdmin):
    form = CompliancePeriodForm
    list_display = ["code", "first_year", "last_year", "surrender_deadline", "status"]
    list_filter = ["status"]
    inlines = [BenchmarkInline]
    filter_horizontal = ["vintages"]


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=gettext_lazy("Kind"), choices=AllocationPlan.Kind.choices,
                             initial=AllocationPlan.Kind.PRE_ALLOCATION)
    period = forms.ModelChoiceField(label=gettext_lazy("Compliance period"), queryset=CompliancePeriod.objects.all())
    vintage = forms.ModelChoiceField(label=gettext_lazy("Vintage"), queryset=Asset.objects.filter(kind=Asset.Kind.ALLOWANCE))
    issue_percent = forms.DecimalField(
        label=gettext_lazy("Issue percent"), initial=Decimal("70"), min_value=Decimal("0.01"), max_value=Decimal("100"),
        help_text=gettext_lazy("Pre-allocation: the share of the computed allocation issued now (a true-up always settles on 100)"))
    file = forms.FileField(label=gettext_lazy("File"), required=False,
                           help_text=gettext_lazy(
                               "CSV or XLSX: uscc,unit_code,sector,unit_category,electricity_mwh,heat_gj,product_output_t,"
                               "correction_factor (as the template); a file of one unit per company may leave out unit_code, "
                               "sector and product_output_t"))
    upload = forms.CharField(required=False, widget=forms.HiddenInput)

    def clean_issue_percent(self) -> Decimal:
        """By the platform's one number rule (core.numbers): no exponent, no other script's digits."""
        try:
            return parse_decimal(self.data.get("issue_percent", ""), field="issue_percent", places=2, below=1000)
        except NumberRefused as refused:
            raise forms.ValidationError(refused.message) from None


@admin.register(AllocationPlan)
class AllocationPlanAdmin(ReadOnlyAdmin):
    list_display = ["id", "period", "kind", "vintage", "status", "unit_count", "total_computed", "total_issue", "total_clawback",
                    "created_by", "submitted_by", "decided_by", "review_link"]
    units = {"total_computed": TONNES, "total_issue": TONNES, "total_clawback": TONNES}
    list_filter = ["period", "kind", "status", "lines__organization__province"]
    readonly_fields = ["review_link", "audit_trail"]
    list_select_related = ["period", "vintage", "created_by", "submitted_by", "decided_by"]
    actions = None  # decisions are taken one plan at a time, on its review page, with its facts

    def get_queryset(self, request: HttpRequest) -> QuerySet[AllocationPlan]:
        queryset = super().get_queryset(request)
        if request.user.is_superuser or request.user.has_perm("accounts.view_all_organizations"):
            return queryset
        # A provincial regulator sees the plans all of whose units are in its province.
        outside = Organization.objects.exclude(pk__in=organizations_visible_to(request.user))
        return queryset.exclude(lines__organization__in=outside)

    @admin.display(description=gettext_lazy("History (audit trail)"))
    def audit_trail(self, plan: AllocationPlan) -> str:
        return format_html_join(
            "", "<div>{} &middot; {} &middot; {}{}</div>",
            ((f"{timezone.localtime(e['at']):%Y-%m-%d %H:%M:%S %Z}", e["who"], e["action"],
              f" · “{e['reason']}”" if e["reason"] else "") for e in _history(plan)),
        ) or "—"

    @admin.display(description=gettext_lazy("Decision"))
    def review_link(self, plan: AllocationPlan) -> str:
        url = reverse("admin:allocation_allocationplan_review", args=[plan.pk])
        return format_html('<a href="{}">{}</a>', url, _("Review the plan") if plan.status in (
            AllocationPlan.Status.DRAFT, AllocationPlan.Status.SUBMITTED) else _("Facts and history"))

    @admin.display(description=gettext_lazy("Units"))
    def unit_count(self, plan: AllocationPlan) -> str:
        return f"{plan.lines.count():,}"

    def get_urls(self) -> list[Any]:
        return [path("import/", self.admin_site.admin_view(self.import_view), name="allocation_allocationplan_import"),
                path("<path:object_id>/review/", self.admin_site.admin_view(self.review_view),
                     name="allocation_allocationplan_review"),
                path("import/job/<int:job_id>/", self.admin_site.admin_view(self.import_job_view),
                     name="allocation_allocationplan_import_job"),
                path("import/errors/<str:name>/", self.admin_site.admin_view(self.import_errors_view),
                     name="allocation_allocationplan_import_errors"),
                path("import/template.<str:file_format>", self.admin_site.admin_view(self.import_template_view),
                     name="allocation_allocationplan_import_template"),
                *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload -> a dry-run preview of every row (figures and errors, nothing saved; bounded by
        IMPORT_MAX_ROWS) -> confirm, which queues a job that saves all rows or none, in a worker, with
        its progress on the job's page. The upload waits under IMPORT_UPLOAD_DIR by a generated name
        between the two steps; a refused file is deleted at once."""
        if not request.user.has_perm("allocation.add_allocationplan"):
            raise PermissionDenied
        form = ImportForm(request.POST or None, request.FILES or None)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request), "title": _("Import an allocation plan"), "opts": self.model._meta,
            "form": form, "max_rows": settings.IMPORT_MAX_ROWS,
            "template_csv_url": reverse("admin:allocation_allocationplan_import_template", args=["csv"]),
            "template_xlsx_url": reverse("admin:allocation_allocationplan_import_template", args=["xlsx"]),
        }
        if request.method != "POST" or not form.is_valid():
            return TemplateResponse(request, "admin/allocation/import.html", context)
        data = form.cleaned_data
        upload = data["upload"]
        confirming = "confirm" in request.POST and not data["file"]
        true_up = data["kind"] == AllocationPlan.Kind.TRUE_UP
        issue_percent = Decimal(100) if true_up else data["issue_percent"]
        try:
            upload, source_name, stored = import_jobs.upload_chosen(data["file"], upload, request.POST.get("source_name", ""))
            if stored is None:
                form.add_error("file", _("Choose a file to import."))
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
            context["refused"] = [import_preview.error_text(error) for error in refused.errors]
            return TemplateResponse(request, "admin/allocation/import.html", context)
        except DomainError as error:
            if not confirming:
                import_jobs.upload_delete(upload)  # a refused file is not kept
            form.add_error(None, error.message)
            return TemplateResponse(request, "admin/allocation/import.html", context)
        if not preview.ok:
            import_jobs.upload_delete(upload)  # refused: fix the file and upload it again
            upload = ""
            name = import_preview.error_file_store(request, rows, preview.errors)
            context["error_file_url"] = "{}?{}".format(
                reverse("admin:allocation_allocationplan_import_errors", args=[name]), urlencode({"source": source_name}))
        context.update(preview=preview, table=_preview_table(preview, true_up), upload=upload, true_up=true_up,
                       source_name=source_name)
        return TemplateResponse(request, "admin/allocation/import.html", context)

    def import_errors_view(self, request: HttpRequest, name: str) -> HttpResponse:
        """The error file of this session's last previews: the uploaded rows with an errors column."""
        if not request.user.has_perm("allocation.add_allocationplan"):
            raise PermissionDenied
        return import_preview.error_file_response(request, name, request.GET.get("source", ""))

    def import_template_view(self, request: HttpRequest, file_format: str) -> HttpResponse:
        """The header and an example row; the example is a unit this regulator may allocate to, when
        there is one, so that the template as it is imports cleanly."""
        if not request.user.has_perm("allocation.add_allocationplan"):
            raise PermissionDenied
        unit = (organizations_visible_to(request.user)
                .filter(kind=Organization.Kind.KEY_EMITTING_UNIT, status=Organization.Status.ACTIVE)
                .order_by("name", "pk").first())
        code = (EmittingUnit.objects.filter(organization=unit, sector="power").order_by("code").values_list("code", flat=True)
                .first() if unit else None) or "U1"
        example = [unit.uscc if unit else EXAMPLE_USCC, code, "power", "coal_gt300", 1_000_000, 50_000, "", 1]
        return import_preview.template_response(name="allocation-plan", file_format=file_format, header=UNIT_COLUMNS,
                                                example=example)

    def import_job_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        if not request.user.has_perm("allocation.add_allocationplan"):
            raise PermissionDenied
        return import_job_response(
            self, request, job_id, kind=ImportJob.Kind.ALLOCATION_PLAN, title=_("Saving an allocation plan"),
            done_url=lambda job: reverse("admin:allocation_allocationplan_change", args=[job.result["plan"]]))

    def has_maker_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("allocation.add_allocationplan")

    def has_checker_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("allocation.approve_allocationplan")

    def review_view(self, request: HttpRequest, object_id: str) -> HttpResponse:
        """The plan with its facts (totals by category and province, the maker and the maker's
        reason, the lines, searchable and paged) and the one decision open to this person: submit a
        draft (its maker), approve or reject a submitted plan (a checker who neither made nor
        submitted it). Every decision asks for a reason, which the history keeps."""
        plan = self.get_object(request, object_id)
        if plan is None:
            raise Http404
        maker = request.user.pk in (plan.created_by_id, plan.submitted_by_id)
        decisions = []
        if plan.status == AllocationPlan.Status.DRAFT and self.has_maker_permission(request):
            decisions = ["submit"]
        elif plan.status == AllocationPlan.Status.SUBMITTED and self.has_checker_permission(request) and not maker:
            decisions = ["approve", "reject"]
        form = ReasonForm(request.POST if request.method == "POST" else None)
        if request.method == "POST":
            decision = request.POST.get("decision")
            if decision not in decisions:
                raise PermissionDenied
            if form.is_valid():
                reason = form.cleaned_data["reason"]
                apply = {"submit": services.plan_submit, "approve": services.plan_approve, "reject": services.plan_reject}
                try:
                    done = apply[decision](plan=plan, actor=request.user, reason=reason)
                except DomainError as error:
                    self.message_user(request, error.message, messages.ERROR)
                else:
                    self.message_user(request, _decided_message(done), messages.SUCCESS)
                    return redirect("admin:allocation_allocationplan_review", plan.pk)
        lines = plan_lines(plan, request.GET.get("q", ""))
        page = Paginator(lines, REVIEW_LINES_PER_PAGE).get_page(request.GET.get("page"))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": _("Review %(plan)s") % {"plan": plan},
            "plan": plan,
            "totals": plan_totals(plan),
            "page": page,
            "search": request.GET.get("q", ""),
            "true_up": plan.kind == AllocationPlan.Kind.TRUE_UP,
            "decisions": decisions,
            "awaiting_other_checker": plan.status == AllocationPlan.Status.SUBMITTED and maker,
            "form": form,
            "history": _history(plan),
            "transfers": Transfer.objects.filter(reference=f"plan:{plan.pk}").count(),
        }
        return TemplateResponse(request, "admin/allocation/allocationplan/review.html", context)


REVIEW_LINES_PER_PAGE = 50


def _shown(value: Any) -> str | None:
    return None if value is None else f"{value:,}"


def _preview_table(preview: services.ImportPreview, true_up: bool) -> import_preview.PreviewTable:
    """The preview's rows in file order: the unit, its inputs and what the plan would do with it."""
    columns = [_("USCC"), _("Unit"), _("Unit code"), _("Unit category"), _("Method"), _("Electricity (MWh)"), _("Heat (GJ)"),
               _("Product output (t)"), _("Correction factor"), _("Allocation (t)")]
    if true_up:
        columns += [_("Issued before (t)"), _("Claw back (t)")]
    columns += [_("Deducted (t)"), _("Issued now (t)")]

    def cells(line: services.PreviewLine) -> list[Any]:
        shown = [line.uscc[:40], line.organization.name if line.organization else None, line.unit_code or None,
                 line.unit_category, line.method, _shown(line.electricity_mwh), _shown(line.heat_gj),
                 _shown(line.product_output_t), _shown(line.correction_factor), _shown(line.computed_allocation)]
        if true_up:
            shown += [_shown(line.issued_before), _shown(line.clawback_amount)]
        return [*shown, _shown(line.deduction_amount), _shown(line.issue_amount)]

    return import_preview.preview_table(columns, ((line.row, cells(line)) for line in preview.lines), preview.errors)


def _decided_message(plan: AllocationPlan) -> str:
    if plan.status == AllocationPlan.Status.ISSUED:
        return _("Plan %(id)s approved: %(issue)s t issued to %(units)s units%(clawback)s.") % {
            "id": plan.pk, "issue": f"{plan.total_issue:,}", "units": f"{plan.lines.filter(issue_amount__gt=0).count():,}",
            "clawback": _(", %(t)s t taken back") % {"t": f"{plan.total_clawback:,}"} if plan.total_clawback else "",
        }
    if plan.status == AllocationPlan.Status.SUBMITTED:
        return _("Plan %(id)s submitted for approval by a second national regulator.") % {"id": plan.pk}
    return _("Plan %(id)s rejected; nothing was issued.") % {"id": plan.pk}


def _history(plan: AllocationPlan) -> list[dict[str, Any]]:
    from core.models import AuditEvent

    events = AuditEvent.objects.filter(object_type="allocation.allocationplan", object_id=str(plan.pk)).order_by("id")
    return [{"at": event.created_at, "who": event.actor_label, "action": event.action,
             "reason": (event.after or {}).get("reason", "")} for event in events]


@admin.register(Deduction)
class DeductionAdmin(ReadOnlyAdmin):
    list_display = ["organization", "period", "tonnes", "remaining", "reason", "created_at"]
    units = {"tonnes": TONNES, "remaining": TONNES}
    list_filter = ["period", "organization__province"]
    search_fields = ["organization__name", "organization__uscc"]
    list_select_related = ["organization", "period"]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Deduction]:
        return super().get_queryset(request).filter(organization__in=organizations_visible_to(request.user))


@admin.register(AllocationCut)
class AllocationCutAdmin(ReadOnlyAdmin):
    """Entered by approved enforcement decisions (never changed or deleted); each plan of the period
    approved after it withholds its share."""

    list_display = ["organization", "period", "percent", "reason", "created_by", "created_at"]
    list_filter = ["period", "organization__province"]
    search_fields = ["organization__name", "organization__uscc"]
    list_select_related = ["organization", "period"]
    actions = None

    def get_queryset(self, request: HttpRequest) -> QuerySet[AllocationCut]:
        return super().get_queryset(request).filter(organization__in=organizations_visible_to(request.user))
