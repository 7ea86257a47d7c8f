"""Enforcement pages: the regulators' cases and decisions (propose, approve, reject; a halt's lift
proposed, approved or rejected), the
companies' own decisions and disclosures, and the archive export of a period. Views parse forms and
call the services; a refusal is shown next to its field, an object out of scope is a 404, a role
without the right a 403."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.models import Organization
from accounts.selectors import organizations_visible_to
from allocation.models import CompliancePeriod
from compliance.forms import form_error
from core.errors import DomainError
from core.views import signed_in_page
from enforcement import forms, services
from enforcement.models import Decision
from enforcement.selectors import (
    case_get_for,
    cases_visible_to,
    decision_get_for,
    decisions_visible_to,
    disclosure_get_for,
    disclosures_visible_to,
    halts_in_force,
    history,
)
from reports.export_jobs import archive_job_start


def _attempt(form: Any, service: Callable[..., Any], **kwargs: Any) -> Any:
    """Calls a service; its refusal goes next to the form's field (None returned). 403/404 pass up."""
    try:
        return service(**kwargs)
    except DomainError as error:
        if error.status in (403, 404):
            raise
        form_error(form, error)
        return None


def _act(request: HttpRequest, service: Callable[..., Any], done: str, **kwargs: Any) -> None:
    """Calls a service for a one-button form: its refusal (or `done`) becomes the next page's message;
    403/404 pass up."""
    try:
        service(**kwargs)
    except DomainError as error:
        if error.status in (403, 404):
            raise
        messages.error(request, error.message)
    else:
        messages.success(request, done)


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise HttpForbidden(_("Your role does not use this page."))


def _organization(request: HttpRequest, pk: int) -> Organization:
    organization = organizations_visible_to(request.user).filter(pk=pk).first()
    if organization is None:
        raise Http404(_("No such organization."))
    return organization


@signed_in_page
def index(request: HttpRequest) -> HttpResponse:
    """Regulators and auditors: cases, decisions (filtered by status and organization) and the halts
    in force within their scope. A company's users: its own decisions (its enforcement history) and
    disclosures."""
    user = request.user
    decisions = decisions_visible_to(user)
    status = request.GET.get("status") or ""
    if status in Decision.Status.values:
        decisions = decisions.filter(status=status)
    organization = request.GET.get("organization") or ""
    if organization.isdigit():
        decisions = decisions.filter(organization_id=int(organization))
    visible = set(organizations_visible_to(user).values_list("pk", flat=True))
    return render(request, "enforcement/index.html", {
        "reads_all": user.has_perm("enforcement.view_decision"),
        "decisions": decisions[:200], "status": status, "statuses": Decision.Status.choices,
        "cases": cases_visible_to(user)[:100],
        "halts": [d for org, d in halts_in_force().items() if org in visible],
        "disclosures": disclosures_visible_to(user).order_by("-period__first_year", "organization__name")[:200],
        "confirming": user.has_perm("enforcement.confirm_disclosure"),
        "archive_form": forms.ArchiveForm() if user.has_perm("compliance.view_complianceresult") else None,
    })


