"""Admin imports as jobs: the preview reads the file in the web worker (bounded by IMPORT_MAX_ROWS),
the confirmed save runs in a Celery worker (`import_job_task`) and reports its progress on the job's
row, which the job's page shows. The uploaded file waits under IMPORT_UPLOAD_DIR by a generated name
between the preview and the job, and is deleted when the job ends, when the preview refuses the file,
or, abandoned, by the hourly clean-up after IMPORT_UPLOAD_RETENTION_HOURS (which takes the previews'
error files, under errors/, with them)."""

from __future__ import annotations

import datetime as dt
import logging
import re
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

from celery import shared_task
from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string
from django.utils.translation import gettext as _

from core.errors import DomainError, ImportRefused, InvalidInput
from core.models import ImportJob

logger = logging.getLogger(__name__)

# What saves each kind of import: runner(job, stream, progress) -> the result shown on the job's page.
RUNNERS = {
    ImportJob.Kind.ALLOCATION_PLAN: "allocation.services.allocation_import_job",
    ImportJob.Kind.VERIFIED_EMISSIONS: "compliance.services.verified_emissions_import_job",
}
# A refusal lists at most this many row errors on the job's page (the count says how many there were).
MAX_ERRORS_KEPT = 1000

# The folder of IMPORT_UPLOAD_DIR where the previews' error files wait (core.import_preview).
ERROR_FILES = "errors"

_UPLOAD_NAME = re.compile(r"[0-9a-f]{32}\.(csv|xlsx)")


def upload_dir() -> Path:
    return Path(settings.IMPORT_UPLOAD_DIR)


def upload_store(file: Any) -> str:
    """Writes an uploaded file under a generated name (never the uploader's) and returns the name.
    A name that is neither .csv nor .xlsx, or a file over IMPORT_MAX_BYTES, is refused unstored."""
    suffix = Path(getattr(file, "name", "") or "").suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise InvalidInput(_("Upload a .csv or .xlsx file."), field="file")
    size = getattr(file, "size", None)
    if size is not None and size > settings.IMPORT_MAX_BYTES:
        raise InvalidInput(_("The file is %(size)s bytes; at most %(limit)s are allowed (IMPORT_MAX_BYTES).") % {
            "size": f"{size:,}", "limit": f"{settings.IMPORT_MAX_BYTES:,}"}, field="file")
    directory = upload_dir()
    directory.mkdir(parents=True, exist_ok=True)
    name = f"{uuid.uuid4().hex}{suffix}"
    with (directory / name).open("wb") as out:
        for chunk in file.chunks() if hasattr(file, "chunks") else [file.read()]:
            out.write(chunk)
    return name


def upload_path(name: str) -> Path | None:
    """The stored file of a generated name, or None for any other text (no path tricks)."""
    if not isinstance(name, str) or not _UPLOAD_NAME.fullmatch(name):
        return None
    return upload_dir() / name


def upload_chosen(file: Any, earlier: str, earlier_name: str) -> tuple[str, str, Path | None]:
    """What an admin import's preview or confirmation works on: a newly uploaded `file` (stored) or
    else the upload an earlier preview stored as `earlier`. (name, the uploader's file name, its path:
    None when there is none, or it is gone)."""
    upload, source_name = (upload_store(file), file.name) if file else (earlier, earlier_name)
    stored = upload_path(upload)
    return upload, source_name, stored if stored is not None and stored.exists() else None


def upload_delete(name: str) -> None:
    path = upload_path(name)
    if path is not None:
        path.unlink(missing_ok=True)


def import_job_start(*, kind: str, upload: str, source_name: str, params: dict[str, Any], user: Any) -> ImportJob:
    """The job that saves a previewed upload; confirming the same upload twice gives the same job."""
    if upload_path(upload) is None or not upload_path(upload).exists():  # type: ignore[union-attr]
        raise InvalidInput(_("The uploaded file is gone; upload it again."), field="file")
    job, created = ImportJob.objects.get_or_create(upload=upload, defaults={
        "kind": kind, "source_name": (source_name or "")[:200], "params": params, "created_by": user})
    if created:
        try:
            import_job_task.delay(job.pk)
        except Exception as error:  # noqa: BLE001 - whatever the broker client raises
            logger.warning("import job %s not queued: %s", job.pk, error)
            job.delete()
            raise InvalidInput(_("The job queue is unreachable; confirm again in a moment."), field="file") from None
    return job


# The progress bar: reading the file is most of the work (by the share of the file's bytes read:
# for an XLSX, of the compressed sheet, which the reader streams); checking and saving follow.
_READING, _CHECKING, _SAVING = (2, 80), 85, 90


