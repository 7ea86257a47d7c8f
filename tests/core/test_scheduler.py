"""The embedded default's in-process beat (core.scheduler): the beat schedule's jobs run in the web
process when due, so a buyer's pending allowances are released at the end of day without a command."""

import datetime as dt

import pytest
from celery.schedules import crontab

from core import scheduler
from tests.trading.conftest import ALLOWANCES, _fresh_matchers, balance, funded, place  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db


@pytest.mark.django_db(transaction=True)  # commits: the matcher applies the expiry before the close, as it does live
@pytest.mark.usefixtures("funded")
def test_the_end_of_day_job_runs_when_due_and_releases_pending_allowances(trader_a, trader_b, company_a, monkeypatch):
    monkeypatch.setattr("trading.tasks.is_trading_day", lambda day: True)  # (also on a weekend's test run)
    place(trader_b, "sell", "54.00", 100)
    place(trader_a, "buy", "54.00", 100)
    assert balance(company_a, "CEA21")[2] == 100  # bought today: pending (T+1)
    beat = scheduler.InProcessBeat({
        "end-of-day": {"task": "trading.tasks.end_of_day_task", "schedule": 0.0},  # due at once
        "later": {"task": "trading.tasks.end_of_day_task", "schedule": 3600.0},
    })
    ran, wait = beat.tick()
    assert ran == ["end-of-day"]
    assert 0.5 <= wait <= 60
    assert balance(company_a, "CEA21") == (ALLOWANCES + 100, 0, 0, 0)


class _Task:
    """Stands for a Celery task: `apply` is what the beat calls."""

    def __init__(self, effect):
        self.calls = []
        self.effect = effect

    def apply(self, throw):
        self.effect(self)


failing_task = _Task(lambda task: 1 / 0)
working_task = _Task(lambda task: task.calls.append(1))


def test_a_failing_job_is_logged_tried_again_soon_and_the_others_still_run(db, caplog):
    calls = working_task.calls
    calls.clear()
    daily = crontab(hour=15, minute=5)
    beat = scheduler.InProcessBeat({"fails": {"task": f"{__name__}.failing_task", "schedule": daily},
                                    "works": {"task": f"{__name__}.working_task", "schedule": daily}})
    for entry in beat.entries.values():
        entry["last_run"] -= dt.timedelta(days=2)  # both missed a 15:05 since
    ran, wait = beat.tick()
    assert ran == ["fails", "works"] and calls == [1]
    assert "scheduled job fails failed" in caplog.text
    assert wait <= scheduler.RETRY_SECONDS
    assert beat.tick()[0] == ["fails"]  # not marked as run: tried again; the other is done for the day
    assert calls == [1]


def test_it_is_on_only_in_the_embedded_default(settings):
    assert settings.EMBEDDED_SCHEDULER is False  # the tests run on PostgreSQL and Redis: Celery beat's job
    assert scheduler.start() is None


def test_crontab_entries_wait_for_their_time(db):
    beat = scheduler.InProcessBeat({"eod": {"task": "trading.tasks.end_of_day_task",
                                            "schedule": crontab(hour=15, minute=5)}})
    beat.entries["eod"]["last_run"] = beat.entries["eod"]["last_run"] + dt.timedelta(minutes=1)  # just ran
    ran, wait = beat.tick()
    assert ran == [] and wait <= 60


@pytest.mark.django_db(transaction=True)
def test_the_asgi_server_starts_the_beat_when_asked(company_a, national_regulator, exchange_operator):
    """What `make run` starts (uvicorn on config.asgi) runs the schedule from its lifespan start-up:
    here the ledger seal job, every second, seals the transfers of a new deposit."""
    import time

    from registry.models import SealBlock
    from tests.asgi import asgi_server
    from tests.trading.conftest import fund

    fund(company_a, regulator=national_regulator, operator=exchange_operator)
    assert not SealBlock.objects.exists()
    with asgi_server(EMBEDDED_SCHEDULER="true", SEAL_INTERVAL_SECONDS="1", SEAL_HORIZON_WAIT_SECONDS="0"):
        deadline = time.monotonic() + 15
        while not SealBlock.objects.exists() and time.monotonic() < deadline:
            time.sleep(0.2)
    assert SealBlock.objects.exists()
