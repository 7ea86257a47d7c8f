"""Every URL is safe to call with anything: every page and endpoint of the URL configuration (the
admin's too), as anonymous and as each kind of user, with hostile path parameters and query values
(NUL, overlong, other scripts' digits, `../`, SQL and template syntax, numbers too large for the
database, malformed percent-encoding). No answer may be a server error; a refusal under /api/ is a
coded JSON error. Each request runs in a transaction rolled back afterwards.

Also: a JSON body nested deeper than API_MAX_JSON_DEPTH is a 400 `parse_error`."""

from __future__ import annotations

import functools
import re
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import transaction
from django.test import Client
from rest_framework.test import APIClient

from tests.auth import login
from tests.security.test_authorization_matrix import RULES, Rule, url_patterns, world  # noqa: F401 (a fixture)

HOSTILE = [
    "\x00",
    "x" * 5_000,
    "٤٩",  # Arabic-Indic digits: int() reads them, the database would not
    "9" * 30,  # past any database integer
    "-1e400",
    # one value for the syntaxes and scripts that only need to arrive intact: a path out of the
    # folder, SQL, Django template syntax, a right-to-left override and a character outside the BMP
    "../../etc/passwd' OR 1=1 --{{ 7|add:7 }}{% debug %}\u202e😀",
]
RAW_QUERY = "%FF%FE=%C0%AF&%E4%B8=1"  # percent-encoding that is not UTF-8

# Roles as kinds of caller: anonymous, a company's trader and compliance officer, a verifier, and
# staff (auditor, national regulator). The admin is walked as the national regulator, who reaches
# every admin page the auditor reads (read-only) and more; the auditor's read-only admin pages are
# rendered by the authorization matrix and the admin-in-Chinese walk.
SITE_ROLES = ("anon", "trader_a", "officer_a", "verifier", "auditor", "national")
ADMIN_ROLES = ("national",)


@functools.cache
def query_names() -> list[str]:
    """Every query parameter the code reads (request.GET, query_params, filter fields, schema
    parameters), and the admin's own (read once per test session)."""
    names = {"q", "o", "p", "e", "all", "_changelist_filters", "_popup", "_to_field", "limit", "offset", "next"}
    pattern = re.compile(r"""(?:GET|query_params)(?:\.get|\.getlist)?[(\[]\s*["'](\w+)["']|OpenApiParameter\(\s*["'](\w+)["']""")
    fields = re.compile(r"filterset_fields\s*=\s*\[([^\]]*)\]")
    for path in Path(settings.BASE_DIR).glob("*/*.py"):
        if path.parts[-2] in ("tests", "bench", ".venv"):
            continue
        text = path.read_text(encoding="utf-8")
        names.update(name for match in pattern.findall(text) for name in match if name)
        for match in fields.findall(text):
            names.update(re.findall(r"\w+", match))
    return sorted(names)


def _path(route: str, value: str) -> str:
    """The route with every parameter (and the admin's regex groups) replaced by `value`."""
    quoted = quote(value, safe="")
    path = re.sub(r"<(?:\w+:)?\w+>", quoted, route)
    path = re.sub(r"\(\?P<\w+>[^)]*\)", quoted, path)
    return "/" + path.lstrip("^").rstrip("$")


def _calls(route: str, name: str | None) -> list[tuple[str, str]]:
    """(method, path?query) for one URL: hostile path parameters, then hostile query values."""
    methods = sorted({rule.method for rule in RULES.get(name or "", [Rule("GET", "")])} | {"GET"})
    names = query_names()
    plain = _path(route, "1")
    calls = []
    for value in HOSTILE:
        if "<" in route or "(?P" in route:
            calls += [(method, _path(route, value)) for method in methods]
        query = "&".join(f"{key}={quote(value, safe='')}" for key in names)
        calls += [(method, f"{plain}?{query}") for method in methods]
    calls += [("GET", f"{plain}?{RAW_QUERY}")]
    return calls


class _Undo(Exception):
    pass


def _walk(objects: dict[str, Any], roles: tuple[str, ...], admin: bool) -> list[str]:
    problems = []
    for role in roles:
        user = objects["users"][role]
        for route, name, _ in url_patterns():
            if route.startswith("admin/") != admin:
                continue
            api = route.startswith("api/")
            client = (APIClient if api else Client)(raise_request_exception=False)
            if user is not None:
                login(client, user)
            for method, url in _calls(route, name):
                try:
                    with transaction.atomic():
                        response = client.generic(method, url)
                        raise _Undo
                except _Undo:
                    pass
                if response.status_code >= 500:
                    problems.append(f"{role}: {method} {url[:160]} -> {response.status_code}")
                elif api and response.status_code >= 400 and response.get("Content-Type", "").startswith("application/json"):
                    body = response.json()
                    if not (body.get("code") and body.get("message")):
                        problems.append(f"{role}: {method} {url[:160]} -> {response.status_code} without a code: {body}")
    return problems


@pytest.mark.parametrize("role", SITE_ROLES)
def test_no_page_or_endpoint_fails_on_hostile_input(world, role):  # noqa: F811
    problems = _walk(world, (role,), admin=False)
    assert not problems, f"{len(problems)} server errors or uncoded refusals:\n" + "\n".join(problems[:40])


def test_no_admin_page_fails_on_hostile_input(world):  # noqa: F811
    problems = _walk(world, ADMIN_ROLES, admin=True)
    assert not problems, f"{len(problems)} server errors:\n" + "\n".join(problems[:40])


def _nested(depth: int) -> str:
    return "[" * depth + "]" * depth


@pytest.mark.parametrize("depth", [settings.API_MAX_JSON_DEPTH + 1, 30_000])
def test_a_body_nested_too_deep_is_a_400(world, depth):  # noqa: F811
    client = login(APIClient(raise_request_exception=False), world["users"]["trader_a"])
    body = '{"instrument": "CEA21", "side": "buy", "price": "54.00", "quantity": 1, "client_order_id": "deep", "x": ' \
           + _nested(depth) + "}"
    response = client.post("/api/v1/orders/", body, content_type="application/json")
    assert response.status_code == 400, response.content[:200]
    assert response.json()["code"] == "parse_error" and str(settings.API_MAX_JSON_DEPTH) in response.json()["message"]


def test_a_body_within_the_depth_limit_is_read(world):  # noqa: F811
    client = login(APIClient(), world["users"]["trader_a"])
    body = '{"instrument": "CEA21", "side": "buy", "price": "54.00", "quantity": 1, "client_order_id": "shallow", "x": ' \
           + _nested(settings.API_MAX_JSON_DEPTH - 1) + "}"
    assert client.post("/api/v1/orders/", body, content_type="application/json").status_code == 201


@pytest.mark.parametrize("url", ["/disclosure/%00/", "/disclosure/?province=%00", "/trade/%00/", "/market/?x=%00"])
def test_a_nul_in_a_page_url_is_a_400_page(url):
    response = Client().get(url)
    assert response.status_code == 400 and "NUL" in response.content.decode()
