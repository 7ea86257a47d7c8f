from celery import shared_task
from django.utils import timezone

from allocation.models import CompliancePeriod
from compliance.services import compliance_deadline_run


@shared_task
def compliance_deadline_sweep_task() -> list[str]:
    """Daily: runs the deadline job of every period whose surrender deadline has passed and which has
    no results yet (the job is idempotent, so a second scheduler changes nothing)."""
    due = CompliancePeriod.objects.filter(surrender_deadline__lt=timezone.localdate(), results__isnull=True).distinct()
    done = []
    for period in due:
        compliance_deadline_run(period=period)
        done.append(period.code)
    return done
