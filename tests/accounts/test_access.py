"""What a user may do, remembered between requests (accounts.access): no permission, role or
membership query on the hot path, and every change that alters it reaches the next request."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission

from accounts.access import access_of
from accounts.models import Membership, Organization, User
from accounts.roles import Role
from tests.factories import OrganizationFactory, api_client_for
from tests.trading.conftest import fund
from trading.errors import NotEligible
from trading.services import trading_organization

pytestmark = pytest.mark.django_db


def fresh(user: User) -> User:
    """The user as the next request loads it (its row, nothing remembered on the object)."""
    return User.objects.get(pk=user.pk)


def test_the_second_request_asks_the_database_nothing_about_roles_permissions_or_organizations(
    trader_a, company_a, django_assert_num_queries
):
    access_of(fresh(trader_a))
    user = fresh(trader_a)
    with django_assert_num_queries(0):
        assert trading_organization(user) == company_a
        assert user.has_perm("trading.trade") and not user.has_perm("registry.issue_allowances")
        assert access_of(user).roles == {Role.COMPANY_TRADER}


def test_losing_a_role_takes_effect_at_the_next_request(trader_a):
    assert fresh(trader_a).has_perm("trading.trade")
    trader_a.groups.remove(Group.objects.get(name=Role.COMPANY_TRADER))
    user = fresh(trader_a)
    assert not user.has_perm("trading.trade")
    with pytest.raises(NotEligible):
        trading_organization(user)


def test_a_role_given_from_the_groups_side_takes_effect_too(trader_a):
    assert not fresh(trader_a).has_perm("compliance.surrender")
    Group.objects.get(name=Role.COMPLIANCE_OFFICER).user_set.add(trader_a)
    assert fresh(trader_a).has_perm("compliance.surrender")
    Group.objects.get(name=Role.COMPLIANCE_OFFICER).user_set.clear()
    assert not fresh(trader_a).has_perm("compliance.surrender")


def test_a_change_of_a_groups_permissions_reaches_its_members(trader_a):
    trade = Permission.objects.get(content_type__app_label="trading", codename="trade")
    group = Group.objects.get(name=Role.COMPANY_TRADER)
    assert fresh(trader_a).has_perm("trading.trade")
    group.permissions.remove(trade)
    assert not fresh(trader_a).has_perm("trading.trade")
    trade.group_set.add(group)
    assert fresh(trader_a).has_perm("trading.trade")


def test_a_users_own_permission_counts(trader_a):
    issue = Permission.objects.get(content_type__app_label="registry", codename="issue_allowances")
    trader_a.user_permissions.add(issue)
    assert fresh(trader_a).has_perm("registry.issue_allowances")


def test_memberships_and_the_organizations_status_take_effect_at_the_next_request(trader_a, company_a):
    assert access_of(fresh(trader_a)).organization_ids == {company_a.pk}
    company_a.status = Organization.Status.SUSPENDED
    company_a.save()
    with pytest.raises(NotEligible, match="not an active participant"):
        trading_organization(fresh(trader_a))
    other = OrganizationFactory()
    Membership.objects.create(user=trader_a, organization=other)
    assert access_of(fresh(trader_a)).organization_ids == {company_a.pk, other.pk}
    Membership.objects.filter(user=trader_a, organization=company_a).delete()
    assert access_of(fresh(trader_a)).organization_ids == {other.pk}


def test_an_object_in_hand_follows_the_changes_made_through_it(trader_a, company_a):
    assert access_of(trader_a).roles == {Role.COMPANY_TRADER}
    trader_a.groups.clear()
    assert access_of(trader_a).roles == set()
    Membership.objects.create(user=trader_a, organization=OrganizationFactory())
    assert len(access_of(trader_a).organization_ids) == 2


def test_an_api_client_is_refused_at_its_next_order_once_its_role_is_gone(trader_a, company_a, national_regulator, exchange_operator):
    fund(company_a, regulator=national_regulator, operator=exchange_operator)
    api = api_client_for(trader_a)
    body = {"instrument": "CEA21", "side": "buy", "price": "54.00", "quantity": 10}
    assert api.post("/api/v1/orders/", {**body, "client_order_id": "before"}, format="json").status_code == 201
    trader_a.groups.clear()
    refused = api.post("/api/v1/orders/", {**body, "client_order_id": "after"}, format="json")
    assert refused.status_code == 403 and refused.json()["code"] == "not_eligible"


def test_an_order_through_the_api_costs_few_queries(trader_a, company_a, national_regulator, exchange_operator,
                                                    django_assert_num_queries, settings):
    settings.MATCHER_INLINE = False  # as deployed: the matcher process applies it
    fund(company_a, regulator=national_regulator, operator=exchange_operator)
    api = api_client_for(trader_a)
    body = {"instrument": "CEA21", "side": "buy", "price": "54.00", "quantity": 10}
    assert api.post("/api/v1/orders/", {**body, "client_order_id": "warm"}, format="json").status_code == 201
    # The token with its user; the order, the balance locks, the position check, the ledger, the
    # sequence with its audit event (and the test's savepoint around them): nothing about who the
    # trader is, nothing about the instrument.
    with django_assert_num_queries(8):
        assert api.post("/api/v1/orders/", {**body, "client_order_id": "hot"}, format="json").status_code == 201


def test_a_cancel_through_the_api_costs_few_queries(trader_a, company_a, national_regulator, exchange_operator,
                                                    django_assert_num_queries, settings):
    settings.MATCHER_INLINE = False
    fund(company_a, regulator=national_regulator, operator=exchange_operator)
    api = api_client_for(trader_a)
    body = {"instrument": "CEA21", "side": "buy", "price": "54.00", "quantity": 10}
    orders = [api.post("/api/v1/orders/", {**body, "client_order_id": key}, format="json").json()["id"] for key in ("a", "b")]
    assert api.delete(f"/api/v1/orders/{orders[0]}/").status_code == 200
    # The token with its user; the order locked with its instrument (the answer names it), the
    # flag, the sequence with its audit event (and the test's savepoint around them).
    with django_assert_num_queries(6):
        answer = api.delete(f"/api/v1/orders/{orders[1]}/")
    assert answer.status_code == 200 and answer.json()["instrument"] == "CEA21"
