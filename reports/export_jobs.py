"""Large exports as jobs: above REPORTS_PDF_JOB_ROWS (PDF) or REPORTS_XLSX_JOB_ROWS (XLSX) rows the
compliance export is made by a Celery worker (`export_job_task`), not the web worker. The request
records the export (its audit event names the report, as a direct download's does) and redirects to
the job's page, which shows the rows rendered so far and, when ready, a download link. The file waits
under REPORTS_EXPORT_DIR by a generated name; the hourly clean-up deletes it after
REPORTS_EXPORT_RETENTION_HOURS. Who may download it: whoever may read the same table now (the same
report permission and the same scope: a provincial regulator never gets another province's rows)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from pathlib import Path
from typing import Any

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from accounts.selectors import sees_all_organizations, user_province
from core.errors import DomainError, InvalidInput, NotFound, PermissionDenied
from core.import_jobs import stale_files_delete
from reports import archive, compliance_export
from reports.models import ExportJob
from reports.selectors import (
    COMPLIANCE_PERMISSION,
    compliance_rows_arranged,
    compliance_scope,
    compliance_table,
    data_snapshot,
    period_get,
)
from reports.services import export_record

logger = logging.getLogger(__name__)

_FILE_NAME = re.compile(r"[0-9a-f]{32}\.(pdf|xlsx|zip)")
JOB_FORMATS = ("pdf", "xlsx")


def export_dir() -> Path:
    return Path(settings.REPORTS_EXPORT_DIR)


def file_path(name: str) -> Path | None:
    """The stored file of a generated name, or None for any other text (no path tricks)."""
    if not isinstance(name, str) or not _FILE_NAME.fullmatch(name):
        return None
    return export_dir() / name


def export_as_job(file_format: str, rows: int) -> bool:
    """Whether an export of `rows` rows in `file_format` is made by a job rather than in the request."""
    if file_format == "pdf":
        return rows > settings.REPORTS_PDF_JOB_ROWS
    if file_format == "xlsx":
        return rows > settings.REPORTS_XLSX_JOB_ROWS
    return False


def export_job_start(*, user: Any, period: str, province: str | None, status: str | None, sort: str,
                     file_format: str, rows: int) -> ExportJob:
    """Records the export (the audit event's id names the report) and queues the job that makes the file."""
    filters = {"province": province or "", **({"status": status} if status else {})}
    with transaction.atomic():
        event = export_record(actor=user, report="compliance", subject=period, file_format=file_format, rows=rows,
                              filters={**filters, "job": True})
        job = ExportJob.objects.create(
            report="compliance", subject=period, province=province or "", file_format=file_format,
            params={"status": status or "", "sort": sort, "language": translation.get_language() or settings.LANGUAGE_CODE},
            report_id=f"NCR-{period}-{event.pk:08d}", rows=rows,
            filename=compliance_export.filename(period, province, status, file_format),
            created_by=user)
    return _queued(job, field="format")


def _queued(job: ExportJob, *, field: str) -> ExportJob:
    """Queues the job that makes the file; with the broker unreachable the job is failed and the
    request refused on `field` (nothing is left waiting that no worker will take)."""
    try:
        export_job_task.delay(job.pk)
    except Exception as error:  # noqa: BLE001 - whatever the broker client raises
        logger.warning("%s job %s not queued: %s", job.report, job.pk, error)
        _finish(job.pk, ExportJob.Status.FAILED, message=_("The job queue is unreachable; ask for the export again in a moment."))
        raise InvalidInput(_("The job queue is unreachable; ask for the export again in a moment."), field=field) from None
    return job


def archive_job_start(*, user: Any, period: str) -> ExportJob:
    """Records the archive export of a period (reports.archive) and queues the job that makes the zip;
    its rows are those the requester may read (a provincial regulator: its province's)."""
    compliance_period = period_get(period)
    _scope, province = compliance_scope(user)
    with transaction.atomic():
        event = export_record(actor=user, report="archive", subject=compliance_period.code, file_format="zip", rows=0,
                              filters={"province": province or "", "job": True})
        job = ExportJob.objects.create(
            report="archive", subject=compliance_period.code, province=province or "", file_format="zip",
            params={"language": translation.get_language() or settings.LANGUAGE_CODE},
            report_id=f"NCA-{compliance_period.code}-{event.pk:08d}",
            filename=f"archive-{compliance_period.code}{'-' + province if province else ''}.zip", created_by=user)
    return _queued(job, field="period")


def _archive_file(job: ExportJob, out: Path) -> tuple[int, int]:
    scope, _province = compliance_scope(job.created_by, job.province or None)

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows=done, rows_done=done, updated_at=timezone.now())

    partial = out.with_name(out.name + ".part")
    rows = archive.archive_write(period_get(job.subject), scope, partial, progress=progress)
    partial.replace(out)
    return 0, rows


