"""The API's JSON parser: DRF's, with a bound on nesting. A body nested deeper than
API_MAX_JSON_DEPTH is a 400 `parse_error`, never a RecursionError deep in the server."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _
from rest_framework import parsers
from rest_framework.exceptions import ParseError


def json_depth_exceeds(data: Any, limit: int) -> bool:
    """Whether `data` (parsed JSON) nests objects and arrays more than `limit` levels deep."""
    level = [data]
    for _depth in range(limit):
        level = [child for value in level if isinstance(value, (dict, list))
                 for child in (value.values() if isinstance(value, dict) else value)]
        if not level:
            return False
    return any(isinstance(value, (dict, list)) for value in level)


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        limit = settings.API_MAX_JSON_DEPTH
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            data = None
        else:
            if not json_depth_exceeds(data, limit):
                return data
        raise ParseError(_("The JSON body is nested more than %(limit)s levels deep.") % {"limit": limit})
