from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models


class AuditEvent(models.Model):
    """Who changed what, when, from where. Written by services in the same transaction as the change.

    Append-only: on PostgreSQL a trigger refuses UPDATE and DELETE.
    """

    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(max_length=150, blank=True, help_text="Username, or 'system' for jobs.")
    action = models.CharField(max_length=64, db_index=True)
    object_type = models.CharField(max_length=64, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    before = models.JSONField(null=True, blank=True)
    after = models.JSONField(null=True, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{self.created_at:%Y-%m-%d %H:%M:%S} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"


class IdempotencyRecord(models.Model):
    """The answer given to a request sent with an Idempotency-Key, for requests that have no id of
    their own in the body (cancels): a retry with the same key gets the same answer and does nothing.
    Written in the transaction of the change itself, so a key is stored exactly when the change is."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=64)
    method = models.CharField(max_length=8)
    path = models.CharField(max_length=255)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of method, path and body.")
    status_code = models.PositiveSmallIntegerField()
    response = models.JSONField(encoder=DjangoJSONEncoder, null=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="core_idempotency_user_key_unique")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class ImportJob(models.Model):
    """An admin import confirmed for saving (an allocation plan, verified emissions): run by a Celery
    worker, not the web worker, with its progress on a page. The uploaded file waits under
    IMPORT_UPLOAD_DIR until the job ends (then it is deleted, whatever the outcome)."""

    class Kind(models.TextChoices):
        ALLOCATION_PLAN = "allocation_plan", "Allocation plan"
        VERIFIED_EMISSIONS = "verified_emissions", "Verified emissions"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Saved"
        REFUSED = "refused", "Refused: nothing saved"
        FAILED = "failed", "Failed: nothing saved"

    kind = models.CharField(max_length=32, choices=Kind.choices)
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(max_length=16, blank=True, help_text="reading, checking or saving")
    rows = models.PositiveIntegerField(default=0, help_text="Rows read so far")
    percent = models.PositiveSmallIntegerField(default=0, help_text="Progress, 0 to 100")
    upload = models.CharField(max_length=64, unique=True, help_text="The stored file's generated name")
    source_name = models.CharField(max_length=200, blank=True, help_text="The file name as uploaded")
    params = models.JSONField(default=dict)
    result = models.JSONField(default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-id"]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} import {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED, self.Status.FAILED)
