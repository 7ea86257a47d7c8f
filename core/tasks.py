from celery import shared_task

from core.idempotency import idempotency_records_purge
from core.import_jobs import import_job_task, uploads_purge

__all__ = ["idempotency_purge_task", "import_job_task", "import_uploads_purge_task"]


@shared_task
def idempotency_purge_task() -> int:
    """Hourly: forgets Idempotency-Key answers past their retention."""
    return idempotency_records_purge()


@shared_task
def import_uploads_purge_task() -> int:
    """Hourly: deletes admin import uploads abandoned after their preview (IMPORT_UPLOAD_RETENTION_HOURS)."""
    return uploads_purge()
