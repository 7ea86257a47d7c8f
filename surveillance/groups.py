"""Who counts as one owner for self-trade prevention: an organization, or its related-party group when
the group has self-trade prevention on (SURVEILLANCE_GROUP_STP switches it off everywhere).

The matcher asks for every order it applies, so the mapping is remembered per process for
GROUP_CACHE_SECONDS: a change of groups in the admin reaches new orders within seconds (orders
already resting keep the owner they had when they were booked)."""

from __future__ import annotations

import time

from django.conf import settings

GROUP_CACHE_SECONDS = 5.0
_cache: tuple[float, dict[int, int]] = (0.0, {})


def owners() -> dict[int, int]:
    """{organization id: owner key} for the members of groups with self-trade prevention on; the key
    is the group's id, negated (never an organization's id). Organizations not in it own themselves."""
    global _cache
    expires, mapping = _cache
    now = time.monotonic()
    if now < expires:
        return mapping
    from surveillance.models import GroupMember

    mapping = {} if not settings.SURVEILLANCE_GROUP_STP else dict(
        (organization_id, -group_id) for organization_id, group_id in
        GroupMember.objects.filter(group__self_trade_prevention=True).values_list("organization_id", "group_id"))
    _cache = (now + GROUP_CACHE_SECONDS, mapping)
    return mapping


def owner_of(organization_id: int) -> int:
    return owners().get(organization_id, organization_id)


def owners_forget(**kwargs: object) -> None:
    """Read the groups again at the next order (after an admin change, and between tests)."""
    global _cache
    _cache = (0.0, {})