def _finish(job_id: int, status: str, **fields: Any) -> None:
    ExportJob.objects.filter(pk=job_id).update(status=status, finished_at=timezone.now(), updated_at=timezone.now(),
                                               **fields)


def export_job_run(job_id: int) -> str | None:
    """Makes a queued job's file once; a redelivered message finds the job running (its progress keeps
    it fresh) or finished and does nothing; a job stuck past its time limit (its worker died) runs
    again. Returns the final status."""
    now = timezone.now()
    claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.QUEUED).update(
        status=ExportJob.Status.RUNNING, rows_done=0, updated_at=now)
    if not claimed:
        stale = now - dt.timedelta(seconds=settings.REPORTS_EXPORT_TIME_LIMIT + 5)
        claimed = ExportJob.objects.filter(pk=job_id, status=ExportJob.Status.RUNNING, updated_at__lt=stale).update(
            rows_done=0, updated_at=now)
    if not claimed:
        return None
    job = ExportJob.objects.select_related("created_by").get(pk=job_id)
    # The file (and a failure's message) in the language of the request, as a download made in it would be.
    with translation.override(job.params.get("language") or settings.LANGUAGE_CODE):
        return _run(job)


def _run(job: ExportJob) -> str:
    job_id = job.pk
    name = f"{uuid.uuid4().hex}.{job.file_format}"
    out = export_dir() / name
    try:
        export_dir().mkdir(parents=True, exist_ok=True)
        pages, rows = (_archive_file if job.report == "archive" else _compliance_file)(job, out)
    except DomainError as error:  # the requester lost the permission or scope meanwhile, the period is gone
        out.unlink(missing_ok=True)
        _finish(job_id, ExportJob.Status.FAILED, message=error.message)
        return ExportJob.Status.FAILED
    except Exception:  # noqa: BLE001 - the job's page says it failed; the log has the details
        logger.exception("export job %s failed", job_id)
        out.unlink(missing_ok=True)
        out.with_name(out.name + ".part").unlink(missing_ok=True)
        _finish(job_id, ExportJob.Status.FAILED,
                message=_("The file could not be made (an unexpected error, logged for the operators). Ask for the "
                          "export again; if it fails again, filter the table by province."))
        return ExportJob.Status.FAILED
    _finish(job_id, ExportJob.Status.DONE, file=name, pages=pages, size=out.stat().st_size, rows=rows, rows_done=rows)
    return ExportJob.Status.DONE


