"""API tokens: created through the service (key shown once, stored hashed), used through the API with
`Token` or `Bearer`, refused once revoked or expired, audited."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts import tokens
from accounts.models import ApiToken
from accounts.services import API_TOKENS_PER_USER_MAX, api_token_create, api_token_revoke
from core.errors import DomainError
from core.models import AuditEvent
from tests.auth import login


def client_with(header: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    return client


def test_a_key_is_shown_once_and_stored_only_as_a_hash(trader_a):
    token, key = api_token_create(user=trader_a, name="  my bot  ", actor=trader_a)

    assert key.startswith("ncr_") and len(key) == 52
    assert token.name == "my bot" and token.prefix == key[4:12] and token.created_by == trader_a
    stored = ApiToken.objects.filter(pk=token.pk).values().get()
    assert key not in {str(value) for value in stored.values()}
    assert stored["key_hash"] == tokens.key_hash(key)
    event = AuditEvent.objects.get(action="api_token.create")
    assert event.actor == trader_a and event.after["prefix"] == token.prefix and key not in str(event.after)


def test_a_token_works_with_the_token_and_bearer_keywords(trader_a, company_a):
    token, key = api_token_create(user=trader_a, name="bot", actor=trader_a)

    for keyword in ("Token", "Bearer", "bearer"):
        response = client_with(f"{keyword} {key}").get("/api/v1/accounts/")
        assert response.status_code == 200, response.json()
        assert {row["number"] for row in response.json()["results"]} == {f"HA-{company_a.uscc}", f"CA-{company_a.uscc}"}
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_last_use_is_recorded_at_most_once_a_minute(trader_a):
    token, key = api_token_create(user=trader_a, name="bot", actor=trader_a)
    client = client_with(f"Token {key}")
    client.get("/api/v1/accounts/")
    first = ApiToken.objects.get(pk=token.pk).last_used_at
    client.get("/api/v1/accounts/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at == first
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first - dt.timedelta(minutes=2))
    client.get("/api/v1/accounts/")
    assert ApiToken.objects.get(pk=token.pk).last_used_at > first


def test_a_revoked_token_is_refused_at_its_next_request(trader_a):
    token, key = api_token_create(user=trader_a, name="bot", actor=trader_a)
    client = client_with(f"Token {key}")
    assert client.get("/api/v1/accounts/").status_code == 200

    api_token_revoke(token=token, actor=trader_a)
    api_token_revoke(token=token, actor=trader_a)  # twice changes nothing

    response = client.get("/api/v1/accounts/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"
    assert response["WWW-Authenticate"] == "Token"
    assert AuditEvent.objects.filter(action="api_token.revoke", object_id=str(token.pk)).count() == 1


def test_an_expired_token_is_refused(trader_a):
    token, key = api_token_create(
        user=trader_a, name="short", actor=trader_a, expires_at=timezone.now() + dt.timedelta(hours=1)
    )
    assert client_with(f"Token {key}").get("/api/v1/accounts/").status_code == 200
    ApiToken.objects.filter(pk=token.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert client_with(f"Token {key}").get("/api/v1/accounts/").status_code == 401


def test_an_inactive_users_token_is_refused(trader_a):
    _, key = api_token_create(user=trader_a, name="bot", actor=trader_a)
    trader_a.is_active = False
    trader_a.save(update_fields=["is_active"])
    assert client_with(f"Token {key}").get("/api/v1/accounts/").status_code == 401


@pytest.mark.parametrize("header", [
    "Token ncr_notarealkeyatall",
    "Token ncr_" + "a" * 48,  # well-formed, unknown
    "Bearer",
    "Token two words",
    "Token ncr_é" + "a" * 47,
])
def test_bad_keys_are_refused_with_a_code(db, header):
    response = client_with(header).get("/api/v1/accounts/")
    assert response.status_code == 401
    assert response.json()["code"] == "authentication_failed"


def test_a_key_with_the_right_prefix_but_a_wrong_secret_is_refused(trader_a):
    _, key = api_token_create(user=trader_a, name="bot", actor=trader_a)
    forged = key[:12] + ("b" if key[12] != "b" else "c") + key[13:]
    assert client_with(f"Token {forged}").get("/api/v1/accounts/").status_code == 401


@pytest.mark.parametrize(("name", "expires_in", "field"), [
    ("", None, "name"),
    ("   ", None, "name"),
    ("x" * 101, None, "name"),
    ("bot", dt.timedelta(seconds=-1), "expires_at"),
])
def test_bad_input_creates_nothing(trader_a, name, expires_in, field):
    expires_at = timezone.now() + expires_in if expires_in else None
    with pytest.raises(DomainError) as refused:
        api_token_create(user=trader_a, name=name, actor=trader_a, expires_at=expires_at)
    assert refused.value.code == "invalid" and refused.value.field == field
    assert not ApiToken.objects.exists() and not AuditEvent.objects.filter(action="api_token.create").exists()


def test_a_user_has_at_most_so_many_active_tokens(trader_a):
    for index in range(API_TOKENS_PER_USER_MAX):
        token, _ = api_token_create(user=trader_a, name=f"bot {index}", actor=trader_a)
    with pytest.raises(DomainError) as refused:
        api_token_create(user=trader_a, name="one more", actor=trader_a)
    assert refused.value.field == "name"
    api_token_revoke(token=token, actor=trader_a)
    api_token_create(user=trader_a, name="one more", actor=trader_a)


def test_the_two_factor_hooks_can_refuse_creation_and_use(trader_a, monkeypatch):
    """The hooks the security work fills in: what they raise stops creation, or the request."""
    from core.errors import PermissionDenied

    _, key = api_token_create(user=trader_a, name="bot", actor=trader_a)

    def refuse_use(*, token):
        raise PermissionDenied("Tokens of this role need a recent one-time password.")

    monkeypatch.setattr("accounts.authentication.token_use_check", refuse_use)
    response = client_with(f"Token {key}").get("/api/v1/accounts/")
    assert response.status_code == 403  # a refusal that is not about the key itself: 403 with its code
    assert response.json()["code"] == "permission_denied"
    assert "one-time password" in response.json()["message"]

    def refuse_create(*, user, otp_verified_at):
        if otp_verified_at is None:
            raise PermissionDenied("Prove a one-time password first.", field="otp")

    monkeypatch.setattr("accounts.services.token_create_otp_check", refuse_create)
    with pytest.raises(PermissionDenied):
        api_token_create(user=trader_a, name="privileged", actor=trader_a)
    now = timezone.now()
    token, _ = api_token_create(user=trader_a, name="privileged", actor=trader_a, otp_verified_at=now)
    assert token.otp_verified_at == now


def test_the_openapi_schema_describes_token_authentication(db, trader_a):
    client = APIClient()
    client.force_authenticate(trader_a)
    schema = client.get("/api/schema/?format=json").json()
    assert schema["components"]["securitySchemes"]["apiToken"]["name"] == "Authorization"


def test_an_administrator_revokes_a_token_in_the_admin_without_seeing_its_hash(client, trader_a, django_user_model):
    token, key = api_token_create(user=trader_a, name="bot", actor=trader_a)
    admin_user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    login(client, admin_user)
    listing = client.get("/admin/accounts/apitoken/")
    assert listing.status_code == 200 and f"ncr_{token.prefix}" in listing.content.decode()
    detail = client.get(f"/admin/accounts/apitoken/{token.pk}/change/").content.decode()
    assert token.key_hash not in detail and key not in detail

    client.post("/admin/accounts/apitoken/", {"action": "revoke", "_selected_action": [token.pk]})
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert AuditEvent.objects.get(action="api_token.revoke").actor == admin_user
