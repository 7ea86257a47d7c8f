"""Django's model backend, with the user's permissions from accounts.access (remembered between
requests) instead of two queries on each request's first permission check."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.backends import ModelBackend

from accounts.access import access_of


class AccessBackend(ModelBackend):
    def get_all_permissions(self, user_obj: Any, obj: Any = None) -> set[str]:
        if not user_obj.is_active or user_obj.is_anonymous or obj is not None:
            return set()
        return set(access_of(user_obj).permissions)
