"""OpenAPI schema additions (a drf-spectacular post-processing hook): the error answers every API
operation can give, all in the one error body of core.api, so clients and schema-driven tests know
them. Views declare their success answers, and the errors only some operations give (with the
responses below); the hook gives every declared error the error body. It also says what the server
refuses in every URL: a string parameter of a path or query never holds a NUL."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import OpenApiResponse

# For the operations whose body has its own id that the Idempotency-Key header stands in for.
IDEMPOTENCY_KEY_MISMATCH = {422: OpenApiResponse(
    description="The Idempotency-Key header and the body's own id differ (`idempotency_key_mismatch`, "
                "`field` names the body's id): send one, or the same value in both",
)}
# For the operations with an instrument's symbol in their path.
INSTRUMENT_NOT_FOUND = {404: OpenApiResponse(description="No instrument has this symbol (`unknown_instrument`)")}

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
    "414": "URL longer than the reverse proxy takes (8 KB): its own text/html page, before the application",
}
_CHANGING_OPERATION = {
    "409": "Refused by the state of things (e.g. `insufficient_funds`, `idempotency_conflict`)",
    "415": "Unsupported Content-Type",
    "429": "Rate limited (`rate_limited`); retry after Retry-After seconds",
}
# What nginx (deploy/nginx.conf.template) answers itself, before the application: a URL over its 8 KB
# buffer, a body over client_max_body_size.
_PROXY_PAGE = {"text/html": {"schema": {"type": "string"}}}
# A NUL in an API URL (path or query) is refused with a 400 before any view (core.middleware).
NO_NUL = r"^[^\x00]*$"
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
            responses["413"]["description"] += "; over 12 MB, the reverse proxy's text/html page"
            responses["413"]["content"] = {**body, **_PROXY_PAGE}
            responses["414"]["content"] = _PROXY_PAGE
            for status, response in responses.items():
                if status.startswith("4") and not response.get("content"):  # an error the view declared
                    response["content"] = body
            for parameter in operation.get("parameters", []):
                schema = parameter.get("schema", {})
                if parameter.get("in") in ("path", "query") and schema.get("type") == "string" \
                        and "enum" not in schema and "pattern" not in schema:
                    schema["pattern"] = NO_NUL
    return result


def creation_links(result: dict[str, Any], generator: Any, request: Any, public: bool) -> dict[str, Any]:
    """OpenAPI links from a POST that creates an object to the operations on it: the created object's
    `id` is the path parameter of `/collection/{id}/...`. Clients see where an id leads, and the
    stateful phase of schemathesis follows them (create an order, read it, cancel it)."""
    paths = result.get("paths", {})
    for collection, operations in paths.items():
        create = operations.get("post")
        if not collection.startswith("/api/") or create is None:
            continue
        targets = {}
        for path, others in paths.items():
            rest = path[len(collection):] if path.startswith(collection) else ""
            if not rest.startswith("{") or "}/" not in rest:
                continue
            parameter = rest[1:rest.index("}")]
            for method, operation in others.items():
                if method in ("get", "post", "put", "patch", "delete") and operation.get("operationId"):
                    targets[operation["operationId"]] = {
                        "operationId": operation["operationId"], "parameters": {parameter: "$response.body#/id"},
                    }
        for status in ("200", "201"):
            if targets and status in create.get("responses", {}):
                create["responses"][status]["links"] = dict(sorted(targets.items()))
    return result
