"""The client's address, as far as this deployment can trust it; safe download names."""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str | None:
    """REMOTE_ADDR, or behind TRUSTED_PROXY_COUNT reverse proxies the X-Forwarded-For entry that many
    places from the right: each trusted proxy appends the address it saw, so entries further left were
    written by the client and prove nothing. Too few entries (a request that skipped a proxy) falls
    back to REMOTE_ADDR."""
    remote = request.META.get("REMOTE_ADDR")
    count = settings.TRUSTED_PROXY_COUNT
    if not count:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(forwarded) < count:
        return remote
    return forwarded[-count]


# Controls, quotes, backslashes, path separators, characters Windows refuses in names, and the
# bidirectional overrides that make "report\u202efdp.exe" look like "reportexe.pdf".
_UNSAFE_NAME = re.compile(r'[\x00-\x1f\x7f"\\/:*?<>|;%\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]')
_NAME_CHARS = 120


def safe_filename(name: str | None, *, extension: str | None = None, default: str = "download") -> str:
    """A file name to offer a browser: the last path component of `name` without anything unsafe in
    a header or a file system, at most 120 characters; with `extension`, ending in it (the kind the
    content was recognised as, not what the uploader called it)."""
    text = unicodedata.normalize("NFC", str(name or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = _UNSAFE_NAME.sub("_", text).strip(" .")
    if extension:
        stem = text.rsplit(".", 1)[0] if "." in text else text
        stem = stem.strip(" .")[: _NAME_CHARS - len(extension) - 1] or default
        return f"{stem}.{extension}"
    return text[:_NAME_CHARS] or default


def content_disposition(name: str | None, *, extension: str | None = None, inline: bool = False) -> str:
    """A Content-Disposition value (RFC 6266): an ASCII `filename` every browser reads, and for a
    non-ASCII name its UTF-8 `filename*` (percent-encoded), both from safe_filename: no quote, CR,
    LF or path separator of the user's can reach the header."""
    safe = safe_filename(name, extension=extension)
    fallback = "".join(c if 32 <= ord(c) < 127 else "_" for c in safe)
    if extension and not fallback.strip("_.").removesuffix(extension).strip("_."):
        fallback = f"download.{extension}"
    value = f'{"inline" if inline else "attachment"}; filename="{fallback}"'
    if fallback != safe:
        value += f"; filename*=UTF-8''{quote(safe, safe='')}"
    return value