def _compliance_file(job: ExportJob, out: Path) -> tuple[int, int]:
    """The compliance table as the requester may read it now, written to `out`; its page count (PDF)
    and rows."""
    status, sort = job.params.get("status") or None, job.params.get("sort") or "name"
    scope, province = compliance_scope(job.created_by, job.province or None)
    table = compliance_table(period_get(job.subject), scope, province)
    compliance_rows_arranged(table, status=status, sort=sort)
    rows = len(table.rows)
    # The table may have changed since the request (live obligations): the job counts what it renders.
    ExportJob.objects.filter(pk=job.pk).update(rows=rows, rows_done=0, updated_at=timezone.now())
    title = compliance_export.title(table, status)
    snapshot, generated = data_snapshot(table.period), timezone.now()
    if job.file_format == "xlsx":
        filters = {"province": province or "", "status": status or "", "sort": sort}
        content = compliance_export.xlsx(table, title=title, snapshot=snapshot, generated=generated,
                                         report_id=job.report_id, filters=filters)
        partial = out.with_name(out.name + ".part")
        partial.write_bytes(content)
        partial.replace(out)
        return 0, rows

    def progress(done: int) -> None:
        ExportJob.objects.filter(pk=job.pk).update(rows_done=min(done, rows), updated_at=timezone.now())

    return compliance_export.pdf_file(table, out=out, title=title, snapshot=snapshot, generated=generated,
                                      report_id=job.report_id, progress=progress), rows


@shared_task(name="reports.tasks.export_job_task", time_limit=settings.REPORTS_EXPORT_TIME_LIMIT,
             soft_time_limit=settings.REPORTS_EXPORT_TIME_LIMIT - 5)
def export_job_task(job_id: int) -> str | None:
    """A large export: made in a worker, not the web worker."""
    return export_job_run(job_id)


def export_job_get(user: Any, job_id: int) -> ExportJob:
    """The job, if `user` may see it and download its file: the requester, or anyone with the same
    report permission and scope (a national table: a national reader; a province's: a reader of that
    province). NotFound for a job that does not exist, PermissionDenied otherwise."""
    job = ExportJob.objects.filter(pk=job_id).select_related("created_by").first()
    if job is None:
        raise NotFound(_("No export %(id)s.") % {"id": job_id})
    if not user.has_perm(COMPLIANCE_PERMISSION):
        raise PermissionDenied(_("Only auditors and regulators read the compliance table."))
    if job.created_by_id == user.pk or sees_all_organizations(user):
        return job
    if job.province and user_province(user) == job.province:
        return job
    raise PermissionDenied(_("This export holds rows outside what you may read."))


def export_jobs_recent(user: Any) -> QuerySet[ExportJob]:
    """The user's own export jobs of the retention window, newest first (the reports page lists them,
    so that one may leave a job's page and come back)."""
    since = timezone.now() - dt.timedelta(hours=settings.REPORTS_EXPORT_RETENTION_HOURS)
    return ExportJob.objects.filter(created_by=user, created_at__gte=since).order_by("-id")


def export_job_download(*, user: Any, job: ExportJob) -> Path:
    """The finished file of a job `user` may see (export_job_get), its download audited like any other."""
    path = file_path(job.file)
    if job.status != ExportJob.Status.DONE or path is None or not path.exists():
        raise NotFound(_("This export's file is not ready, or no longer kept."))
    export_record(actor=user, report=job.report, subject=job.subject, file_format=job.file_format, rows=job.rows,
                  filters={"province": job.province, **({"status": job.params["status"]} if job.params.get("status") else {}),
                           "job": job.pk, "report_id": job.report_id})
    return path


def export_files_purge(*, now: dt.datetime | None = None) -> int:
    """Deletes the files of jobs finished more than REPORTS_EXPORT_RETENTION_HOURS ago (the job then
    says "expired"), fails jobs that have not moved for as long, and deletes stray files (a killed
    worker's parts). Returns the count of files deleted."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=settings.REPORTS_EXPORT_RETENTION_HOURS)
    ExportJob.objects.filter(status__in=[ExportJob.Status.QUEUED, ExportJob.Status.RUNNING], updated_at__lt=cutoff).update(
        status=ExportJob.Status.FAILED, finished_at=now, message="The job did not run; ask for the export again.")
    ExportJob.objects.filter(status=ExportJob.Status.DONE, finished_at__lt=cutoff).update(
        status=ExportJob.Status.EXPIRED, updated_at=now)
    kept = set(ExportJob.objects.filter(status=ExportJob.Status.DONE).values_list("file", flat=True))
    return stale_files_delete(export_dir(), cutoff=cutoff, keep=kept)
