"""The offset registry's pages: public (projects, a project's credits, search by serial number, a
cancellation certificate's verification), the company's (my projects and credits, cancel with a
certificate) and the national regulator's (methodologies, projects, issuance proposed and approved by
two people). Views parse forms and call the services; a refusal is shown next to its field."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied as HttpForbidden
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.selectors import user_organization_ids
from core.errors import DomainError
from core.http import content_disposition
from offsets import forms, selectors, services
from offsets.models import Issuance, Methodology, Project
from registry.models import Account, Asset, Balance


def _attempt(form: forms.forms.Form, service: Callable[..., Any], **kwargs: Any) -> Any:
    """Calls a service; its refusal goes next to the form's field (None returned). 403/404 pass up."""
    try:
        return service(**kwargs)
    except DomainError as error:
        if error.status == 404:
            raise Http404(error.message) from None
        if error.status == 403 and error.code != "maker_checker":
            raise HttpForbidden(error.message) from None
        forms.form_error(form, error)
        return None


# --- public ---


def index(request: HttpRequest) -> HttpResponse:
    """Every registered project with its issued, retired and remaining credits, and the serial search."""
    projects = [(project, selectors.project_figures(project)) for project in selectors.public_projects()]
    return render(request, "offsets/index.html", {"projects": projects, "search": forms.SerialSearchForm()})


def project_detail(request: HttpRequest, identifier: str) -> HttpResponse:
    try:
        project = selectors.project_get(identifier)
    except DomainError as error:
        raise Http404(error.message) from None
    issuances = project.issuances.filter(status=Issuance.Status.ISSUED).order_by("vintage", "first_serial")
    return render(request, "offsets/project.html", {
        "project": project, "figures": selectors.project_figures(project), "issuances": issuances,
    })


def serial_search(request: HttpRequest) -> HttpResponse:
    form = forms.SerialSearchForm(request.GET or None)
    trace = None
    if form.is_bound and form.is_valid():
        try:
            trace = selectors.serial_trace(form.cleaned_data["serial"])
        except DomainError as error:
            forms.form_error(form, error)
    return render(request, "offsets/serial.html", {"search": form, "trace": trace}, status=400 if form.errors else 200)


def certificate_detail(request: HttpRequest, number: str) -> HttpResponse:
    """The public verification of a cancellation (the URL printed on its certificate)."""
    try:
        certificate = selectors.certificate_get(number)
    except DomainError as error:
        raise Http404(error.message) from None
    return render(request, "offsets/certificate.html", {
        "certificate": certificate, "ranges": selectors.certificate_ranges(certificate),
        "verification_url": request.build_absolute_uri(reverse("offsets-certificate", args=[certificate.number])),
    })


@login_required
def certificate_pdf(request: HttpRequest, number: str) -> HttpResponse:
    """The certificate as a PDF, for the organization that cancelled (others verify the public page)."""
    try:
        certificate = selectors.certificate_get(number)
    except DomainError as error:
        raise Http404(error.message) from None
    if certificate.organization_id not in _organization_ids(request.user):
        raise Http404(_("No such certificate."))
    from reports.pdf_worker import pdf_from_html  # imported on use: it loads Pango, which only PDFs need

    html = render_to_string("offsets/certificate_pdf.html", {
        "certificate": certificate, "ranges": selectors.certificate_ranges(certificate),
        "verification_url": request.build_absolute_uri(reverse("offsets-certificate", args=[certificate.number])),
    }, request=request)
    response = HttpResponse(pdf_from_html(html), content_type="application/pdf")
    response["Content-Disposition"] = content_disposition(certificate.number, extension="pdf", inline=True)
    return response


def _organization_ids(user: Any) -> set[int]:
    return set(user_organization_ids(user))


# --- the company ---


def _company_page(request: HttpRequest, form: forms.CancellationForm | None = None, status: int = 200) -> HttpResponse:
    try:
        organization = services.holder_unit(request.user)
    except DomainError as error:
        raise HttpForbidden(error.message) from None
    holding = Account.objects.filter(organization=organization, kind=Account.Kind.HOLDING).first()
    balances = list(Balance.objects.filter(account=holding, asset__kind__in=[Asset.Kind.ALLOWANCE, Asset.Kind.OFFSET])
                    .select_related("asset").order_by("asset__kind", "asset__code")) if holding else []
    return render(request, "offsets/mine.html", {
        "organization": organization, "holding": holding, "balances": [b for b in balances if b.total],
        "blocks": selectors.blocks_held(holding) if holding else [],
        "projects": selectors.projects_of(organization.pk),
        "certificates": selectors.certificates_of(organization.pk)[:50],
        "form": form or forms.CancellationForm(),
    }, status=status)


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    return _company_page(request)


