"""What a user may do and for whom, remembered by each process between requests.

A user's roles, permissions and organizations change rarely (an administrator's edit), but every
request asks for them: reading them per request cost three to five queries on the API's hot path.
They are remembered per process, keyed by the user's id and `User.access_version`. That version
is on the user's own row, which every request loads anyway (the session's user, or the API token's
user in the same query), so a change reaches every process at its next request with no extra query.

Every change that alters what `access_of` computes bumps the version of the users concerned, in the
same transaction (receivers below): their groups or permissions, a group's permissions, their
memberships, an organization's row (its status and kind decide who may trade). The user's own flags
(`is_active`, `is_superuser`, `is_staff`) are read from the row itself, never from here.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import F, Q

# Enough for every user of a national market in each process; past it the oldest half is forgotten.
CACHE_SIZE = 50_000


@dataclass(frozen=True, slots=True)
class Access:
    roles: frozenset[str]
    permissions: frozenset[str]  # "app_label.codename", from the user's groups and its own
    organization_ids: frozenset[int]
    # The organization of a user with exactly one membership (the one a company user acts for).
    organization: Any


_cache: dict[int, tuple[int, Access]] = {}
_cache_lock = threading.Lock()


def access_of(user: Any) -> Access:
    """The user's roles, permissions and organizations (an authenticated, saved user)."""
    memo = getattr(user, "_access", None)
    if memo is not None and memo[0] == user.access_version:
        return memo[1]
    entry = _cache.get(user.pk)
    if entry is None or entry[0] != user.access_version:
        # Read after the version: a change committed meanwhile bumps it again, so at worst a newer
        # state is remembered under the older version, and the next request reads it anew.
        entry = (user.access_version, _access_read(user))
        with _cache_lock:
            if len(_cache) >= CACHE_SIZE:
                for stale in list(_cache)[: CACHE_SIZE // 2]:
                    _cache.pop(stale, None)
            _cache[user.pk] = entry
    user._access = entry
    return entry[1]


def _access_read(user: Any) -> Access:
    from django.contrib.auth.models import Permission

    from accounts.models import Membership

    roles = frozenset(user.groups.values_list("name", flat=True))
    permissions = frozenset(
        f"{app_label}.{codename}"
        for app_label, codename in Permission.objects.filter(Q(user=user) | Q(group__user=user))
        .values_list("content_type__app_label", "codename").distinct()
    )
    organizations = [membership.organization for membership in Membership.objects.filter(user=user).select_related("organization")]
    return Access(
        roles=roles,
        permissions=permissions,
        organization_ids=frozenset(organization.pk for organization in organizations),
        organization=organizations[0] if len(organizations) == 1 else None,
    )


def access_cache_clear() -> None:
    """Forgets everything remembered (the test runner empties the database between tests)."""
    with _cache_lock:
        _cache.clear()


# --- invalidation --------------------------------------------------------------------------------


def access_changed(user_ids: Iterable[int]) -> None:
    """Bumps the access version of these users (in the current transaction)."""
    from accounts.models import User

    ids = {user_id for user_id in user_ids if user_id is not None}
    if ids:
        User.objects.filter(pk__in=ids).update(access_version=F("access_version") + 1)


def _bump_instance(user: Any) -> None:
    """Keeps an object in hand (a test's, a command's) in step with the row it was loaded from."""
    if user is not None and getattr(user, "pk", None) is not None:
        user.access_version = (user.access_version or 0) + 1
        user.__dict__.pop("_access", None)


def _members_of_groups(group_ids: Iterable[int]) -> list[int]:
    from accounts.models import User

    return list(User.objects.filter(groups__in=list(group_ids)).values_list("pk", flat=True))


def _holders_of_permissions(permission_ids: Iterable[int]) -> list[int]:
    from accounts.models import User

    ids = list(permission_ids)
    return list(User.objects.filter(Q(user_permissions__in=ids) | Q(groups__permissions__in=ids)).values_list("pk", flat=True))


def _user_relation_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any) -> None:
    """A user's groups or own permissions (User.groups / User.user_permissions, from either side)."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:
        access_changed([instance.pk])
        _bump_instance(instance)
    elif action == "pre_clear":  # a group (or permission) loses all its users: find them while they are there
        access_changed(instance.user_set.values_list("pk", flat=True))
    else:
        access_changed(pk_set or ())


def _group_permissions_changed(sender: Any, instance: Any, action: str, reverse: bool, pk_set: set[int] | None, **kwargs: Any) -> None:
    """A group's permissions (Group.permissions, from either side)."""
    if action not in ("post_add", "post_remove", "pre_clear"):
        return
    if not reverse:
        access_changed(_members_of_groups([instance.pk]))
    elif action == "pre_clear":
        access_changed(_members_of_groups(instance.group_set.values_list("pk", flat=True)))
    else:
        access_changed(_members_of_groups(pk_set or ()))


def _membership_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    access_changed([instance.user_id])
    if "user" in instance._state.fields_cache:
        _bump_instance(instance.user)


def _organization_changed(sender: Any, instance: Any, created: bool = False, **kwargs: Any) -> None:
    if not created:
        from accounts.models import Membership

        access_changed(Membership.objects.filter(organization=instance).values_list("user_id", flat=True))


def _group_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    access_changed(_members_of_groups([instance.pk]))


def _permission_deleted(sender: Any, instance: Any, **kwargs: Any) -> None:
    access_changed(_holders_of_permissions([instance.pk]))


def receivers_connect() -> None:
    """Called once from AccountsConfig.ready."""
    from django.contrib.auth.models import Group, Permission
    from django.db.models.signals import m2m_changed, post_delete, post_save, pre_delete

    from accounts.models import Membership, Organization, User

    m2m_changed.connect(_user_relation_changed, sender=User.groups.through, dispatch_uid="access.user_groups")
    m2m_changed.connect(_user_relation_changed, sender=User.user_permissions.through, dispatch_uid="access.user_permissions")
    m2m_changed.connect(_group_permissions_changed, sender=Group.permissions.through, dispatch_uid="access.group_permissions")
    post_save.connect(_membership_changed, sender=Membership, dispatch_uid="access.membership_saved")
    post_delete.connect(_membership_changed, sender=Membership, dispatch_uid="access.membership_deleted")
    post_save.connect(_organization_changed, sender=Organization, dispatch_uid="access.organization_saved")
    pre_delete.connect(_group_deleted, sender=Group, dispatch_uid="access.group_deleted")
    pre_delete.connect(_permission_deleted, sender=Permission, dispatch_uid="access.permission_deleted")
