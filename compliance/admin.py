from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html_join
from django.utils.http import urlencode
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy
from django.utils.translation import gettext as _

from accounts.models import Organization, User
from accounts.roles import Role
from accounts.selectors import organizations_visible_to
from allocation.models import CompliancePeriod, EmittingUnit
from compliance.models import ComplianceResult, EmissionReport, Surrender, VerifiedEmission, VerifierAssignment
from compliance.selectors import unit_text
from compliance.services import VERIFIED_UNIT_COLUMNS, verified_emissions_check, verified_required
from compliance.verification import verifier_assign
from core import import_jobs, import_preview
from core.admin import COUNT, TONNES, YUAN, ReadOnlyAdmin, UnitsAdmin, import_job_response
from core.errors import DomainError
from core.import_preview import EXAMPLE_USCC
from core.imports import read_table
from core.models import ImportJob


class ScopedReadOnlyAdmin(ReadOnlyAdmin):
    list_select_related = ["organization", "period"]
    search_fields = ["organization__name", "organization__uscc"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(organization__in=organizations_visible_to(request.user))


class VerifiedImportForm(forms.Form):
    period = forms.ModelChoiceField(label=gettext_lazy("Compliance period"), queryset=CompliancePeriod.objects.all())
    file = forms.FileField(label=gettext_lazy("File"), required=False,
                           help_text=gettext_lazy("CSV or XLSX: uscc,verified_emissions"))
    upload = forms.CharField(required=False, widget=forms.HiddenInput)


@admin.register(VerifiedEmission)
class VerifiedEmissionAdmin(ScopedReadOnlyAdmin):
    list_display = ["organization", "unit", "period", "tonnes", "co2_t", "cf4_t", "c2f6_t", "confirmed_by", "confirmed_at", "source"]
    units = {"tonnes": TONNES}
    list_filter = ["period", "organization__province"]

    def get_urls(self) -> list[Any]:
        return [path("import/", self.admin_site.admin_view(self.import_view), name="compliance_verifiedemission_import"),
                path("import/job/<int:job_id>/", self.admin_site.admin_view(self.import_job_view),
                     name="compliance_verifiedemission_import_job"),
                path("import/errors/<str:name>/", self.admin_site.admin_view(self.import_errors_view),
                     name="compliance_verifiedemission_import_errors"),
                path("import/template.<str:file_format>", self.admin_site.admin_view(self.import_template_view),
                     name="compliance_verifiedemission_import_template"),
                *super().get_urls()]

    def import_view(self, request: HttpRequest) -> HttpResponse:
        """Upload -> a preview of every row (nothing saved; bounded by IMPORT_MAX_ROWS) -> confirm, which
        queues a job recording every row or none (core.import_jobs), its progress on a page."""
        if not request.user.has_perm("compliance.add_verifiedemission"):
            raise PermissionDenied
        form = VerifiedImportForm(request.POST or None, request.FILES or None)
        context: dict[str, Any] = {
            **self.admin_site.each_context(request), "title": _("Import verified emissions"), "opts": self.model._meta,
            "form": form, "max_rows": settings.IMPORT_MAX_ROWS,
            "template_csv_url": reverse("admin:compliance_verifiedemission_import_template", args=["csv"]),
            "template_xlsx_url": reverse("admin:compliance_verifiedemission_import_template", args=["xlsx"]),
        }
        template = "admin/compliance/verified_import.html"
        if request.method != "POST" or not form.is_valid():
            return TemplateResponse(request, template, context)
        data = form.cleaned_data
        upload = data["upload"]
        confirming = "confirm" in request.POST and not data["file"]
        try:
            upload, source_name, stored = import_jobs.upload_chosen(data["file"], upload, request.POST.get("source_name", ""))
            if stored is None:
                form.add_error("file", gettext("Choose a file to import."))
                return TemplateResponse(request, template, context)
            if confirming:
                job = import_jobs.import_job_start(kind=ImportJob.Kind.VERIFIED_EMISSIONS, upload=upload,
                                                   source_name=source_name, params={"period": data["period"].pk},
                                                   user=request.user)
                return redirect("admin:compliance_verifiedemission_import_job", job.pk)
            with stored.open("rb") as stream:
                rows = read_table(stream, stored.name, required=verified_required, columns=VERIFIED_UNIT_COLUMNS)
            lines, problems = verified_emissions_check(period=data["period"], rows=rows, actor=request.user)
        except DomainError as error:
            if not confirming:
                import_jobs.upload_delete(upload)  # a refused file is not kept
            form.add_error(None, error.message)
            return TemplateResponse(request, template, context)
        if problems:
            import_jobs.upload_delete(upload)  # refused: fix the file and upload it again
            upload = ""
            name = import_preview.error_file_store(request, rows, problems)
            context["error_file_url"] = "{}?{}".format(
                reverse("admin:compliance_verifiedemission_import_errors", args=[name]), urlencode({"source": source_name}))
        table = import_preview.preview_table(
            [_("USCC"), _("Unit"), _("Unit code"), _("Verified emissions (t)")],
            ((line.row, [line.uscc[:40], line.organization.name if line.organization else None, line.unit_code or None,
                         None if line.tonnes is None else f"{line.tonnes:,}"]) for line in lines),
            problems)
        context.update(table=table, upload=upload, source_name=source_name, total=sum(line.tonnes or 0 for line in lines))
        return TemplateResponse(request, template, context)

    def import_errors_view(self, request: HttpRequest, name: str) -> HttpResponse:
        if not request.user.has_perm("compliance.add_verifiedemission"):
            raise PermissionDenied
        return import_preview.error_file_response(request, name, request.GET.get("source", ""))

    def import_template_view(self, request: HttpRequest, file_format: str) -> HttpResponse:
        """The header and an example row (a unit this regulator may record, when there is one)."""
        if not request.user.has_perm("compliance.add_verifiedemission"):
            raise PermissionDenied
        unit = (organizations_visible_to(request.user).filter(kind=Organization.Kind.KEY_EMITTING_UNIT)
                .order_by("name", "pk").first())
        first_unit = (EmittingUnit.objects.filter(organization=unit).order_by("code").values_list("code", "sector").first()
                      if unit else None) or ("U1", "power")
        return import_preview.template_response(name="verified-emissions", file_format=file_format,
                                                header=VERIFIED_UNIT_COLUMNS,
                                                example=[unit.uscc if unit else EXAMPLE_USCC, *first_unit, 250_000, "", "", ""])

    def import_job_view(self, request: HttpRequest, job_id: int) -> HttpResponse:
        if not request.user.has_perm("compliance.add_verifiedemission"):
            raise PermissionDenied
        return import_job_response(self, request, job_id, kind=ImportJob.Kind.VERIFIED_EMISSIONS,
                                   title=gettext("Recording verified emissions"),
                                   done_url=lambda job: reverse("admin:compliance_verifiedemission_changelist"))


@admin.register(Surrender)
class SurrenderAdmin(ScopedReadOnlyAdmin):
    list_display = ["organization", "period", "asset", "quantity", "created_by", "created_at"]
    units = {"quantity": TONNES}
    list_filter = ["period", "asset", "organization__province"]


@admin.register(ComplianceResult)
class ComplianceResultAdmin(ScopedReadOnlyAdmin):
    list_display = ["organization", "period", "status", "obligation", "surrendered_allowances", "surrendered_offsets",
                    "shortfall", "fine_basis_low", "fine_basis_high", "deduction_entered"]
    units = {"allocated": TONNES, "verified_emissions": TONNES, "obligation": TONNES, "surrendered_allowances": TONNES,
             "surrendered_offsets": TONNES, "shortfall": TONNES, "fine_basis_low": YUAN, "fine_basis_high": YUAN}
    list_filter = ["period", "status", "organization__province"]

    @admin.display(description=gettext_lazy("units"))
    def units_shown(self, result: ComplianceResult) -> str:
        """The per-unit breakdown, one unit a line."""
        return format_html_join(mark_safe("<br>"), "{}", ((unit_text(unit),) for unit in result.units)) or "—"


@admin.register(EmissionReport)
class EmissionReportAdmin(ScopedReadOnlyAdmin):
    """Read-only: reports move through the pages under /compliance/ (file, verify, object, confirm)."""

    list_display = ["organization", "unit", "period", "status", "emissions", "verified_emissions", "filed_at", "verified_at",
                    "objection_due", "confirmed_at"]
    units = {"emissions": TONNES, "verified_emissions": TONNES, "attachment_size": COUNT}
    list_filter = ["period", "status", "organization__province"]
    list_select_related = ["organization", "unit", "period"]


class VerifierAssignmentForm(forms.ModelForm):
    class Meta:
        model = VerifierAssignment
        fields = ["period", "organization", "verifier"]

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        if "organization" in self.fields:  # (read-only once assigned)
            self.fields["organization"].queryset = Organization.objects.filter(kind=Organization.Kind.KEY_EMITTING_UNIT)
        if "verifier" in self.fields:  # (absent for a user who may only view)
            self.fields["verifier"].queryset = User.objects.filter(groups__name=Role.VERIFIER).order_by("username")

    def validate_unique(self) -> None:
        """Assigning again replaces the verifier (verifier_assign decides); no duplicate error here."""


@admin.register(VerifierAssignment)
class VerifierAssignmentAdmin(UnitsAdmin):
    """A regulator assigns (or replaces) a unit's verifier for a period, through verifier_assign."""

    form = VerifierAssignmentForm
    list_display = ["organization", "period", "verifier", "assigned_by", "assigned_at"]
    list_filter = ["period", "organization__province"]
    list_select_related = ["organization", "period", "verifier", "assigned_by"]
    search_fields = ["organization__name", "organization__uscc", "verifier__username"]
    raw_id_fields = ["organization"]

    def get_queryset(self, request: HttpRequest) -> QuerySet:
        return super().get_queryset(request).filter(organization__in=organizations_visible_to(request.user))

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: object = None) -> list[str]:
        return self.readonly_with_shown(["period", "organization"] if obj else [], obj)

    def save_model(self, request: HttpRequest, obj: VerifierAssignment, form: forms.ModelForm, change: bool) -> None:
        try:
            saved = verifier_assign(period=obj.period, organization=obj.organization, verifier=obj.verifier,
                                    actor=request.user)
        except DomainError as error:
            # The admin has no form-error hook at this point: say it and keep what was there.
            messages.error(request, f"{error.code}: {error.message}")
            request.assignment_refused = True  # type: ignore[attr-defined]
            return
        obj.pk = saved.pk

    def response_add(self, request: HttpRequest, obj: VerifierAssignment, post_url_continue: str | None = None) -> HttpResponse:
        if getattr(request, "assignment_refused", False):  # back to the form, the message says why
            return HttpResponseRedirect(request.path)
        return super().response_add(request, obj, post_url_continue)

    def response_change(self, request: HttpRequest, obj: VerifierAssignment) -> HttpResponse:
        if getattr(request, "assignment_refused", False):
            return HttpResponseRedirect(request.path)
        return super().response_change(request, obj)