@login_required
@require_POST
def cancel(request: HttpRequest) -> HttpResponse:
    form = forms.CancellationForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        done = _attempt(form, services.cancellation_create, user=request.user, asset=data["asset"], quantity=data["quantity"],
                        purpose=data["purpose"], beneficiary=data["beneficiary"], blocks=data["blocks"],
                        client_request_id=data["client_request_id"])
        if done is not None:
            certificate, _created = done
            messages.success(request, _("Cancelled %(quantity)s t of %(asset)s: certificate %(number)s.") % {
                "quantity": f"{certificate.quantity:,}", "asset": certificate.asset.code, "number": certificate.number})
            return redirect("offsets-certificate", number=certificate.number)
    return _company_page(request, form, status=400)


# --- the national regulator ---


def _require(request: HttpRequest, permission: str) -> None:
    if not request.user.has_perm(permission):
        raise HttpForbidden(_("Your role does not use this page."))


def _regulator_page(request: HttpRequest, status: int = 200, **bound: Any) -> HttpResponse:
    _require(request, "offsets.add_issuance")
    return render(request, "offsets/regulator.html", {
        "methodologies": Methodology.objects.order_by("code"),
        "projects": Project.objects.select_related("owner", "methodology").order_by("identifier"),
        "pending": selectors.issuances_pending(),
        "issued": Issuance.objects.exclude(status=Issuance.Status.PROPOSED).select_related("project", "proposed_by", "decided_by")[:50],
        "methodology_form": bound.get("methodology_form") or forms.MethodologyForm(prefix="methodology"),
        "project_form": bound.get("project_form") or forms.ProjectForm(prefix="project"),
        "issuance_form": bound.get("issuance_form") or forms.IssuanceForm(prefix="issuance"),
        "decision_form": bound.get("decision_form") or forms.DecisionForm(),
        "status_form": bound.get("status_form"),
        "statuses": Project.Status.choices,
    }, status=status)


@login_required
def regulator(request: HttpRequest) -> HttpResponse:
    return _regulator_page(request)


# The regulator page's forms: (permission, form, service, success message).
REGULATOR_FORMS: dict[str, tuple[str, type[forms.forms.Form], Callable[..., Any], Callable[[Any], str]]] = {
    "methodology": ("offsets.add_methodology", forms.MethodologyForm, services.methodology_create,
                    lambda made: _("Methodology %(code)s added.") % {"code": made.code}),
    "project": ("offsets.add_project", forms.ProjectForm, services.project_register,
                lambda made: _("Project %(identifier)s registered.") % {"identifier": made.identifier}),
    "issuance": ("offsets.add_issuance", forms.IssuanceForm, services.issuance_propose,
                 lambda made: _("Issuance %(id)s proposed: another regulator must approve it.") % {"id": made.pk}),
}


@login_required
@require_POST
def regulator_form(request: HttpRequest, form: str) -> HttpResponse:
    """One of the regulator page's forms: back to the page with a message, or the page again with the
    refusal next to its field."""
    permission, form_class, service, done = REGULATOR_FORMS[form]
    _require(request, permission)
    bound = form_class(request.POST, prefix=form)
    if bound.is_valid() and (made := _attempt(bound, service, actor=request.user, **bound.cleaned_data)):
        messages.success(request, done(made))
        return redirect("offsets-regulator")
    return _regulator_page(request, status=400, **{f"{form}_form": bound})


@login_required
@require_POST
def project_status(request: HttpRequest, pk: int) -> HttpResponse:
    _require(request, "offsets.change_project")
    project = get_object_or_404(Project, pk=pk)
    form = forms.ProjectStatusForm(request.POST)
    if form.is_valid() and _attempt(form, services.project_set_status, project=project, actor=request.user,
                                    status=form.cleaned_data["status"]):
        messages.success(request, _("Project %(identifier)s is now %(status)s.") % {
            "identifier": project.identifier, "status": project.get_status_display()})
        return redirect("offsets-regulator")
    return _regulator_page(request, status=400, status_form=form)


def _decide(request: HttpRequest, pk: int, service: Callable[..., Issuance], done: str) -> HttpResponse:
    _require(request, "offsets.approve_issuance")
    issuance = get_object_or_404(Issuance, pk=pk)
    form = forms.DecisionForm(request.POST)
    if form.is_valid() and _attempt(form, service, issuance=issuance, actor=request.user, reason=form.cleaned_data["reason"]):
        messages.success(request, done % {"id": issuance.pk})
        return redirect("offsets-regulator")
    return _regulator_page(request, status=400, decision_form=form)


@login_required
@require_POST
def issuance_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, services.issuance_approve, _("Issuance %(id)s approved and issued."))


@login_required
@require_POST
def issuance_reject(request: HttpRequest, pk: int) -> HttpResponse:
    return _decide(request, pk, services.issuance_reject, _("Issuance %(id)s rejected."))
