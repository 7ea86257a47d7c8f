"""Navigation by role: after logging in, a person lands where their work is (unless a `next` says
otherwise), the second factor's set-up keeps the `next`, and the menu offers only what the role can use."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts.roles import Role
from tests.auth import login
from tests.factories import user_with_role


def _login(user, **extra):
    return Client().post("/login/", {"username": user.username, "password": "correct-horse-battery", **extra})


@pytest.mark.parametrize(("fixture", "landing"), [
    ("trader_a", "/"),
    ("national_regulator", "/regulator/"),
    ("exchange_operator", "/admin/"),
    ("auditor", "/reports/"),
])
def test_a_person_lands_where_their_role_works(request, fixture, landing):
    response = _login(request.getfixturevalue(fixture))
    assert (response.status_code, response["Location"]) == (302, landing)


def test_a_verifier_lands_on_the_verification_queue(db):
    from tests.factories import OrganizationFactory

    verifier = user_with_role(Role.VERIFIER, OrganizationFactory(kind="institution", sector="services", province="11"))
    assert _login(verifier)["Location"] == "/compliance/verifier/"


def test_next_wins_over_the_landing(auditor):
    assert _login(auditor, next="/market/")["Location"] == "/market/"


def test_setting_up_two_factor_keeps_where_the_person_was_going(national_regulator):
    client = Client()
    client.force_login(national_regulator)
    sent_to = client.get("/admin/")["Location"]  # no second factor yet: sent to set it up, with the way back
    assert sent_to == "/account/two-factor/?next=%2Fadmin%2F"
    start_form = client.get(sent_to).content.decode()
    assert start_form.count('name="next" value="/admin/"') == 1  # in the "Set up" form
    response = client.post("/account/two-factor/", {"action": "start", "next": "/admin/allocation/allocationplan/"})
    assert response["Location"] == "/account/two-factor/?next=%2Fadmin%2Fallocation%2Fallocationplan%2F"
    page = client.get(response["Location"]).content.decode()
    assert 'name="next" value="/admin/allocation/allocationplan/"' in page


def test_the_menu_offers_trading_to_companies_only(trader_a, national_regulator, auditor):
    def menu(user):
        return login(Client(), user).get("/market/").content.decode()

    assert 'href="/trade/"' in menu(trader_a) and 'href="/orders/"' in menu(trader_a)
    for user in (national_regulator, auditor):
        page = menu(user)
        assert 'href="/trade/"' not in page and 'href="/orders/"' not in page and 'href="/reports/"' in page
