"""Reference data for tests. Organizations and users come from factories; ledger state is created
through the registry services only (STYLE.md, rule 10)."""

from __future__ import annotations

import itertools

import factory
from stdnum.cn import uscc as stdnum_uscc

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from registry.services import accounts_open

_serial = itertools.count(1)


def make_uscc(province: str = "11", serial: int | None = None) -> str:
    """A valid 18-character USCC registered in `province`: authority 9, type 1, region, organization code, check."""
    number = next(_serial) if serial is None else serial
    body = f"91{province}0000{number:09d}"
    return body + stdnum_uscc.calc_check_digit(body)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Organization
        skip_postgeneration_save = True

    name = factory.Sequence(lambda n: f"Test Power Generation Co. {n}")
    province = "11"
    uscc = factory.LazyAttribute(lambda o: make_uscc(o.province))
    kind = Organization.Kind.KEY_EMITTING_UNIT
    sector = Organization.Sector.POWER

    @factory.post_generation
    def with_accounts(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted is not False and obj.kind == Organization.Kind.KEY_EMITTING_UNIT:
            accounts_open(organization=obj, actor=None)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-battery")

    @factory.post_generation
    def roles(obj, create, extracted, **kwargs):  # noqa: N805
        from django.contrib.auth.models import Group

        if create and extracted:
            obj.groups.set(Group.objects.filter(name__in=extracted))
        obj.save()

    @factory.post_generation
    def organization(obj, create, extracted, **kwargs):  # noqa: N805
        if create and extracted is not None:
            Membership.objects.create(user=obj, organization=extracted)


def user_with_role(role: Role, organization: Organization | None = None, **kwargs) -> User:
    return UserFactory(roles=[role], organization=organization, **kwargs)


def api_key_for(user: User) -> str:
    """An API token key for the user (tests.auth.api_token: made as from a two-factor verified session
    when the user's role requires one)."""
    from tests.auth import api_token

    return api_token(user)


def api_client_for(user: User):  # type: ignore[no-untyped-def]
    """A DRF test client that authenticates with the user's API token."""
    from rest_framework.test import APIClient

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {api_key_for(user)}")
    return client
