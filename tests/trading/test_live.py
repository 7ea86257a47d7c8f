"""Live updates (core/live.py): announcements after commit through real Redis, the in-process hub,
the SSE streams and who hears what, and one stream read from a real uvicorn."""

import asyncio
import concurrent.futures
import json
import time
import urllib.request

import pytest
import redis
from django.conf import settings
from django.db import connection, transaction
from django.test import TestCase

from core import live
from tests.asgi import asgi_server
from tests.trading.conftest import place

pytestmark = pytest.mark.django_db


@pytest.fixture
def listener():
    """A plain Redis subscriber to this database's live channels: what the services announced."""
    client = redis.Redis.from_url(settings.REDIS_URL)
    pubsub = client.pubsub(ignore_subscribe_messages=True)
    pubsub.psubscribe(live.channel("*"))

    def heard(wait: float = 0.5) -> list[str]:
        topics, deadline = [], time.monotonic() + wait
        while time.monotonic() < deadline:
            message = pubsub.get_message(timeout=0.05)
            if message and message["type"] == "pmessage":
                topics.append(json.loads(message["data"])["topic"])
        return topics

    heard(0.1)
    yield heard
    pubsub.close()
    client.close()


def test_channels_carry_the_database_name():
    assert live.channel("market") == f"live:{connection.settings_dict['NAME']}:market"


def test_an_announcement_goes_out_after_commit_only(listener):
    with TestCase.captureOnCommitCallbacks(execute=True):
        live.changed("market:CEA21")
        assert listener(0.2) == []  # not before the commit
    assert listener() == ["market:CEA21"]


def test_a_rolled_back_change_announces_nothing(listener):
    with TestCase.captureOnCommitCallbacks(execute=True):
        with pytest.raises(RuntimeError), transaction.atomic():
            live.changed("market:CEA21")
            raise RuntimeError("roll back")
    assert listener() == []


def test_live_updates_can_be_switched_off(listener, settings):
    settings.LIVE_UPDATES = False
    with TestCase.captureOnCommitCallbacks(execute=True):
        live.changed("market:CEA21")
    assert listener() == []


def test_placing_and_matching_orders_announce_the_market_and_both_organizations(
    listener, trader_a, trader_b, company_a, company_b, funded
):
    place(trader_a, "buy", "54.00", 100)
    assert set(listener()) == {f"org:{company_a.pk}", "market:CEA21"}
    place(trader_b, "sell", "54.00", 100)  # trades and settles
    assert set(listener()) == {f"org:{company_a.pk}", f"org:{company_b.pk}", "market:CEA21"}


def test_cancel_and_end_of_day_announce(listener, trader_a, company_a, funded, exchange_operator):
    from tests.trading.conftest import cancel
    from trading.models import Instrument
    from trading.services import instrument_set_status

    order = place(trader_a, "buy", "54.00", 100)
    listener()
    cancel(trader_a, order)
    assert set(listener()) == {f"org:{company_a.pk}", "market:CEA21"}
    with TestCase.captureOnCommitCallbacks(execute=True):
        instrument_set_status(instrument=Instrument.objects.get(symbol="CEA21"), status="halted", reason="test", actor=exchange_operator)
    assert set(listener()) == {"market", "market:CEA21"}


def test_settlement_announces_both_organizations(listener, trader_a, trader_b, company_a, company_b, funded, settlement_held):
    from tests.trading.conftest import run_on_commit
    from trading.services import trades_settle

    place(trader_a, "buy", "54.00", 100)
    place(trader_b, "sell", "54.00", 100)
    listener()
    assert run_on_commit(trades_settle) == 1
    assert sorted(listener()) == sorted([f"org:{company_a.pk}", f"org:{company_b.pk}"])


def test_the_end_of_day_announces_every_market_and_the_holders_of_pending(
    listener, trader_a, trader_b, company_a, funded
):
    from django.utils import timezone

    from tests.trading.conftest import run_on_commit
    from trading import services

    place(trader_a, "buy", "54.00", 100)
    place(trader_b, "sell", "54.00", 100)  # A's 100 t are pending until the end of day
    day = timezone.localdate()
    run_on_commit(services.end_of_day_expire, day=day)
    listener()
    run_on_commit(services.end_of_day_close, day=day)
    heard = set(listener())
    assert {"market", "market:CEA21", "market:CEA25", f"org:{company_a.pk}"} <= heard


def test_publishing_never_raises_when_redis_is_down(settings, caplog):
    settings.REDIS_URL = "redis://127.0.0.1:1/0"
    live._redis_client.clear()
    try:
        live.publish("market")
    finally:
        live._redis_client.clear()
    assert "not sent" in caplog.text


def _run(coroutine):
    """asyncio.run in a thread of its own: once a Playwright test has run, this thread has an event
    loop running (sync Playwright keeps one), and asyncio.run refuses to start inside it."""
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


def _collect(topics, publish, *, hub: bool, settings) -> list[str]:
    """Subscribes to `topics`, publishes `publish`, and returns the topics heard within a second."""
    if hub:
        settings.REDIS_URL = ""

    async def run():
        heard = []
        async with live.subscribe(topics) as subscription:
            for topic in publish:
                await asyncio.to_thread(live.publish, topic)  # publishers are other threads or processes
            while (topic := await subscription.next_message(0.5)) is not None:
                heard.append(topic)
        return heard

    return _run(run())


