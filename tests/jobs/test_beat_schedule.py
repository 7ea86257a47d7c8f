"""Every job in the beat schedule names a task a worker knows (a typo would fail silently at run time)."""

from django.conf import settings

from config.celery import app


def test_every_scheduled_job_names_a_registered_task():
    app.loader.import_default_modules()  # what a worker does at start: the apps' tasks modules
    missing = {name: entry["task"] for name, entry in settings.CELERY_BEAT_SCHEDULE.items() if entry["task"] not in app.tasks}
    assert missing == {}
    assert {"core.tasks.idempotency_purge_task", "registry.tasks.ledger_seal_verify_task"} <= set(app.tasks)
