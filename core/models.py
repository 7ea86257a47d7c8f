from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils.timezone import localtime
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _


class AuditEvent(models.Model):
    """Who changed what, when, from where. Written by services in the same transaction as the change.

    Append-only: on PostgreSQL a trigger refuses UPDATE and DELETE.
    """

    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("actor"), null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor_label = models.CharField(_("actor label"), max_length=150, blank=True, help_text=_("Username, or 'system' for jobs."))
    action = models.CharField(_("action"), max_length=64, db_index=True)
    object_type = models.CharField(_("object type"), max_length=64, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    before = models.JSONField(_("before"), null=True, blank=True)
    after = models.JSONField(_("after"), null=True, blank=True)
    ip = models.GenericIPAddressField(_("IP address"), null=True, blank=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["-id"]
        indexes = [models.Index(fields=["object_type", "object_id"])]

    def __str__(self) -> str:
        return f"{localtime(self.created_at):%Y-%m-%d %H:%M:%S %Z} {self.actor_label} {self.action} {self.object_type}:{self.object_id}"


class IdempotencyRecord(models.Model):
    """The answer given to a request sent with an Idempotency-Key, for requests that have no id of
    their own in the body (cancels): a retry with the same key gets the same answer and does nothing.
    Written in the transaction of the change itself, so a key is stored exactly when the change is."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("user"), on_delete=models.CASCADE, related_name="+")
    key = models.CharField(_("key"), max_length=64)
    method = models.CharField(_("method"), max_length=8)
    path = models.CharField(_("path"), max_length=255)
    fingerprint = models.CharField(_("fingerprint"), max_length=64, help_text=_("SHA-256 of method, path and body."))
    status_code = models.PositiveSmallIntegerField(_("status code"))
    response = models.JSONField(_("response"), encoder=DjangoJSONEncoder, null=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True, db_index=True)

    class Meta:
        verbose_name = _("idempotency record")
        verbose_name_plural = _("idempotency records")
        constraints = [models.UniqueConstraint(fields=["user", "key"], name="core_idempotency_user_key_unique")]

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.key}]"


class ImportJob(models.Model):
    """An admin import confirmed for saving (an allocation plan, verified emissions): run by a Celery
    worker, not the web worker, with its progress on a page. The uploaded file waits under
    IMPORT_UPLOAD_DIR until the job ends (then it is deleted, whatever the outcome)."""

    class Kind(models.TextChoices):
        ALLOCATION_PLAN = "allocation_plan", _("Allocation plan")
        VERIFIED_EMISSIONS = "verified_emissions", _("Verified emissions")

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Saved")
        REFUSED = "refused", _("Refused: nothing saved")
        FAILED = "failed", _("Failed: nothing saved")

    kind = models.CharField(_("kind"), max_length=32, choices=Kind.choices)
    status = models.CharField(_("status"), max_length=16, choices=Status.choices, default=Status.QUEUED)
    phase = models.CharField(_("phase"), max_length=16, blank=True, help_text=_("reading, checking or saving"))
    rows = models.PositiveIntegerField(_("rows"), default=0, help_text=_("Rows read so far"))
    percent = models.PositiveSmallIntegerField(_("percent"), default=0, help_text=_("Progress, 0 to 100"))
    upload = models.CharField(_("upload"), max_length=64, unique=True, help_text=_("The stored file's generated name"))
    source_name = models.CharField(_("source name"), max_length=200, blank=True, help_text=_("The file name as uploaded"))
    params = models.JSONField(_("params"), default=dict)
    result = models.JSONField(_("result"), default=dict, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name=_("created by"), on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("import job")
        verbose_name_plural = _("import jobs")
        ordering = ["-id"]

    def __str__(self) -> str:
        return gettext("%(kind)s import %(id)s (%(status)s)") % {
            "kind": self.get_kind_display(), "id": self.pk, "status": self.get_status_display()}

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.REFUSED, self.Status.FAILED)