@signed_in_page
def case_new(request: HttpRequest) -> HttpResponse:
    _require(request, "enforcement.add_fraudcase")
    form = forms.CaseForm(request.POST or None, organizations=organizations_visible_to(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        case = _attempt(form, services.case_open, actor=request.user, organization=_organization(request, data["organization"]),
                        subject=data["subject"], period=CompliancePeriod.objects.get(pk=data["period"]),
                        summary=data["summary"], gains=data["gains"] or 0)
        if case is not None:
            messages.success(request, _("Case %(id)s opened.") % {"id": case.pk})
            return redirect("enforcement-case", case_id=case.pk)
    return render(request, "enforcement/case_new.html", {"form": form}, status=400 if form.errors else 200)


@signed_in_page
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = case_get_for(request.user, case_id)
    return render(request, "enforcement/case_detail.html", {
        "case": case, "decisions": case.decisions.select_related("organization").order_by("id"), "history": history(case)})


@require_POST
@signed_in_page
def case_close(request: HttpRequest, case_id: int) -> HttpResponse:
    _require(request, "enforcement.add_fraudcase")
    case = case_get_for(request.user, case_id)
    _act(request, services.case_close, _("Case %(id)s closed.") % {"id": case.pk}, actor=request.user, case=case,
         note=request.POST.get("note", ""))
    return redirect("enforcement-case", case_id=case.pk)


@signed_in_page
def decision_new(request: HttpRequest) -> HttpResponse:
    _require(request, "enforcement.add_decision")
    initial = {name: request.GET[name] for name in ("kind", "organization", "period", "case") if request.GET.get(name)}
    form = forms.DecisionForm(request.POST or None, initial=initial, organizations=organizations_visible_to(request.user),
                              cases=cases_visible_to(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        case = case_get_for(request.user, data["case"]) if data["case"] else None
        decision = _attempt(
            form, services.decision_propose, actor=request.user, kind=data["kind"],
            organization=_organization(request, data["organization"]), period=CompliancePeriod.objects.get(pk=data["period"]),
            legal_basis=data["legal_basis"], facts=data["facts"], amount=data["amount"], quantity=data["quantity"],
            percent=data["percent"], individual_name=data["individual_name"], case=case)
        if decision is not None:
            messages.success(request, _("Decision %(reference)s proposed; a second regulator approves it.") % {
                "reference": decision.reference})
            return redirect("enforcement-decision", decision_id=decision.pk)
    return render(request, "enforcement/decision_new.html", {"form": form}, status=400 if form.errors else 200)


def _decision_page(request: HttpRequest, decision: Decision, failed: forms.NoteForm | None = None) -> HttpResponse:
    user = request.user
    checker = user.has_perm("enforcement.approve_decision") and user.pk != decision.proposed_by_id
    return render(request, "enforcement/decision_detail.html", {
        "decision": decision, "history": history(decision),
        "may_decide": checker and decision.status == Decision.Status.PROPOSED,
        "may_lift": (user.has_perm("enforcement.approve_decision") and decision.status == Decision.Status.APPROVED
                     and decision.kind == Decision.Kind.PRODUCTION_HALT),
        "may_decide_lift": (user.has_perm("enforcement.approve_decision") and decision.status == Decision.Status.LIFTING
                            and user.pk != decision.lift_proposed_by_id),
        "form": failed or forms.NoteForm(),
        "surrenders": decision.organization.surrenders.filter(client_request_id__startswith=f"{decision.reference}:")
        .select_related("asset", "transfer").order_by("id"),
    }, status=400 if failed is not None else 200)


@signed_in_page
def decision_detail(request: HttpRequest, decision_id: int) -> HttpResponse:
    return _decision_page(request, decision_get_for(request.user, decision_id))


def _decide(service: Callable[..., Any], done: str) -> Callable[..., HttpResponse]:
    @require_POST
    @signed_in_page
    def view(request: HttpRequest, decision_id: int) -> HttpResponse:
        _require(request, "enforcement.approve_decision")
        decision = decision_get_for(request.user, decision_id)
        form = forms.NoteForm(request.POST)
        if form.is_valid() and _attempt(form, service, actor=request.user, decision=decision,
                                        note=form.cleaned_data["note"]) is not None:
            messages.success(request, done % {"reference": decision.reference})
            return redirect("enforcement-decision", decision_id=decision.pk)
        return _decision_page(request, decision, form)

    return view


decision_approve = _decide(services.decision_approve, gettext_lazy("Decision %(reference)s approved and carried out."))
decision_reject = _decide(services.decision_reject, gettext_lazy("Decision %(reference)s rejected."))
decision_lift = _decide(services.halt_lift_propose,
                        gettext_lazy("Lifting the production halt %(reference)s proposed; a second regulator approves it."))
decision_lift_approve = _decide(services.halt_lift, gettext_lazy("The production halt %(reference)s is lifted."))
decision_lift_reject = _decide(services.halt_lift_reject,
                               gettext_lazy("The lift of %(reference)s is rejected: the production halt stays in force."))


# --- disclosure ---


@signed_in_page
def disclosure(request: HttpRequest) -> HttpResponse:
    """The compliance officer's annual disclosure (Art. 11): submit, or correct while not yet published."""
    _require(request, "enforcement.add_disclosure")
    form = forms.DisclosureForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        made = _attempt(form, services.disclosure_submit, user=request.user,
                        period=CompliancePeriod.objects.get(pk=data["period"]), emissions=data["emissions"],
                        facilities=data["facilities"], methods=data["methods"])
        if made is not None:
            messages.success(request, _("Your %(period)s disclosure is submitted; a regulator confirms it before it is published.")
                             % {"period": made.period.code})
            return redirect("enforcement-disclosure")
    return render(request, "enforcement/disclosure.html", {
        "form": form, "disclosures": disclosures_visible_to(request.user).order_by("-period__first_year")},
        status=400 if form.errors else 200)


@require_POST
@signed_in_page
def disclosure_confirm(request: HttpRequest, disclosure_id: int) -> HttpResponse:
    _require(request, "enforcement.confirm_disclosure")
    disclosure = disclosure_get_for(request.user, disclosure_id)
    _act(request, services.disclosure_confirm, _("The disclosure of %(unit)s is published.") % {"unit": disclosure.organization.name},
         actor=request.user, disclosure=disclosure)
    return redirect("enforcement-index")


@require_POST
@signed_in_page
def disclosure_return(request: HttpRequest, disclosure_id: int) -> HttpResponse:
    _require(request, "enforcement.confirm_disclosure")
    disclosure = disclosure_get_for(request.user, disclosure_id)
    _act(request, services.disclosure_return,
         _("The disclosure of %(unit)s is returned for correction.") % {"unit": disclosure.organization.name},
         actor=request.user, disclosure=disclosure, note=request.POST.get("note", ""))
    return redirect("enforcement-index")


# --- the archive ---


@require_POST
@signed_in_page
def archive(request: HttpRequest) -> HttpResponse:
    """Starts the archive export of a period (a zip made by a worker) and shows the job's page."""
    _require(request, "compliance.view_complianceresult")
    form = forms.ArchiveForm(request.POST)
    if not form.is_valid():
        messages.error(request, _("Choose a compliance period."))
        return redirect("enforcement-index")
    job = archive_job_start(user=request.user, period=form.cleaned_data["period"])
    return redirect("reports-export-job", job_id=job.pk)
