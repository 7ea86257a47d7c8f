"""The Idempotency-Key header, honoured on every API request that moves value.

- A request whose body carries its own id (an order's client_order_id, a surrender's
  client_request_id) is made idempotent by that id, enforced by a unique constraint in the service:
  the header stands in for the id when the body leaves it out, and a header that differs from the
  body's id is refused (422 `idempotency_key_mismatch`), since the two would name two requests.
- A request without such an id (cancelling an order) stores its answer under the key, in the same
  transaction as the change (`IdempotencyRecord`): a retry with the key gets the first answer again
  and changes nothing; the same key for another request is a 409 `idempotency_conflict`. Stored
  answers are kept IDEMPOTENCY_KEY_RETENTION_HOURS (an hourly job forgets older ones): a retry later
  than that is a new request.
Keys are per user, 1 to 64 printable ASCII characters (KEY_SCHEMA, as the OpenAPI schema says).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http.request import RawPostDataException
from django.utils import timezone
from django.utils.translation import gettext as _
from drf_spectacular.utils import OpenApiParameter
from rest_framework.request import Request
from rest_framework.response import Response

from core.audit import audit_record
from core.errors import IdempotencyConflict, IdempotencyKeyMismatch, InvalidInput
from core.models import IdempotencyRecord

HEADER = "Idempotency-Key"

# What idempotency_key() accepts, once HTTP has dropped the spaces around the value.
KEY_SCHEMA = {"type": "string", "minLength": 1, "maxLength": 64, "pattern": r"^[!-~]([ -~]{0,62}[!-~])?$"}

# For the OpenAPI schema of the views that honour the header.
IDEMPOTENCY_KEY_PARAMETER = OpenApiParameter(
    HEADER, KEY_SCHEMA, location=OpenApiParameter.HEADER, required=False,
    description="Your unique key for this request, 1 to 64 printable ASCII characters (else 400 `invalid`): a "
                "retry with the same key is answered as the first request and changes nothing; the same key "
                "for a different request is a 409 `idempotency_conflict`. Where the body has its own id (an "
                "order's client_order_id, a surrender's client_request_id) the key stands in for it, and a key "
                "that differs from it is a 422 `idempotency_key_mismatch`.",
)


def idempotency_key(request: Request) -> str | None:
    raw = request.headers.get(HEADER)
    if raw is None:
        return None
    key = raw.strip()
    if not 1 <= len(key) <= 64 or not (key.isascii() and key.isprintable()):
        raise InvalidInput(_("The %(header)s header must be 1 to 64 printable ASCII characters.") % {"header": HEADER},
                           field=HEADER)
    return key


def body_with_key(request: Request, field: str) -> Any:
    """The request's body, with the Idempotency-Key as its `field` if the body has none; a body
    whose `field` differs from the key is refused."""
    data = request.data
    key = idempotency_key(request)
    if key is None or not hasattr(data, "get"):
        return data  # (a body that is not an object is refused by the serializer)
    given = data.get(field)
    if given is None and field in data:
        return data  # a null id is no id, with or without the header: the serializer refuses it
    if given is None or given == "":
        data = data.copy()
        data[field] = key
        return data
    if str(given).strip() != key:
        raise IdempotencyKeyMismatch(_("The %(header)s header and %(field)s differ; send one, or the same value in both.") % {"header": HEADER, "field": field},
                                     field=field)
    return data


def _fingerprint(request: Request) -> str:
    """What identifies the request: its method, path and body. A multipart body is fingerprinted by
    its parsed fields and its files' names and contents, not its bytes: a retry of the same upload
    has another random boundary."""
    if request.content_type.startswith("multipart/"):
        body = json.dumps(
            [sorted((name, request.POST.getlist(name)) for name in request.POST),
             sorted((name, upload.name, _file_digest(upload)) for name, uploads in request.FILES.lists() for upload in uploads)],
            default=str).encode()
    else:
        try:
            body = request.body
        except RawPostDataException:  # already parsed: its parsed form stands for it
            body = json.dumps(request.data, sort_keys=True, default=str).encode()
    digest = hashlib.sha256()
    for part in (request.method or "", request.get_full_path(), body):
        digest.update(part.encode() if isinstance(part, str) else part)
        digest.update(b"\0")
    return digest.hexdigest()


def _file_digest(upload: Any) -> str:
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def idempotent(request: Request, run: Callable[[], Response]) -> Response:
    """Runs `run` (a view's work) once per Idempotency-Key: its answer is stored with the key in the
    same transaction, and a retry gets the stored answer. Without the header it just runs. A refused
    request (an error) stores nothing, so it may be retried with the same key."""
    key = idempotency_key(request)
    if key is None:
        return run()
    fingerprint = _fingerprint(request)
    with transaction.atomic():
        try:
            with transaction.atomic():
                # A concurrent request with the same key waits here until the first commits, then
                # fails on the unique constraint and replays the first's answer.
                record = IdempotencyRecord.objects.create(
                    user=request.user, key=key, method=request.method or "", path=request.path[:255],
                    fingerprint=fingerprint, status_code=0,
                )
        except IntegrityError:
            record = None
        if record is not None:
            response = run()
            record.status_code, record.response = response.status_code, response.data
            record.save(update_fields=["status_code", "response"])
            return response
    return _replay(IdempotencyRecord.objects.get(user=request.user, key=key), fingerprint)


def _replay(record: IdempotencyRecord, fingerprint: str) -> Response:
    if record.fingerprint != fingerprint:
        raise IdempotencyConflict(_("This %(header)s was already used for a different request.") % {"header": HEADER}, field=HEADER)
    return Response(record.response, status=record.status_code, headers={"Idempotent-Replayed": "true"})


def idempotency_records_purge() -> int:
    """Forgets the stored answers older than IDEMPOTENCY_KEY_RETENTION_HOURS; returns how many."""
    cutoff = timezone.now() - dt.timedelta(hours=settings.IDEMPOTENCY_KEY_RETENTION_HOURS)
    with transaction.atomic():
        deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
        if deleted:
            audit_record(actor=None, action="idempotency.purge", object_type="core.idempotencyrecord",
                         after={"deleted": deleted, "created_before": cutoff.isoformat()})
    return deleted
