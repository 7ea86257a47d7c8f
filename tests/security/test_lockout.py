"""Brute-force lockout (django-axes): 5 failures in 15 minutes lock a username, and separately an
address; the answer is 429 with a message that names neither, and says nothing of whether a user exists."""

import re

import pytest

PASSWORD = "correct-horse-battery"


def _fail(client, username, ip="10.0.0.1"):
    return client.post("/login/", {"username": username, "password": "wrong"}, REMOTE_ADDR=ip)


def test_five_failures_lock_the_username_even_from_other_addresses(client, trader_a):
    for attempt in range(5):
        response = _fail(client, trader_a.username, ip=f"10.0.0.{attempt + 1}")
    assert response.status_code == 429
    # Locked: the right password from a fresh address is refused too.
    response = client.post("/login/", {"username": trader_a.username, "password": PASSWORD}, REMOTE_ADDR="10.9.9.9")
    assert response.status_code == 429
    assert b"Too many failed logins" in response.content
    assert trader_a.username.encode() not in response.content


def test_four_failures_do_not_lock(client, trader_a):
    for _ in range(4):
        assert _fail(client, trader_a.username).status_code == 200
    response = client.post("/login/", {"username": trader_a.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.1")
    assert response.status_code == 302


def test_five_failures_from_one_address_lock_that_address(client, trader_a, trader_b):
    for index in range(5):
        _fail(client, f"nobody{index}", ip="10.0.0.7")
    response = client.post("/login/", {"username": trader_b.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.7")
    assert response.status_code == 429
    assert client.post("/login/", {"username": trader_b.username, "password": PASSWORD}, REMOTE_ADDR="10.0.0.8").status_code == 302


def test_an_unknown_username_gets_the_same_answer_as_a_wrong_password(client, trader_a):
    known = _fail(client, trader_a.username, ip="10.0.1.1")
    unknown = _fail(client, "no-such-user", ip="10.0.1.2")
    assert known.status_code == unknown.status_code == 200
    def strip(response, name):
        return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", response.content.decode().replace(name, ""))

    assert strip(known, trader_a.username) == strip(unknown, "no-such-user")


def test_the_admin_login_counts_too(client, national_regulator):
    for _ in range(5):
        response = client.post("/admin/login/", {"username": national_regulator.username, "password": "wrong"})
    assert response.status_code == 429


@pytest.mark.parametrize(("proxies", "forwarded", "expected"), [
    (0, "1.1.1.1", "127.0.0.9"),
    (1, "1.1.1.1, 2.2.2.2", "2.2.2.2"),
    (2, "1.1.1.1, 2.2.2.2", "1.1.1.1"),
    (2, "2.2.2.2", "127.0.0.9"),  # fewer entries than proxies: not forwarded by them
])
def test_the_client_address_trusts_only_the_configured_proxies(rf, settings, proxies, forwarded, expected):
    from core.http import client_ip

    settings.TRUSTED_PROXY_COUNT = proxies
    request = rf.get("/", REMOTE_ADDR="127.0.0.9", HTTP_X_FORWARDED_FOR=forwarded)
    assert client_ip(request) == expected


def test_behind_a_proxy_the_lockout_counts_the_forwarded_address(client, settings, trader_a):
    settings.TRUSTED_PROXY_COUNT = 1
    for index in range(5):
        client.post("/login/", {"username": f"x{index}", "password": "wrong"}, REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="5.5.5.5")
    login_from = lambda ip: client.post("/login/", {"username": trader_a.username, "password": PASSWORD},  # noqa: E731
                                        REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR=ip)
    assert login_from("5.5.5.5").status_code == 429
    assert login_from("6.6.6.6").status_code == 302
