"""The hourly purge of Idempotency-Key answers: past IDEMPOTENCY_KEY_RETENTION_HOURS they are forgotten
(and the purge audited); newer ones stay."""

import datetime as dt

import pytest
from django.utils import timezone

from core.models import AuditEvent, IdempotencyRecord
from core.tasks import idempotency_purge_task


def stored(user, key: str, *, hours_ago: float) -> IdempotencyRecord:
    record = IdempotencyRecord.objects.create(user=user, key=key, method="DELETE", path="/api/v1/orders/1/",
                                              fingerprint="f" * 64, status_code=200, response={"id": 1})
    IdempotencyRecord.objects.filter(pk=record.pk).update(created_at=timezone.now() - dt.timedelta(hours=hours_ago))
    return record


@pytest.mark.django_db
def test_answers_past_the_retention_are_forgotten_and_the_purge_is_audited(trader_a, trader_b, settings):
    settings.IDEMPOTENCY_KEY_RETENTION_HOURS = 24
    stored(trader_a, "old", hours_ago=25)
    stored(trader_b, "older", hours_ago=100)
    stored(trader_a, "recent", hours_ago=23)

    assert idempotency_purge_task() == 2
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["recent"]
    assert AuditEvent.objects.get(action="idempotency.purge").after["deleted"] == 2

    assert idempotency_purge_task() == 0  # nothing more to forget: nothing audited
    assert AuditEvent.objects.filter(action="idempotency.purge").count() == 1


@pytest.mark.django_db
def test_the_retention_is_a_setting(trader_a, settings):
    stored(trader_a, "two-hours", hours_ago=2)
    settings.IDEMPOTENCY_KEY_RETENTION_HOURS = 3
    assert idempotency_purge_task() == 0
    settings.IDEMPOTENCY_KEY_RETENTION_HOURS = 1
    assert idempotency_purge_task() == 1
