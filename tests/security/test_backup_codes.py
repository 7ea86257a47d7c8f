"""Backup codes (django-otp static tokens): made from the two-factor page once TOTP is on, shown once,
each accepted once at verification in place of an app code; new ones replace the old; switching
two-factor off removes them. Every step is audited."""

import re

from django_otp.plugins.otp_static.models import StaticDevice, StaticToken

from accounts.services import backup_codes_generate
from core.models import AuditEvent
from tests.auth import login, otp_device

PASSWORD = "correct-horse-battery"


def codes_on(page: bytes) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page.decode())


def unverified_session(client, user):
    """A fresh login by password: the session still has to pass the second factor."""
    client.logout()
    assert client.post("/login/", {"username": user.username, "password": PASSWORD}).status_code == 302
    assert client.get("/admin/").url.startswith("/account/two-factor/verify/")
    return client


def test_codes_are_shown_once_and_each_logs_in_once(client, national_regulator):
    otp_device(national_regulator)
    login(client, national_regulator)
    page = client.get("/account/two-factor/").content.decode()
    assert "You have none yet" in page

    made = client.post("/account/two-factor/", {"action": "backup_codes"})
    codes = codes_on(made.content)
    assert made.status_code == 200 and len(codes) == len(set(codes)) == 10
    assert "shown only now" in made.content.decode()
    again = client.get("/account/two-factor/").content.decode()
    assert codes_on(again.encode()) == [] and "You have 10 unused backup codes" in again
    assert AuditEvent.objects.get(action="two_factor.backup_codes", actor=national_regulator).after == {"codes": 10}

    unverified_session(client, national_regulator)
    response = client.post("/account/two-factor/verify/", {"code": codes[0].upper(), "next": "/admin/"})
    assert response.status_code == 302 and response.url == "/admin/"
    assert client.get("/").status_code == 200
    event = AuditEvent.objects.filter(action="two_factor.verify", actor=national_regulator).latest("id")
    assert event.after == {"backup_codes_left": 9}

    unverified_session(client, national_regulator)
    reused = client.post("/account/two-factor/verify/", {"code": codes[0], "next": "/admin/"})
    assert reused.status_code == 200 and b"not valid" in reused.content
    assert client.get("/").url.startswith("/account/two-factor/verify/")
    StaticDevice.objects.get(user=national_regulator).throttle_reset()  # the failure made it wait
    assert client.post("/account/two-factor/verify/", {"code": codes[1], "next": "/admin/"}).status_code == 302
    assert StaticToken.objects.filter(device__user=national_regulator).count() == 8


def test_new_codes_replace_the_old_ones(trader_a):
    otp_device(trader_a)
    first = backup_codes_generate(user=trader_a)
    second = backup_codes_generate(user=trader_a)
    stored = set(StaticToken.objects.filter(device__user=trader_a).values_list("token", flat=True))
    assert stored == set(second) and not stored & set(first)
    assert StaticDevice.objects.filter(user=trader_a).count() == 1


def test_codes_need_two_factor_set_up_first(client, trader_a):
    login(client, trader_a, verified=False)
    response = client.post("/account/two-factor/", {"action": "backup_codes"})
    assert response.status_code == 200 and b"Set up two-factor authentication first" in response.content
    assert not StaticDevice.objects.exists()


def test_switching_two_factor_off_removes_the_codes(client, trader_a):
    otp_device(trader_a)
    login(client, trader_a)
    backup_codes_generate(user=trader_a)
    assert client.post("/account/two-factor/", {"action": "disable"}).status_code == 302
    assert not StaticDevice.objects.filter(user=trader_a).exists() and not StaticToken.objects.exists()


def test_a_malformed_code_is_refused_by_the_form(client, national_regulator):
    otp_device(national_regulator)
    unverified = login(client, national_regulator, verified=False)
    response = unverified.post("/account/two-factor/verify/", {"code": "not-a-code!", "next": "/admin/"})
    assert response.status_code == 200 and b"Enter a valid value" in response.content
    assert unverified.get("/").url.startswith("/account/two-factor/verify/")
