"""The token page: create (the key shown once), list, revoke; the API accepts the key, then refuses it."""

import re

from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create
from tests.auth import login


def api_get(key, path="/api/v1/balances/"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {key}")
    return client.get(path)


def test_create_use_and_revoke_a_token_through_the_pages_and_the_api(client, trader_a, company_a):
    login(client, trader_a)
    created = client.post("/profile/tokens/", {"name": "trading bot", "expires_in": "30"})
    assert created.status_code == 200 and created["Cache-Control"] == "no-store"
    key = re.search(r'value="(ncr_[A-Za-z0-9]{48})"', created.content.decode()).group(1)
    token = ApiToken.objects.get(user=trader_a)
    assert token.name == "trading bot" and token.expires_at is not None

    assert api_get(key).status_code == 200
    listing = client.get("/profile/tokens/").content.decode()
    assert key not in listing and f"ncr_{token.prefix}" in listing and "active" in listing

    assert client.post(f"/profile/tokens/{token.pk}/revoke/").status_code == 302
    assert api_get(key).status_code == 401
    assert "revoked" in client.get("/profile/tokens/").content.decode()


def test_a_token_needs_a_name(client, trader_a):
    login(client, trader_a)
    response = client.post("/profile/tokens/", {"name": "", "expires_in": ""})
    assert response.status_code == 200 and not ApiToken.objects.exists()
    assert "ncr_" not in response.content.decode()


def test_another_users_token_cannot_be_seen_or_revoked(client, trader_a, trader_b):
    theirs, key = api_token_create(user=trader_b, name="theirs", actor=trader_b)
    login(client, trader_a)
    assert "theirs" not in client.get("/profile/tokens/").content.decode()
    assert client.post(f"/profile/tokens/{theirs.pk}/revoke/").status_code == 404
    assert api_get(key).status_code == 200


def test_revoking_is_a_post(client, trader_a):
    token, _ = api_token_create(user=trader_a, name="bot", actor=trader_a)
    login(client, trader_a)
    assert client.get(f"/profile/tokens/{token.pk}/revoke/").status_code == 405
    token.refresh_from_db()
    assert token.revoked_at is None