def _progress(job_id: int, stream: IO[bytes], size: int) -> Callable[[str, int, int | None], None]:
    def report(phase: str, done: int, total: int | None) -> None:
        if phase == "reading":
            try:
                share = min(stream.tell() / size, 1.0) if size else 0.0
            except (OSError, ValueError):
                share = 0.0
            percent = _READING[0] + int((_READING[1] - _READING[0]) * share)
        else:
            percent = _CHECKING if phase == "checking" else _SAVING
        ImportJob.objects.filter(pk=job_id).update(phase=phase, rows=done, percent=percent, updated_at=timezone.now())

    return report


def import_job_run(job_id: int) -> str | None:
    """Runs a queued job once (a job redelivered after its worker died runs again: its import is
    one transaction, so nothing of the first attempt was saved). Returns the final status."""
    now = timezone.now()
    claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.QUEUED).update(
        status=ImportJob.Status.RUNNING, phase="reading", rows=0, percent=1, updated_at=now)
    if not claimed:
        stale = now - dt.timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT + 5)
        claimed = ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.RUNNING, updated_at__lt=stale).update(
            phase="reading", rows=0, percent=1, updated_at=now)
    if not claimed:
        return None
    job = ImportJob.objects.select_related("created_by").get(pk=job_id)
    path = upload_path(job.upload)
    result: dict[str, Any]
    try:
        if path is None:
            raise FileNotFoundError(job.upload)
        with path.open("rb") as stream:
            result = import_string(RUNNERS[job.kind])(job, stream, _progress(job.pk, stream, path.stat().st_size))
        status = ImportJob.Status.DONE
    except ImportRefused as refused:
        status = ImportJob.Status.REFUSED
        result = {"message": refused.message, "count": len(refused.errors),
                  "errors": [{"row": e.row, "field": e.field, "message": e.message} for e in refused.errors[:MAX_ERRORS_KEPT]]}
    except DomainError as error:
        status, result = ImportJob.Status.REFUSED, {"message": error.message, "code": error.code}
    except FileNotFoundError:
        status, result = ImportJob.Status.FAILED, {"message": _("The uploaded file is gone; upload it again.")}
    except Exception:  # noqa: BLE001 - the job's page says it failed; the log has the details
        logger.exception("import job %s failed", job_id)
        status, result = ImportJob.Status.FAILED, {"message": _("The import stopped on an unexpected error; nothing was saved.")}
    ImportJob.objects.filter(pk=job_id).update(status=status, result=result, phase="", updated_at=timezone.now(),
                                               percent=100 if status == ImportJob.Status.DONE else 0)
    upload_delete(job.upload)
    return status


@shared_task(name="core.tasks.import_job_task")
def import_job_task(job_id: int) -> str | None:
    """An admin import confirmed for saving: runs in a worker, not the web worker."""
    return import_job_run(job_id)


def uploads_purge(*, now: dt.datetime | None = None) -> int:
    """Deletes uploads older than IMPORT_UPLOAD_RETENTION_HOURS that no unfinished job waits for
    (previews never confirmed), and fails jobs that have not moved for as long. Returns the count
    of files deleted."""
    now = now or timezone.now()
    cutoff = now - dt.timedelta(hours=settings.IMPORT_UPLOAD_RETENTION_HOURS)
    stuck = ImportJob.objects.filter(status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING], updated_at__lt=cutoff)
    for job in stuck:
        ImportJob.objects.filter(pk=job.pk, status=job.status).update(
            status=ImportJob.Status.FAILED, phase="", result={"message": "The job did not run; upload the file again."})
    waiting = set(ImportJob.objects.filter(status__in=[ImportJob.Status.QUEUED, ImportJob.Status.RUNNING])
                  .values_list("upload", flat=True))
    # The uploads, and the previews' error files (core.import_preview) beside them.
    return sum(stale_files_delete(directory, cutoff=cutoff, keep=waiting)
               for directory in (upload_dir(), upload_dir() / ERROR_FILES))


def stale_files_delete(directory: Path, *, cutoff: dt.datetime, keep: set[str]) -> int:
    """Deletes the files of `directory` last written before `cutoff`, but those named in `keep` (the
    clean-up of job files: admin imports' uploads and error files, export jobs' files). Returns the
    count deleted."""
    if not directory.is_dir():
        return 0
    deleted = 0
    for path in directory.iterdir():
        if not path.is_file() or path.name in keep:
            continue
        modified = dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC)
        if modified < cutoff:
            path.unlink(missing_ok=True)
            deleted += 1
    return deleted
