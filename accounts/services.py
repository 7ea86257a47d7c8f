"""Writes to organizations, users and memberships. Each one audited in its own transaction."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.db import transaction

from accounts.models import Membership, Organization, User
from accounts.roles import Role
from accounts.validators import validate_uscc
from core.audit import audit_record
from core.errors import AlreadyExists, InvalidInput, InvalidUSCC


def organization_create(
    *, name: str, uscc: str, kind: str, sector: str = Organization.Sector.POWER, province: str = "", actor: Any
) -> Organization:
    name = name.strip()
    if not name:
        raise InvalidInput("An organization needs a name.", field="name")
    try:
        validate_uscc(uscc)
    except ValidationError as error:
        raise InvalidUSCC(error.messages[0], field="uscc") from None
    if kind not in Organization.Kind.values:
        raise InvalidInput(f"Unknown kind {kind!r}.", field="kind")
    if sector not in Organization.Sector.values:
        raise InvalidInput(f"Unknown sector {sector!r}.", field="sector")
    if province and province not in dict(Organization._meta.get_field("province").choices):
        raise InvalidInput(f"Unknown province code {province!r}.", field="province")
    with transaction.atomic():
        if Organization.objects.filter(uscc=uscc).exists():
            raise AlreadyExists(f"An organization with USCC {uscc} is already registered.", field="uscc")
        organization = Organization.objects.create(name=name, uscc=uscc, kind=kind, sector=sector, province=province)
        audit_record(
            actor=actor,
            action="organization.create",
            obj=organization,
            after={"name": name, "uscc": uscc, "kind": kind, "sector": sector, "province": province},
        )
    return organization


def user_create(
    *, username: str, password: str | None, roles: list[str], organization: Organization | None = None, actor: Any, **fields: Any
) -> User:
    unknown = set(roles) - set(Role.values)
    if unknown:
        raise InvalidInput(f"Unknown roles: {', '.join(sorted(unknown))}.", field="roles")
    with transaction.atomic():
        if User.objects.filter(username=username).exists():
            raise AlreadyExists(f"The username {username} is taken.", field="username")
        user = User.objects.create_user(username=username, password=password, **fields)
        user.groups.set(Group.objects.filter(name__in=roles))
        if organization is not None:
            Membership.objects.create(user=user, organization=organization)
        audit_record(
            actor=actor,
            action="user.create",
            obj=user,
            after={"username": username, "roles": sorted(roles), "organization": organization.uscc if organization else None},
        )
    return user