@pytest.mark.parametrize("hub", [False, True], ids=["redis", "in-process"])
def test_a_subscriber_hears_its_topics_only(hub, settings):
    heard = _collect(["market:CEA21", "org:7"], ["market:CEA21", "org:8", "org:7", "market:CEA22"], hub=hub, settings=settings)
    assert heard == ["market:CEA21", "org:7"]


def test_another_databases_announcements_are_not_heard(settings):
    async def run():
        async with live.subscribe(["market"]) as subscription:
            client = redis.Redis.from_url(settings.REDIS_URL)
            client.publish("live:some_other_test_db:market", json.dumps({"topic": "market"}))
            client.close()
            return await subscription.next_message(0.5)

    assert _run(run()) is None


async def _read_stream(response, publish, *, until: float = 3.0) -> list[tuple[str, str]]:
    """(event, data) pairs of an SSE response; `publish` runs once the stream says hello."""
    events, buffer = [], ""
    async for chunk in response.streaming_content:
        buffer += chunk.decode() if isinstance(chunk, bytes) else chunk
        while "\n\n" in buffer:
            block, buffer = buffer.split("\n\n", 1)
            fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
            if "event" in fields:
                events.append((fields["event"], fields.get("data", "")))
                if fields["event"] == "hello":
                    await asyncio.to_thread(publish)
    return events


@pytest.mark.django_db(transaction=True)
def test_a_company_stream_carries_its_own_organizations_news_only(settings, trader_a, company_a, company_b, async_client):
    settings.LIVE_STREAM_SECONDS = 1
    settings.LIVE_HEARTBEAT_SECONDS = 1

    def publish():
        live.publish(f"org:{company_b.pk}", "market:CEA21", f"org:{company_a.pk}", "market:CEA23")

    async def run():
        await async_client.aforce_login(trader_a)
        response = await async_client.get("/trade/CEA21/stream/")
        assert response["Content-Type"] == "text/event-stream"
        return await _read_stream(response, publish)

    events = _run(run())
    assert events[0][0] == "hello"
    assert f"org:{company_a.pk}" in events[0][1] and f"org:{company_b.pk}" not in events[0][1]
    assert [json.loads(data)["topic"] for _, data in events[1:]] == ["market:CEA21", f"org:{company_a.pk}"]


@pytest.mark.django_db(transaction=True)
def test_an_anonymous_trade_stream_hears_the_market_only(settings, company_a, async_client):
    settings.LIVE_STREAM_SECONDS = 1

    async def run():
        response = await async_client.get("/trade/CEA21/stream/")
        return await _read_stream(response, lambda: live.publish(f"org:{company_a.pk}", "market"))

    assert [event for event, _ in _run(run())] == ["hello", "market"]


@pytest.mark.django_db(transaction=True)
def test_a_stream_sends_retry_and_heartbeats(settings, async_client):
    settings.LIVE_STREAM_SECONDS = 2
    settings.LIVE_HEARTBEAT_SECONDS = 1
    settings.LIVE_RETRY_MS = 1234

    async def run():
        response = await async_client.get("/market/stream/")
        return b"".join([chunk async for chunk in response.streaming_content]).decode()

    started = time.monotonic()
    body = _run(run())
    assert 1.5 < time.monotonic() - started < 5  # finite
    assert body.startswith("retry: 1234\nevent: hello\n")
    assert body.count(": heartbeat\n\n") >= 1


def test_a_stream_of_an_unknown_instrument_is_a_404(client):
    assert client.get("/trade/NOPE/stream/").status_code == 404


def test_with_live_updates_off_the_stream_says_stop(client, settings):
    settings.LIVE_UPDATES = False
    assert client.get("/market/stream/").status_code == 204


@pytest.mark.django_db(transaction=True)
def test_uvicorn_serves_a_stream_and_delivers_an_event():
    with asgi_server(LIVE_STREAM_SECONDS="10") as url:
        with urllib.request.urlopen(f"{url}/market/stream/", timeout=10) as response:
            assert response.headers["Content-Type"] == "text/event-stream"
            assert response.readline() == b"retry: 2000\n"
            assert response.readline() == b"event: hello\n"
            response.readline(), response.readline()  # its data and the blank line
            live.publish("market:CEA21")  # as the matcher in another process would
            started = time.monotonic()
            assert response.readline() == b"event: market\n"
            assert json.loads(response.readline().decode().removeprefix("data: ")) == {"topic": "market:CEA21"}
            assert time.monotonic() - started < 1


@pytest.mark.django_db(transaction=True)
def test_open_streams_hold_no_database_connections():
    """Each stream would otherwise keep its request's PostgreSQL connection for as long as it is open."""

    def server_connections() -> int:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                           [connection.settings_dict["NAME"]])
            return cursor.fetchone()[0]

    with asgi_server(LIVE_STREAM_SECONDS="10") as url:
        before = server_connections()
        streams = [urllib.request.urlopen(f"{url}/trade/CEA21/stream/", timeout=10) for _ in range(5)]
        try:
            for stream in streams:
                stream.readline(), stream.readline()  # retry, then hello: the view has done its queries
            time.sleep(0.3)
            assert server_connections() <= before + 1
        finally:
            for stream in streams:
                stream.close()
