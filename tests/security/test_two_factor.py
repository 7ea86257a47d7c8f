"""TOTP two-factor authentication: who must pass it, enrolment, verification, and enforcement on the
pages, the admin and the API."""

import re

import pytest
from django_otp.plugins.otp_totp.models import TOTPDevice

from core.models import AuditEvent
from tests.auth import login, otp_device, totp_code

PASSWORD = "correct-horse-battery"


def _password_login(client, user):
    response = client.post("/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return response


@pytest.mark.parametrize("who", ["national_regulator", "shandong_regulator", "exchange_operator", "auditor"])
def test_a_privileged_user_without_a_device_is_sent_to_enrol(client, request, who):
    user = request.getfixturevalue(who)
    _password_login(client, user)
    response = client.get("/")
    assert response.status_code == 302 and response.url.startswith("/account/two-factor/?next=")
    assert client.get("/admin/").url.startswith("/account/two-factor/")
    api = client.get("/api/v1/accounts/")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"


def test_a_superuser_must_pass_the_second_factor(client, db):
    from accounts.models import User

    admin = User.objects.create_superuser("root", "root@example.cn", PASSWORD)
    _password_login(client, admin)
    assert client.get("/admin/").url.startswith("/account/two-factor/")


def test_a_privileged_user_with_a_device_must_verify_and_cannot_enrol_another(client, national_regulator):
    device = otp_device(national_regulator)
    _password_login(client, national_regulator)
    assert client.get("/admin/").url == "/account/two-factor/verify/?next=%2Fadmin%2F"
    # The enrolment page is closed to an unverified session: a stolen password cannot add a device.
    assert client.get("/account/two-factor/").url.startswith("/account/two-factor/verify/")
    assert client.post("/account/two-factor/", {"action": "start"}).status_code == 302
    assert TOTPDevice.objects.filter(user=national_regulator).count() == 1

    wrong = client.post("/account/two-factor/verify/?next=/admin/", {"code": "000000", "next": "/admin/"})
    assert wrong.status_code == 200 and b"not valid" in wrong.content
    assert client.get("/admin/").status_code == 302

    device.throttle_reset()  # (a failure makes the device wait a second: tested below)
    key_before = client.session.session_key
    response = client.post("/account/two-factor/verify/", {"code": totp_code(device), "next": "/admin/"})
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.session.session_key != key_before  # a new session key once the privilege is gained
    assert client.get("/").status_code == 200
    assert AuditEvent.objects.filter(action="two_factor.verify", actor=national_regulator).count() == 1


def test_a_used_code_is_refused_the_second_time(client, national_regulator):
    device = otp_device(national_regulator)
    code = totp_code(device)
    _password_login(client, national_regulator)
    assert client.post("/account/two-factor/verify/", {"code": code}).status_code == 302
    other = type(client)()
    _password_login(other, national_regulator)
    assert other.post("/account/two-factor/verify/", {"code": code}).status_code == 200
    assert other.get("/").status_code == 302


def test_verification_is_throttled_after_a_failure(client, national_regulator):
    device = otp_device(national_regulator)
    _password_login(client, national_regulator)
    client.post("/account/two-factor/verify/", {"code": "000000"})
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    # Even the right code waits out the throttle (1 s, doubling with each failure).
    assert client.post("/account/two-factor/verify/", {"code": totp_code(device)}).status_code == 200
    assert client.get("/").status_code == 302


def test_enrolment_shows_a_qr_code_and_a_code_confirms_it(client, exchange_operator):
    _password_login(client, exchange_operator)
    page = client.get("/account/two-factor/")
    assert page.status_code == 200 and b"Set up two-factor authentication" in page.content
    assert client.post("/account/two-factor/", {"action": "start"}).url == "/account/two-factor/"
    page = client.get("/account/two-factor/").content.decode()
    assert "<svg" in page and "otpauth" not in page.split("<svg")[0]
    secret = re.search(r'<code class="secret">([A-Z2-7=]+)</code>', page).group(1)
    device = TOTPDevice.objects.get(user=exchange_operator, confirmed=False)
    assert secret.rstrip("=") and device.bin_key

    assert client.post("/account/two-factor/", {"action": "confirm", "code": "123456"}).status_code == 200
    device.refresh_from_db()
    assert not device.confirmed
    device.throttle_reset()

    response = client.post("/account/two-factor/", {"action": "confirm", "code": totp_code(device), "next": "/admin/"})
    assert response.status_code == 302 and response.url == "/admin/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/").status_code == 200  # the confirming session counts as verified
    actions = list(AuditEvent.objects.filter(actor=exchange_operator).order_by("id").values_list("action", flat=True))
    assert actions == ["user.login", "two_factor.enrol_start", "two_factor.enrol"]


def test_a_company_user_may_work_without_two_factor(client, trader_a):
    _password_login(client, trader_a)
    assert client.get("/").status_code == 200
    assert b"Two-factor authentication is off" in client.get("/account/two-factor/").content


def test_a_company_user_who_enrolled_must_verify_and_may_switch_it_off(client, trader_a):
    device = otp_device(trader_a)
    _password_login(client, trader_a)
    assert client.get("/").url.startswith("/account/two-factor/verify/")
    api = client.get("/api/v1/balances/")
    assert api.status_code == 403 and api.json()["code"] == "two_factor_required"
    client.post("/account/two-factor/verify/", {"code": totp_code(device)})
    assert client.get("/").status_code == 200
    assert client.post("/account/two-factor/", {"action": "disable"}).status_code == 302
    assert not TOTPDevice.objects.filter(user=trader_a).exists()
    assert AuditEvent.objects.filter(action="two_factor.disable", actor=trader_a).count() == 1


def test_a_privileged_user_cannot_switch_two_factor_off(client, national_regulator):
    login(client, national_regulator)
    response = client.post("/account/two-factor/", {"action": "disable"})
    assert response.status_code == 200 and b"requires two-factor" in response.content
    assert TOTPDevice.objects.filter(user=national_regulator, confirmed=True).exists()


def test_the_api_answers_a_session_that_has_not_verified_with_403(client, auditor):
    login(client, auditor, verified=False)
    response = client.get("/api/v1/accounts/")
    assert response.status_code == 403
    assert response.json() == {
        "code": "two_factor_required",
        "message": response.json()["message"],
        "field": None,
    }
    login(client, auditor)
    assert client.get("/api/v1/accounts/").status_code == 200


def test_the_verify_page_does_not_redirect_off_site(client, national_regulator):
    device = otp_device(national_regulator)
    _password_login(client, national_regulator)
    response = client.post("/account/two-factor/verify/", {"code": totp_code(device), "next": "https://evil.example/"})
    assert response.status_code == 302 and response.url == "/regulator/"  # their landing, not the other site
