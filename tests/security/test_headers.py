"""Security headers on every response, no inline script in any template, and `check --deploy` clean
with production settings."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_every_response_carries_the_security_headers(client, trader_a):
    response = client.get("/login/")
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert "frame-ancestors 'none'" in csp and "object-src 'none'" in csp
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "same-origin"
    assert response.headers["Cross-Origin-Opener-Policy"] == "same-origin"
    cookie = client.cookies["csrftoken"]
    assert cookie["secure"] and cookie["samesite"] == "Lax"


def test_https_responses_carry_hsts_and_the_session_cookie_is_locked_down(client, trader_a):
    response = client.post("/login/", {"username": trader_a.username, "password": "correct-horse-battery"}, secure=True)
    assert response.headers["Strict-Transport-Security"].startswith("max-age=31536000; includeSubDomains")
    session = client.cookies["sessionid"]
    assert session["secure"] and session["httponly"] and session["samesite"] == "Lax"


def test_the_api_docs_load_their_scripts_from_this_site(client):
    page = client.get("/api/docs/").content.decode()
    scripts = re.findall(r"<script([^>]*)>(.*?)</script>", page, re.S)
    assert scripts and all('src="/' in attrs and not body.strip() for attrs, body in scripts)


def _templates():
    return [path for path in ROOT.glob("**/templates/**/*.html") if ".venv" not in path.parts]


def test_no_template_has_an_inline_script_or_event_handler():
    offenders = []
    for path in _templates():
        text = path.read_text()
        for match in re.finditer(r"<script(?![^>]*\bsrc=)(?![^>]*type=\"application/json\")[^>]*>", text):
            offenders.append(f"{path.relative_to(ROOT)}: inline {match.group(0)}")
        for match in re.finditer(r"\son[a-z]+\s*=\s*[\"']", text):
            offenders.append(f"{path.relative_to(ROOT)}: event handler {match.group(0).strip()}")
        if "javascript:" in text:
            offenders.append(f"{path.relative_to(ROOT)}: javascript: URL")
    assert not offenders, "CSP (script-src 'self') would block these; move them to static/js/:\n" + "\n".join(offenders)


PRODUCTION_ENV = {
    "DEBUG": "false",
    "SECRET_KEY": "production-like-secret-8f1c6b1e0d2a4f9e9b7c3a5d1e2f3a4b5c6d7e8f9a0b1c2d",
    "ALLOWED_HOSTS": "registry.example.cn",
    "SECURE_SSL_REDIRECT": "true",
    "SECURE_HSTS_PRELOAD": "true",
    "TRUSTED_PROXY_COUNT": "1",
}


def test_check_deploy_is_clean_with_production_settings():
    env = {key: value for key, value in os.environ.items() if key not in ("DEBUG", "SECURE_COOKIES", "DJANGO_ALLOW_ASYNC_UNSAFE")}
    env.update(PRODUCTION_ENV)
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout
