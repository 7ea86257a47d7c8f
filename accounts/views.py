"""Account pages: two-factor enrolment and verification (the password page is web.views.profile_password)."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import django_otp
import qrcode
import qrcode.image.svg
from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods

from accounts import services
from accounts.selectors import (
    backup_codes_left,
    is_company_user,
    is_regulator,
    landing_path,
    totp_device_confirmed,
    two_factor_required,
)
from accounts.tokens import otp_verified_at_mark
from core.errors import DomainError


class CodeForm(forms.Form):
    code = forms.RegexField(
        label=gettext_lazy("Six-digit code"), regex=r"^\s*\d{6}\s*$", max_length=12,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric", "autofocus": True}),
    )


class VerifyForm(forms.Form):
    """A code from the app, or one of the user's backup codes (eight letters and digits)."""

    code = forms.RegexField(
        label=gettext_lazy("Six-digit code or backup code"), regex=r"^\s*(\d{6}|[A-Za-z2-7]{8})\s*$", max_length=16,
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "autofocus": True}),
    )


class LoginView(auth_views.LoginView):
    """Django's login; without a `next`, the person lands where their role's work is."""

    template_name = "accounts/login.html"

    def get_default_redirect_url(self) -> str:
        return landing_path(self.request.user)


def navigation(request: HttpRequest) -> dict[str, bool]:
    """Template context: which parts of the menu this person can use."""
    user = getattr(request, "user", None)
    return {"company_user": is_company_user(user), "regulator_user": is_regulator(user)}


def _next_url(request: HttpRequest) -> str:
    """The `next` to go back to: a path on this site only (anything else, home)."""
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target.startswith("/") and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return landing_path(request.user)


def _session_verified(request: HttpRequest, device: object) -> None:
    """Marks the session as having passed the second factor, under a new session key (privilege changed)."""
    django_otp.login(request, device)
    otp_verified_at_mark(request)
    request.session.cycle_key()


def _qr_svg(url: str) -> str:
    return qrcode.make(url, image_factory=qrcode.image.svg.SvgPathImage, box_size=8).to_string(encoding="unicode")


@login_required
@require_http_methods(["GET", "POST"])
def two_factor(request: HttpRequest) -> HttpResponse:
    """Status, enrolment (start, then confirm with a code) and, for company users, switching it off."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    user = request.user
    form = CodeForm()
    backup_codes = None  # new backup codes are shown with the page that made them, and never again
    if request.method == "POST":
        action = request.POST.get("action")
        try:
            if action == "start":
                services.totp_device_start(user=user)
                target = reverse("two-factor")
                if request.POST.get("next"):  # keep where the person was going (the admin, say)
                    target += "?" + urlencode({"next": _next_url(request)})
                return HttpResponseRedirect(target)
            if action == "confirm":
                form = CodeForm(request.POST)
                if form.is_valid():
                    device = services.totp_device_confirm(user=user, code=form.cleaned_data["code"])
                    _session_verified(request, device)
                    messages.success(request, _("Two-factor authentication is on."))
                    return redirect(_next_url(request))
            elif action == "backup_codes":
                backup_codes = services.backup_codes_generate(user=user)
            elif action == "disable":
                services.totp_devices_remove(user=user, actor=user)
                messages.success(request, _("Two-factor authentication is off."))
                return redirect("two-factor")
            else:
                return HttpResponse(status=400)
        except DomainError as error:
            form = CodeForm(request.POST)
            form.is_valid()
            form.add_error(None, error.message)
    confirmed = totp_device_confirmed(user)
    pending = None if confirmed else TOTPDevice.objects.filter(user=user, confirmed=False).order_by("-id").first()
    context = {
        "form": form,
        "confirmed": confirmed,
        "backup_codes": backup_codes,
        "backup_codes_left": backup_codes_left(user) if confirmed else None,
        "pending": pending,
        "required": two_factor_required(user),
        "next": _next_url(request) if request.GET.get("next") or request.POST.get("next") else "",
    }
    if pending is not None:
        context["qr_svg"] = _qr_svg(pending.config_url)
        context["secret"] = base64.b32encode(pending.bin_key).decode()
    return render(request, "accounts/two_factor.html", context)


@login_required
@require_http_methods(["GET", "POST"])
def two_factor_verify(request: HttpRequest) -> HttpResponse:
    if request.user.is_verified():
        return redirect(_next_url(request))
    if totp_device_confirmed(request.user) is None:
        return redirect("two-factor")
    form = VerifyForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            device = services.totp_device_verify(user=request.user, code=form.cleaned_data["code"])
        except DomainError as error:
            form.add_error("code", error.message)
        else:
            _session_verified(request, device)
            return redirect(_next_url(request))
    return render(request, "accounts/two_factor_verify.html", {"form": form, "next": request.GET.get("next") or request.POST.get("next", "")})
