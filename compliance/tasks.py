from celery import shared_task
from django.utils import timezone

from allocation.models import CompliancePeriod
from compliance.selectors import obligations
from compliance.services import compliance_deadline_run
from core.locks import COMPLIANCE_DEADLINE, LockKey, session_lock


@shared_task
def compliance_deadline_sweep_task() -> list[str]:
    """Daily: runs the deadline job of every period whose surrender deadline has passed and which has
    no results yet. One runner per period at a time (two schedulers firing together: the second
    skips it); a period without any unit's obligation is skipped."""
    due = CompliancePeriod.objects.filter(surrender_deadline__lt=timezone.localdate(), results__isnull=True).distinct()
    done = []
    for period in due:
        # Two schedulers may fire at once: one runs a period, the other skips it; and a period
        # another run finished meanwhile has nothing left to do.
        with session_lock(LockKey(COMPLIANCE_DEADLINE, period.pk), wait=False) as mine:
            if not mine or period.results.exists():
                continue
            if not obligations(period):
                continue  # no unit was allocated or verified: nothing to decide (and nothing to audit) today
            compliance_deadline_run(period=period)
        done.append(period.code)
    return done
