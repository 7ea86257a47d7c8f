"""Compliance pages: the compliance officer's surrender and emission reports, the verifier's queue
and the provincial regulator's confirmation queue. Views parse forms and call the services; a
refusal is shown next to its field, an object out of scope is a 404, a role without the right a 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.roles import Role
from accounts.selectors import user_roles
from allocation.models import CompliancePeriod
from compliance import forms, verification
from compliance.models import EmissionReport
from compliance.selectors import (
    obligation_of,
    regulator_queue,
    report_get_for,
    report_history,
    reports_visible_to,
    units_to_report,
    verifier_queue,
)
from compliance.services import officer_unit, surrender_create, unit_label
from core.errors import DomainError
from core.http import content_disposition
from core.views import signed_in_page
from registry.models import Account
from registry.selectors import account_balances

CONTENT_TYPES = {
    EmissionReport.AttachmentKind.PDF: "application/pdf",
    EmissionReport.AttachmentKind.XLSX: "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    EmissionReport.AttachmentKind.CSV: "text/csv",
}


def _attempt(form: forms.forms.Form, service: Callable[..., Any], **kwargs: Any) -> Any:
    """Calls a service; its refusal goes next to the form's field (None returned). 403/404 pass up."""
    try:
        return service(**kwargs)
    except DomainError as error:
        if error.status in (403, 404):
            raise
        forms.form_error(form, error)
        return None


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise HttpForbidden(_("Your role does not use this page."))


@signed_in_page
def index(request: HttpRequest) -> HttpResponse:
    """Each role's compliance page."""
    user = request.user
    if Role.COMPLIANCE_OFFICER in user_roles(user):
        return redirect("compliance-surrender")
    if user.has_perm("compliance.verify_emissionreport"):
        return redirect("compliance-verifier")
    if user.has_perm("compliance.view_emissionreport"):
        return redirect("compliance-regulator")
    raise HttpForbidden(_("Your role has no compliance page."))


# --- the company compliance officer ---


@signed_in_page
def surrender(request: HttpRequest) -> HttpResponse:
    organization = officer_unit(request.user, "compliance.surrender", _("surrender"))
    form = forms.SurrenderForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        done = _attempt(form, surrender_create, user=request.user, period=data["period"], asset=data["asset"],
                        quantity=data["quantity"], client_request_id=data["client_request_id"], blocks=data["blocks"])
        if done is not None:
            made, _created = done
            messages.success(request, _("Surrendered %(quantity)s t of %(asset)s for %(period)s.") % {
                "quantity": f"{made.quantity:,}", "asset": made.asset.code, "period": made.period.code})
            return redirect("compliance-surrender")
    obligations = [found for period in CompliancePeriod.objects.order_by("-first_year")
                   if (found := obligation_of(period, organization)) is not None]
    holding = Account.objects.filter(organization=organization, kind=Account.Kind.HOLDING).first()
    return render(request, "compliance/surrender.html", {
        "organization": organization, "form": form, "obligations": obligations,
        "balances": [b for b in account_balances(holding) if b.available] if holding else [],
        "reports": reports_visible_to(request.user).order_by("-period__first_year", "unit__code"),
        "to_report": units_to_report(organization),
    }, status=400 if form.errors else 200)


@signed_in_page
def report_new(request: HttpRequest) -> HttpResponse:
    organization = officer_unit(request.user, "compliance.add_emissionreport", _("file an emission report"))
    form = forms.EmissionReportForm(request.POST or None, request.FILES or None, organization=organization)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        period = CompliancePeriod.objects.get(code=data["period"])
        report = _attempt(form, verification.emission_report_file, user=request.user, period=period,
                          emissions=data["emissions"], attachment=data["attachment"], unit=data.get("unit", ""))
        if report is not None:
            messages.success(request, _("The emission report of unit %(unit)s for %(period)s is filed.") % {
                "unit": report.unit.code, "period": period.code})
            return redirect("compliance-report", report_id=report.pk)
    return render(request, "compliance/report_new.html", {"form": form}, status=400 if form.errors else 200)


def _may_object(user: Any, report: EmissionReport) -> bool:
    return (Role.COMPLIANCE_OFFICER in user_roles(user) and report.objected_at is None
            and report.status in (EmissionReport.Status.VERIFIED, EmissionReport.Status.CONFIRMED)
            and report.objection_due is not None and timezone.localdate() <= report.objection_due)


def _report_page(request: HttpRequest, report: EmissionReport, objection: forms.ObjectionForm | None = None) -> HttpResponse:
    return render(request, "compliance/report_detail.html", {
        "report": report, "history": report_history(report),
        "objection": objection or (forms.ObjectionForm() if _may_object(request.user, report) else None),
    }, status=400 if objection is not None and objection.errors else 200)


@signed_in_page
def report_detail(request: HttpRequest, report_id: int) -> HttpResponse:
    return _report_page(request, report_get_for(request.user, report_id))


