"""OpenAPI schema additions (a drf-spectacular post-processing hook): the error answers every API
operation can give, all in the one error body of core.api, so clients and schema-driven tests know
them. Views declare only their success answers."""

from __future__ import annotations

from typing import Any

ERROR_SCHEMA = {
    "type": "object",
    "description": "Every error: a stable code, a human message and the field at fault (or null).",
    "properties": {
        "code": {"type": "string"},
        "message": {"type": "string"},
        "field": {"type": "string", "nullable": True},
        "errors": {"type": "object", "description": "Validation errors by field, when there are several."},
    },
    "required": ["code", "message", "field"],
}

_EVERY_OPERATION = {
    "400": "Invalid input (`code` says what, `field` where)",
    "401": "Not authenticated, or an invalid token",
    "403": "Not allowed for your role or organization",
    "404": "No such object, or not yours",
    "406": "Cannot answer in the Accept header's media type",
    "413": "Request body larger than API_MAX_BODY_SIZE (`request_too_large`)",
}
_CHANGING_OPERATION = {
    "409": "Refused by the state of things (e.g. `insufficient_funds`, `idempotency_conflict`)",
    "415": "Unsupported Content-Type",
    "422": "The Idempotency-Key header and the body's id differ (`idempotency_key_mismatch`)",
    "429": "Rate limited (`rate_limited`); retry after Retry-After seconds",
}
_RETRY_AFTER = {"Retry-After": {"schema": {"type": "integer"}, "description": "Seconds to wait before retrying"}}


def error_responses(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    components = result.setdefault("components", {}).setdefault("schemas", {})
    components["Error"] = ERROR_SCHEMA
    body = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        if not path.startswith("/api/"):
            continue
        for method, operation in operations.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            statuses = dict(_EVERY_OPERATION)
            if method != "get":
                statuses.update(_CHANGING_OPERATION)
            responses = operation.setdefault("responses", {})
            for status, description in statuses.items():
                if status not in responses:
                    responses[status] = {"description": description, "content": body}
                    if status == "429":
                        responses[status]["headers"] = _RETRY_AFTER
    return result
