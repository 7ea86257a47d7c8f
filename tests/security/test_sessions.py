"""Sessions: a new key at login, revoked at logout, other sessions ended by a password change."""

from django.test import Client

from core.models import AuditEvent
from tests.auth import login

PASSWORD = "correct-horse-battery"


def test_login_gives_a_new_session_key(client, trader_a):
    client.get("/login/")
    client.session.save()
    before = client.cookies["sessionid"].value if "sessionid" in client.cookies else client.session.session_key
    client.post("/login/", {"username": trader_a.username, "password": PASSWORD})
    assert client.cookies["sessionid"].value != before
    assert AuditEvent.objects.filter(action="user.login", actor=trader_a).count() == 1


def test_logout_revokes_the_session_on_the_server(client, trader_a):
    client.post("/login/", {"username": trader_a.username, "password": PASSWORD})
    stolen = client.cookies["sessionid"].value
    client.post("/logout/")
    thief = Client()
    thief.cookies["sessionid"] = stolen
    assert thief.get("/").status_code == 302
    assert AuditEvent.objects.filter(action="user.logout", actor=trader_a).count() == 1


def test_a_password_change_ends_every_other_session(client, trader_a):
    elsewhere = login(Client(), trader_a)
    assert elsewhere.get("/").status_code == 200
    login(client, trader_a)
    response = client.post("/profile/password/", {
        "old_password": PASSWORD, "new_password1": "a-much-better-passphrase-9", "new_password2": "a-much-better-passphrase-9",
    })
    assert response.status_code == 302
    assert client.get("/").status_code == 200  # this session goes on
    assert elsewhere.get("/").status_code == 302  # the other one is logged out
    trader_a.refresh_from_db()
    assert trader_a.check_password("a-much-better-passphrase-9")
    assert AuditEvent.objects.filter(action="user.password_change", actor=trader_a).count() == 1


def test_a_wrong_old_password_changes_nothing(client, trader_a):
    login(client, trader_a)
    response = client.post("/profile/password/", {
        "old_password": "wrong", "new_password1": "a-much-better-passphrase-9", "new_password2": "a-much-better-passphrase-9",
    })
    assert response.status_code == 200
    trader_a.refresh_from_db()
    assert trader_a.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action="user.password_change").exists()