@signed_in_page
def report_file(request: HttpRequest, report_id: int) -> HttpResponse:
    report = report_get_for(request.user, report_id)
    response = FileResponse(report.attachment.open("rb"), content_type=CONTENT_TYPES[report.attachment_kind])
    # The uploader's name, made safe (RFC 6266: an ASCII name and a UTF-8 filename*), with the kind's extension.
    response["Content-Disposition"] = content_disposition(report.attachment_name, extension=report.attachment_kind)
    return response


@require_POST
@signed_in_page
def report_object(request: HttpRequest, report_id: int) -> HttpResponse:
    report = report_get_for(request.user, report_id)
    form = forms.ObjectionForm(request.POST)
    if form.is_valid() and _attempt(form, verification.emission_report_object, user=request.user, report=report,
                                    reason=form.cleaned_data["reason"]) is not None:
        messages.success(request, _("Your objection is recorded; the regulator decides it."))
        return redirect("compliance-report", report_id=report.pk)
    report.refresh_from_db()
    return _report_page(request, report, form)


# --- the verifier ---


def _verifier_page(request: HttpRequest, failed: tuple[int, forms.VerifyForm] | None = None) -> HttpResponse:
    rows = []
    for assignment, reports, missing in verifier_queue(request.user):
        with_forms = []
        for report in reports:
            form = None
            if report.status == EmissionReport.Status.FILED:
                form = failed[1] if failed and failed[0] == report.pk else forms.VerifyForm(prefix=f"r{report.pk}")
            with_forms.append((report, form))
        rows.append((assignment, with_forms, missing))
    return render(request, "compliance/verifier.html", {"rows": rows}, status=400 if failed else 200)


@signed_in_page
def verifier(request: HttpRequest) -> HttpResponse:
    _require(request, "compliance.verify_emissionreport")
    return _verifier_page(request)


@require_POST
@signed_in_page
def report_verify(request: HttpRequest, report_id: int) -> HttpResponse:
    _require(request, "compliance.verify_emissionreport")
    report = report_get_for(request.user, report_id)
    form = forms.VerifyForm(request.POST, prefix=f"r{report.pk}")
    if form.is_valid() and _attempt(form, verification.emission_report_verify, user=request.user, report=report,
                                    verified_emissions=form.cleaned_data["verified_emissions"],
                                    note=form.cleaned_data["note"]) is not None:
        messages.success(request, _("Verified emissions of %(unit)s entered.") % {"unit": unit_label(report.unit)})
        return redirect("compliance-verifier")
    return _verifier_page(request, (report.pk, form))


# --- the provincial regulator ---


def _regulator_page(request: HttpRequest, failed: tuple[int, forms.forms.Form] | None = None) -> HttpResponse:
    """The reports waiting for a provincial regulator. Those who confirm get the forms; the national
    regulator and auditors, who see every province, follow the queue without acting on it."""
    rows = []
    deciding = request.user.has_perm("compliance.confirm_emissionreport")
    for report in regulator_queue(request.user):
        form = None
        if deciding and report.status == EmissionReport.Status.OBJECTED:
            form = failed[1] if failed and failed[0] == report.pk else forms.DecisionForm(prefix=f"r{report.pk}")
        confirm_errors = failed[1].non_field_errors() if failed and failed[0] == report.pk and form is None else []
        rows.append((report, form, confirm_errors))
    return render(request, "compliance/regulator.html", {"rows": rows, "deciding": deciding, "today": timezone.localdate()},
                  status=400 if failed else 200)


@signed_in_page
def regulator(request: HttpRequest) -> HttpResponse:
    _require(request, "compliance.view_emissionreport")
    return _regulator_page(request)


@require_POST
@signed_in_page
def report_confirm(request: HttpRequest, report_id: int) -> HttpResponse:
    _require(request, "compliance.confirm_emissionreport")
    report = report_get_for(request.user, report_id)
    form = forms.forms.Form(request.POST)
    if _attempt(form, verification.emission_report_confirm, user=request.user, report=report) is not None:
        messages.success(request, _("Verified emissions of %(unit)s confirmed.") % {"unit": unit_label(report.unit)})
        return redirect("compliance-regulator")
    return _regulator_page(request, (report.pk, form))


@require_POST
@signed_in_page
def report_decide(request: HttpRequest, report_id: int) -> HttpResponse:
    _require(request, "compliance.confirm_emissionreport")
    report = report_get_for(request.user, report_id)
    form = forms.DecisionForm(request.POST, prefix=f"r{report.pk}")
    if form.is_valid() and _attempt(form, verification.emission_report_decide, user=request.user, report=report,
                                    decision=form.cleaned_data["decision"],
                                    corrected_emissions=form.cleaned_data["corrected_emissions"],
                                    note=form.cleaned_data["note"]) is not None:
        messages.success(request, _("The objection of %(unit)s is decided.") % {"unit": report.organization.name})
        return redirect("compliance-regulator")
    return _regulator_page(request, (report.pk, form))
