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
