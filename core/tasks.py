from celery import shared_task

from core.idempotency import idempotency_records_purge


@shared_task
def idempotency_purge_task() -> int:
    """Hourly: forgets Idempotency-Key answers past their retention."""
    return idempotency_records_purge()
