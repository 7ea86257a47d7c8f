import logging

from celery import shared_task

from registry.services import ledger_check_record

logger = logging.getLogger(__name__)


@shared_task
def ledger_verify_task() -> int:
    """Hourly proof that the ledger holds. A failure is logged at CRITICAL for the operators' alerting."""
    check = ledger_check_record()
    if check.ok:
        logger.info("ledger OK: %s balances, %s transfers", check.balances_checked, check.transfers_checked)
    else:
        logger.critical("LEDGER CHECK FAILED: %s", "; ".join(check.problems))
    return check.pk


@shared_task
def ledger_seal_task() -> int:
    """Every SEAL_INTERVAL_SECONDS: seals the transfers committed since the last block. Stops well
    inside the task's time limit; whatever is left is sealed by the next run."""
    from django.conf import settings

    from registry.seal import ledger_seal

    result = ledger_seal(time_budget=max(settings.CELERY_TASK_TIME_LIMIT / 2, 1))
    if result.blocks:
        logger.info("sealed %s transfers into blocks %s-%s", result.transfers_sealed, result.blocks[0].height, result.blocks[-1].height)
    return len(result.blocks)


@shared_task
def ledger_seal_verify_task() -> int:
    """Nightly: recomputes the whole seal chain from the transfers and keeps the outcome as a SealCheck
    (shown on the seal page); a broken chain is logged at CRITICAL for the operators' alerting."""
    from registry.models import SealCheck
    from registry.seal import seal_check_record

    return seal_check_record(source=SealCheck.Source.JOB).pk
