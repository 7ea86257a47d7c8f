"""API tokens and two-factor: a privileged user's token is made only from a verified session and works
for API_TOKEN_OTP_TTL after it; company users' tokens are not limited this way."""

import datetime as dt

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import ApiToken
from accounts.services import api_token_create
from core.errors import TwoFactorRequired
from tests.auth import login


def _get(key, path="/api/v1/accounts/"):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client.get(path)


def test_a_privileged_token_needs_a_verified_session_to_be_made(national_regulator):
    with pytest.raises(TwoFactorRequired):
        api_token_create(user=national_regulator, name="script", actor=national_regulator)
    assert not ApiToken.objects.filter(user=national_regulator).exists()


def test_a_privileged_token_made_from_a_verified_session_works_until_the_ttl(national_regulator, settings):
    token, key = api_token_create(user=national_regulator, name="script", actor=national_regulator,
                                  otp_verified_at=timezone.now())
    assert _get(key).status_code == 200
    settings.API_TOKEN_OTP_TTL = 3600
    ApiToken.objects.filter(pk=token.pk).update(created_at=timezone.now() - dt.timedelta(seconds=3601))
    response = _get(key)
    assert response.status_code == 403 and response.json()["code"] == "two_factor_required"


def test_a_privileged_token_without_otp_proof_is_refused(auditor):
    """(E.g. a token made before two-factor was enforced, or written straight into the database.)"""
    token, key = api_token_create(user=auditor, name="old", actor=auditor, otp_verified_at=timezone.now())
    ApiToken.objects.filter(pk=token.pk).update(otp_verified_at=None)
    response = _get(key)
    assert response.status_code == 403 and response.json()["code"] == "two_factor_required"


def test_a_company_token_needs_no_second_factor_and_no_ttl(trader_a, settings):
    token, key = api_token_create(user=trader_a, name="bot", actor=trader_a)
    settings.API_TOKEN_OTP_TTL = 60
    ApiToken.objects.filter(pk=token.pk).update(created_at=timezone.now() - dt.timedelta(days=30))
    assert _get(key, "/api/v1/balances/").status_code == 200


def test_the_token_page_stores_the_sessions_verification_time(client, exchange_operator):
    login(client, exchange_operator)
    response = client.post("/profile/tokens/", {"name": "market ops"})
    assert response.status_code == 200
    token = ApiToken.objects.get(user=exchange_operator, name="market ops")
    assert token.otp_verified_at is not None and timezone.now() - token.otp_verified_at < dt.timedelta(minutes=1)


def test_an_unverified_privileged_session_cannot_reach_the_token_page(client, exchange_operator):
    login(client, exchange_operator, verified=False)
    response = client.post("/profile/tokens/", {"name": "sneaky"})
    assert response.status_code == 302 and "/account/two-factor/" in response.url
    assert not ApiToken.objects.filter(user=exchange_operator).exists()
