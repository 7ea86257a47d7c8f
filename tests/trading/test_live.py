"""Live updates (core/live.py): announcements after commit through real Redis, the in-process hub,
the SSE streams and who hears what, and one stream read from a real uvicorn."""

import asyncio
import concurrent.futures
import contextlib
import html
import json
import re
import time
import urllib.request

import pytest
import redis
import redis.asyncio
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
    from trading.settlement import trades_settle

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
            while (message := await subscription.next_message(0.5)) is not None:
                heard.append(message.topic)
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


def _stream_topics(url: str) -> list[str]:
    """The topics a signed stream URL names (what the stream will announce)."""
    from urllib.parse import parse_qs, urlsplit

    assert url.startswith(live.STREAM_PATH)
    return live.stream_topics(parse_qs(urlsplit(url).query)["t"][0])


def _serve_stream(url: str, publish=lambda: None, *, disconnect_after: float | None = None):
    """Drives live.stream_app as an ASGI server would, for a URL; `publish` runs once the stream says
    hello. Returns (status, headers, [(event, data)], the raw body)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    scope = {"type": "http", "method": "GET", "path": parts.path, "query_string": parts.query.encode(), "headers": []}
    sent = []

    async def run():
        gone = asyncio.Event()

        async def receive():
            if disconnect_after is None:
                await gone.wait()
            else:
                await asyncio.sleep(disconnect_after)
            return {"type": "http.disconnect"}

        async def send(message):
            sent.append(message)
            if b"event: hello" in message.get("body", b""):
                await asyncio.to_thread(publish)

        await live.stream_app(scope, receive, send)
        gone.set()

    _run(run())
    body = b"".join(message.get("body", b"") for message in sent[1:]).decode()
    events = []
    for block in body.split("\n\n"):
        fields = dict(line.split(": ", 1) for line in block.splitlines() if ": " in line and not line.startswith(":"))
        if "event" in fields:
            events.append((fields["event"], fields.get("data", "")))
    return sent[0]["status"], dict(sent[0]["headers"]), events, body


def test_the_trading_page_streams_its_market_and_its_users_own_organization_only(client_for, trader_a, company_a, company_b, settings):
    settings.LIVE_STREAM_SECONDS = 1
    page = client_for(trader_a).get("/trade/CEA21/").content.decode()
    url = html.unescape(re.search(r'data-stream-url="([^"]+)"', page).group(1))
    assert _stream_topics(url) == ["market", "market:CEA21", f"org:{company_a.pk}"]

    def publish():
        live.publish(f"org:{company_b.pk}", "market:CEA21", f"org:{company_a.pk}", "market:CEA23")

    status, headers, events, _ = _serve_stream(url, publish)
    assert status == 200 and headers[b"content-type"].startswith(b"text/event-stream")
    assert events[0][0] == "hello"
    assert [json.loads(data)["topic"] for _, data in events[1:]] == ["market:CEA21", f"org:{company_a.pk}"]


def test_a_new_stream_url_authorizes_again_and_an_anonymous_one_hears_the_market_only(client, client_for, trader_a, company_a):
    assert _stream_topics(client.get("/trade/CEA21/stream-url/").json()["url"]) == ["market", "market:CEA21"]
    mine = client_for(trader_a).get("/trade/CEA21/stream-url/").json()["url"]
    assert _stream_topics(mine) == ["market", "market:CEA21", f"org:{company_a.pk}"]
    market = _stream_topics(client.get("/market/stream-url/").json()["url"])
    assert "market" in market and "market:CEA21" in market and not any(topic.startswith("org:") for topic in market)


def test_a_stream_sends_retry_and_heartbeats_and_ends(settings):
    settings.LIVE_STREAM_SECONDS = 2
    settings.LIVE_HEARTBEAT_SECONDS = 1
    settings.LIVE_RETRY_MS = 1234
    started = time.monotonic()
    status, _, _, body = _serve_stream(live.stream_url(["market"]))
    assert 1.5 < time.monotonic() - started < 5  # finite
    assert status == 200
    assert body.startswith("retry: 1234\nevent: hello\n")
    assert body.count(": heartbeat\n\n") >= 1


def test_a_stream_ends_when_its_client_goes_away(settings):
    settings.LIVE_STREAM_SECONDS = 30
    started = time.monotonic()
    status, _, _, _ = _serve_stream(live.stream_url(["market"]), disconnect_after=0.3)
    assert status == 200 and time.monotonic() - started < 3


def test_a_forged_altered_or_expired_stream_url_gets_a_204(settings, monkeypatch):
    from django.core import signing

    settings.LIVE_STREAM_SECONDS = 1
    good = live.stream_url(["market"])
    assert _serve_stream(good)[0] == 200
    assert _serve_stream(good.replace("t=", "t=x"))[0] == 204
    forged = signing.dumps(["org:1"], salt="another salt", compress=True)
    assert _serve_stream(f"{live.STREAM_PATH}?t={forged}")[0] == 204
    assert _serve_stream(live.STREAM_PATH)[0] == 204
    settings.LIVE_TOKEN_SECONDS = 10
    now = time.time()
    monkeypatch.setattr(signing.time, "time", lambda: now - 11)  # signed 11 s ago
    old = live.stream_url(["market"])
    monkeypatch.undo()
    assert _serve_stream(old)[0] == 204


def test_a_stream_url_for_an_unknown_instrument_is_a_404(client):
    assert client.get("/trade/NOPE/stream-url/").status_code == 404


def test_with_live_updates_off_the_stream_says_stop(client, settings):
    url = live.stream_url(["market"])
    settings.LIVE_UPDATES = False
    assert _serve_stream(url)[0] == 204
    assert client.get("/market/stream-url/").json() == {"url": ""}


def test_one_process_holds_one_redis_subscription_however_many_streams():
    async def run():
        client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        before = (await client.pubsub_numpat())
        async with contextlib.AsyncExitStack() as stack:
            subscriptions = [await stack.enter_async_context(live.subscribe([f"org:{n}", "market"])) for n in range(50)]
            during = await client.pubsub_numpat()
            await asyncio.to_thread(live.publish, "market")
            heard = [await subscription.next_message(2) for subscription in subscriptions]
        await client.aclose()
        return before, during, heard

    before, during, heard = _run(run())
    assert during == before + 1
    assert all(message is not None and message.topic == "market" for message in heard)


def test_announcements_on_a_busy_channel_are_coalesced_with_the_earliest_sent_time(settings):
    settings.LIVE_COALESCE_MS = 300

    async def run():
        deliveries = []  # (when it arrived, its sent)
        async with live.subscribe(["market:CEA21"]) as subscription:
            started, first_sent = time.monotonic(), time.time()

            async def read():
                while (message := await subscription.next_message(0.7)) is not None:
                    deliveries.append((time.monotonic() - started, json.loads(message.data.decode().split("data: ", 1)[1])["sent"]))

            reader = asyncio.create_task(read())
            for _ in range(12):  # over about 0.6 s
                await asyncio.to_thread(live.publish, "market:CEA21")
                await asyncio.sleep(0.05)
            await reader
        return first_sent, deliveries

    first_sent, deliveries = _run(run())
    assert abs(deliveries[0][1] - first_sent) < 0.1  # the first at once, carrying its own time
    assert 2 <= len(deliveries) <= 4  # twelve announcements, at most one delivery per 300 ms
    arrivals = [arrived for arrived, _ in deliveries]
    assert all(later - earlier >= 0.29 for earlier, later in zip(arrivals, arrivals[1:], strict=False))
    sents = [sent for _, sent in deliveries]
    assert sents == sorted(sents) and len(set(sents)) == len(sents)  # each stands for the earliest it held back


@pytest.mark.django_db(transaction=True)
def test_uvicorn_serves_a_stream_and_delivers_an_event():
    with asgi_server(LIVE_STREAM_SECONDS="10") as url:
        with urllib.request.urlopen(url + live.stream_url(["market", "market:CEA21"]), timeout=10) as response:
            assert response.headers["Content-Type"].startswith("text/event-stream")
            assert response.readline() == b"retry: 2000\n"
            assert response.readline() == b"event: hello\n"
            response.readline(), response.readline()  # its data and the blank line
            live.publish("market:CEA21")  # as the matcher in another process would
            started = time.monotonic()
            assert response.readline() == b"event: market\n"
            data = json.loads(response.readline().decode().removeprefix("data: "))
            assert data["topic"] == "market:CEA21"
            assert abs(data["sent"] - time.time()) < 1  # when it was published: the benchmark's clock
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
        streams = [urllib.request.urlopen(url + live.stream_url(["market:CEA21"]), timeout=10) for _ in range(5)]
        try:
            for stream in streams:
                stream.readline(), stream.readline()  # retry, then hello: the view has done its queries
            time.sleep(0.3)
            assert server_connections() <= before + 1
        finally:
            for stream in streams:
                stream.close()
