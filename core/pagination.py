"""Pagination that refuses what it cannot use: DRF's LimitOffsetPagination silently falls back to
its defaults for `limit=-5` or `offset=abc`, answering a question the client did not ask."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from rest_framework.pagination import LimitOffsetPagination

from core.errors import InvalidInput


class StrictLimitOffsetPagination(LimitOffsetPagination):
    max_limit = 1000

    def _whole(self, request: Any, name: str, *, minimum: int, maximum: int | None = None) -> int | None:
        raw = request.query_params.get(name)
        if raw is None:
            return None
        try:
            value = int(raw)
        except ValueError:
            raise InvalidInput(_("%(name)s must be a whole number.") % {"name": name}, field=name) from None
        if maximum is not None and not minimum <= value <= maximum:
            raise InvalidInput(_("%(name)s must be %(low)s to %(high)s.") % {"name": name, "low": minimum, "high": maximum}, field=name)
        if value < minimum:
            raise InvalidInput(_("%(name)s must be at least %(low)s.") % {"name": name, "low": minimum}, field=name)
        return value

    def get_limit(self, request: Any) -> int | None:
        limit = self._whole(request, self.limit_query_param, minimum=1, maximum=self.max_limit)
        return self.default_limit if limit is None else limit

    def get_offset(self, request: Any) -> int:
        return self._whole(request, self.offset_query_param, minimum=0) or 0

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            schema = parameter["schema"]
            if parameter["name"] == self.limit_query_param:
                schema.update(minimum=1, maximum=self.max_limit)
            elif parameter["name"] == self.offset_query_param:
                schema.update(minimum=0)
        return parameters
