from celery import shared_task

from core.idempotency import idempotency_records_purge


@shared_task
def idempotency_purge_task() -> int:
    """Hourly: forgets Idempotency-Key answers past their retention."""
    return idempotency_records_purge()


@shared_task
def import_job_task(job_id: int) -> str | None:
    """An admin import confirmed for saving (core.import_jobs): runs in a worker, not the web worker."""
    from core.import_jobs import import_job_run

    return import_job_run(job_id)


@shared_task
def import_uploads_purge_task() -> int:
    """Hourly: deletes admin import uploads abandoned after their preview (IMPORT_UPLOAD_RETENTION_HOURS)."""
    from core.import_jobs import uploads_purge

    return uploads_purge()
