"""The surveillance pages: the alerts queue (the exchange operator decides; regulators and auditors
read), and one alert with its evidence."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.errors import DomainError, NotFound
from surveillance import services
from surveillance.models import Alert


def _may_read(request: HttpRequest) -> None:
    if not request.user.has_perm("surveillance.view_alert"):
        raise PermissionDenied


@login_required
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    _may_read(request)
    status = request.GET.get("status", Alert.Status.OPEN)
    if status not in Alert.Status.values and status != "all":
        status = Alert.Status.OPEN
    kind = request.GET.get("kind", "")
    queryset = Alert.objects.select_related("instrument", "organization", "decided_by")
    if status != "all":
        queryset = queryset.filter(status=status)
    if kind in Alert.Kind.values:
        queryset = queryset.filter(kind=kind)
    page = Paginator(queryset.order_by("-day", "kind", "pk"), 50).get_page(request.GET.get("page"))
    return render(request, "surveillance/alerts.html", {
        "page": page, "status": status, "kind": kind, "statuses": Alert.Status.choices, "kinds": Alert.Kind.choices,
        "may_decide": request.user.has_perm("surveillance.decide_alert"),
    })


@login_required
@require_GET
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    _may_read(request)
    alert = Alert.objects.select_related("instrument", "organization", "decided_by").filter(pk=alert_id).first()
    if alert is None:
        raise Http404("No such alert")
    return _detail(request, alert)


def _detail(request: HttpRequest, alert: Alert, *, error: str = "", status: int = 200) -> HttpResponse:
    return render(request, "surveillance/alert.html", {
        "alert": alert, "evidence": sorted(alert.evidence.items()), "error": error,
        "may_decide": request.user.has_perm("surveillance.decide_alert") and alert.status == Alert.Status.OPEN,
    }, status=status)


@login_required
@require_POST
def alert_decide(request: HttpRequest, alert_id: int) -> HttpResponse:
    _may_read(request)
    try:
        alert = services.alert_decide(alert_id=alert_id, decision=request.POST.get("decision", ""),
                                      reason=request.POST.get("reason", ""), actor=request.user)
    except NotFound:
        raise Http404("No such alert") from None
    except DomainError as error:
        if error.status == 403:
            raise PermissionDenied(error.message) from None
        alert = Alert.objects.filter(pk=alert_id).first()
        if alert is None:
            raise Http404("No such alert") from None
        return _detail(request, alert, error=error.message, status=error.status)
    messages.success(request, _("Alert #%(id)s: %(status)s.") % {"id": alert.pk, "status": alert.get_status_display()})
    return redirect("surveillance-alerts")
