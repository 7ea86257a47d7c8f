"""Logging users in for tests, second factor included (privileged roles must pass TOTP two-factor).

- `login(client, user)`: a session for `user`, OTP-verified when the user needs or has a device.
- `otp_device(user)`: the user's confirmed TOTP device (created on first use).
- `totp_code(device)`: the code the device accepts now (a later code each call, so that django-otp's
  replay protection never refuses a second verification in the same 30 s step).
- `api_token(user)`: an API token the user may use (for a privileged user: as if created from a verified session).
- `browser_second_factor(page, user)`: in a Playwright page at the verification page, types the code.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from django.utils import timezone
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import TOTP

from accounts.selectors import two_factor_required
from accounts.tokens import OTP_VERIFIED_AT_SESSION_KEY


def otp_device(user: Any) -> Any:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    device = TOTPDevice.objects.filter(user=user, confirmed=True).order_by("id").first()
    return device or TOTPDevice.objects.create(user=user, name="test authenticator", confirmed=True)


def totp_code(device: Any, *, at: float | None = None) -> str:
    """The code for `at` (default: now). Consecutive calls without `at` move forward one step within
    the device's tolerance, so that each code is new to the device (django-otp refuses a reused step)."""
    device.refresh_from_db()
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    if at is None:
        now_step = int((time.time() - device.t0) // device.step)
        step = max(now_step, device.last_t + 1)
        if step > now_step + device.tolerance:  # used up this window: wait for the next step
            time.sleep(device.step - (time.time() - device.t0) % device.step + 0.05)
            step = int((time.time() - device.t0) // device.step)
        at = device.t0 + step * device.step + device.step / 2
    totp.time = at
    return f"{totp.token():0{device.digits}d}"


def login(client: Any, user: Any, *, verified: bool | None = None) -> Any:
    """Logs `user` in on a Django or DRF test client. `verified` (default: when the user needs or has a
    second factor) marks the session as having passed TOTP with the user's device."""
    client.force_login(user)
    if verified is None:
        from accounts.selectors import totp_device_confirmed

        verified = two_factor_required(user) or totp_device_confirmed(user) is not None
    if verified:
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = otp_device(user).persistent_id
        session[OTP_VERIFIED_AT_SESSION_KEY] = timezone.now().isoformat()
        session.save()
    return client


def api_token(user: Any, *, verified: bool | None = None) -> str:
    """A usable API token key for `user`, made through the service once per user object (the key is
    shown only at creation, so it is kept on the object). For a privileged user (or `verified=True`)
    it is made as from a session that has just passed the second factor."""
    from accounts.services import api_token_create

    if verified is None:
        verified = two_factor_required(user)
    key = getattr(user, "_test_api_key", None)
    if key is None:
        key = user._test_api_key = api_token_create(
            user=user, name="test", actor=user, otp_verified_at=timezone.now() if verified else None,
        )[1]
    return key


def browser_second_factor(page: Any, user: Any) -> None:
    """Right after a browser login (site or admin) of `user`: passes the second factor with the user's
    device (created if the user had none, in which case the login landed on the enrolment page and
    this goes on to the verification page with the same `next`)."""
    device = otp_device(user)
    page.wait_for_load_state()
    url = urlsplit(page.url)
    if url.path != "/account/two-factor/verify/":
        target = parse_qs(url.query).get("next", [url.path if "/two-factor/" not in url.path else "/"])[0]
        page.goto(f"{url.scheme}://{url.netloc}/account/two-factor/verify/?{urlencode({'next': target})}")
    page.fill("input[name=code]", totp_code(device))
    page.click("main form button[type=submit]")  # (the top bar's log-out button is a submit button too)
    page.wait_for_load_state()


def browser_admin_login(page: Any, base_url: str, user: Any, password: str = "correct-horse-battery") -> None:
    """Logs `user` in through the admin's login page in a Playwright page, and past the second factor."""
    page.goto(f"{base_url}/admin/login/")
    page.fill("#id_username", user.username)
    page.fill("#id_password", password)
    page.click("input[type=submit]")
    browser_second_factor(page, user)


def browser_login(page: Any, base_url: str, username: str, password: str = "correct-horse-battery") -> None:
    """Logs in through the site's login page in a Playwright page, and past the second factor when the
    user's role requires it (or the user enrolled), as a person would."""
    from accounts.models import User
    from accounts.selectors import totp_device_confirmed

    page.goto(f"{base_url}/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_load_state()
    if urlsplit(page.url).path == "/login/":  # refused (a wrong password): nothing more to pass
        return
    user = User.objects.get(username=username)
    if two_factor_required(user) or totp_device_confirmed(user) is not None:
        browser_second_factor(page, user)
