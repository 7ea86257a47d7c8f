from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class ExportJob(models.Model):
    """A large export (a national PDF, a big XLSX) made by a Celery worker rather than the web worker,
    with its progress on a page and a download link when ready (reports.export_jobs). The file waits
    under REPORTS_EXPORT_DIR by a generated name until the hourly clean-up."""

    class Status(models.TextChoices):
        QUEUED = "queued", _("Queued")
        RUNNING = "running", _("Running")
        DONE = "done", _("Ready")
        FAILED = "failed", _("Failed")
        EXPIRED = "expired", _("Expired")

    report = models.CharField(max_length=32, help_text="Which report: compliance")
    subject = models.CharField(max_length=64, help_text="The report's subject: the compliance period's code")
    province = models.CharField(max_length=2, blank=True, help_text="The province of the rows; blank: every province")
    file_format = models.CharField(max_length=8)
    params = models.JSONField(default=dict, help_text="The export's other filters (status, sort)")
    report_id = models.CharField(max_length=64, help_text="The identifier printed on the file")
    status = models.CharField(max_length=16, choices=Status.choices, default=Status.QUEUED)
    rows = models.PositiveIntegerField(default=0, help_text="Rows in the export")
    rows_done = models.PositiveIntegerField(default=0, help_text="Rows rendered so far")
    pages = models.PositiveIntegerField(default=0, help_text="Pages of a finished PDF")
    file = models.CharField(max_length=64, blank=True, help_text="The stored file's generated name")
    filename = models.CharField(max_length=200, help_text="The name the download is given")
    size = models.PositiveBigIntegerField(default=0, help_text="Bytes of the finished file")
    message = models.TextField(blank=True, help_text="Why a failed job failed")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.CheckConstraint(condition=models.Q(rows_done__lte=models.F("rows")),
                                              name="reports_exportjob_rows_done_within_rows")]

    def __str__(self) -> str:
        return f"{self.report} {self.subject} {self.file_format} export {self.pk} ({self.status})"

    @property
    def finished(self) -> bool:
        return self.status in (self.Status.DONE, self.Status.FAILED, self.Status.EXPIRED)

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, 100 * self.rows_done // self.rows) if self.rows else 0
