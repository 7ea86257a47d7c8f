"""Live updates: services say *what* changed (`changed("market:CEA21")`), open browser streams hear it.

A topic names what changed, never the data: `market` (every instrument), `market:<symbol>` (its book,
tape, chart) or `org:<id>` (an organization's orders and balances). The browser re-reads what it
shows through the ordinary, authorized page fragments, so a stream never carries another
organization's data, and a lost message costs at most one refresh (each reconnect refreshes all).

Messages go out after commit only (a rolled-back order announces nothing), through Redis pub/sub
when REDIS_URL is set (web workers, the matcher and Celery workers are separate processes), else
through an in-process hub (the embedded default: one process). Channel names carry the database's
name, so test runs on separate databases sharing one Redis never hear each other.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection, connections, transaction

logger = logging.getLogger(__name__)


def channel(topic: str) -> str:
    return f"live:{connection.settings_dict['NAME']}:{topic}"


def changed(*topics: str) -> None:
    """Announces, once the current transaction commits, that `topics` changed."""
    if not settings.LIVE_UPDATES or not topics:
        return
    transaction.on_commit(lambda: publish(*topics))


def publish(*topics: str) -> None:
    """Sends the announcements now. Never raises: live updates are a convenience, and the write
    that caused them has committed already."""
    messages = [(channel(topic), json.dumps({"topic": topic})) for topic in dict.fromkeys(topics)]
    try:
        if settings.REDIS_URL:
            pipeline = _redis().pipeline(transaction=False)  # one round trip for them all
            for channel_name, message in messages:
                pipeline.publish(channel_name, message)
            pipeline.execute()
        else:
            for channel_name, message in messages:
                hub.publish(channel_name, message)
    except Exception:
        logger.warning("live update for %s not sent", ", ".join(topics), exc_info=True)


_redis_client: list[Any] = []


def _redis() -> Any:
    if not _redis_client:
        import redis

        _redis_client.append(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2))
    return _redis_client[0]


class Hub:
    """In-process pub/sub for the embedded default: publishers may be any thread, subscribers are
    asyncio queues on their own event loops."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._subscribers: list[tuple[asyncio.AbstractEventLoop, asyncio.Queue[str], frozenset[str]]] = []

    def publish(self, channel_name: str, message: str) -> None:
        with self._lock:
            targets = [(loop, queue) for loop, queue, channels in self._subscribers if channel_name in channels]
        for loop, queue in targets:
            loop.call_soon_threadsafe(queue.put_nowait, message)

    def add(self, channels: frozenset[str]) -> tuple[Any, asyncio.Queue[str]]:
        entry = (asyncio.get_running_loop(), asyncio.Queue(), channels)
        with self._lock:
            self._subscribers.append(entry)
        return entry, entry[1]

    def remove(self, entry: Any) -> None:
        with self._lock:
            self._subscribers.remove(entry)


hub = Hub()


class Subscription:
    """What a stream reads: `await next_message(timeout)` gives the next topic, or None on timeout."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    async def next_message(self, timeout: float) -> str | None:
        return await self._reader(timeout)


@asynccontextmanager
async def subscribe(topics: Iterable[str]) -> AsyncIterator[Subscription]:
    """Listens to `topics` (after subscribing, so nothing published later is missed)."""
    channels = frozenset(channel(topic) for topic in topics)
    if settings.REDIS_URL:
        import redis.asyncio

        client = redis.asyncio.Redis.from_url(settings.REDIS_URL)
        pubsub = client.pubsub(ignore_subscribe_messages=True)
        await pubsub.subscribe(*channels)

        async def read_redis(timeout: float) -> str | None:
            loop = asyncio.get_running_loop()
            deadline = loop.time() + timeout
            while (left := deadline - loop.time()) > 0:
                message = await pubsub.get_message(timeout=left)
                if message and message.get("type") == "message":
                    return _topic(message["data"])
            return None

        try:
            yield Subscription(read_redis)
        finally:
            await pubsub.aclose()
            await client.aclose()
    else:
        entry, queue = hub.add(channels)

        async def read_hub(timeout: float) -> str | None:
            try:
                return _topic(await asyncio.wait_for(queue.get(), timeout))
            except TimeoutError:
                return None

        try:
            yield Subscription(read_hub)
        finally:
            hub.remove(entry)


def _topic(data: bytes | str) -> str:
    if isinstance(data, bytes):
        data = data.decode()
    return str(json.loads(data)["topic"])


def sse_response(topics: Iterable[str]) -> Any:
    """A Server-Sent Events response announcing `topics`: `event: market` or `event: org` with the
    topic as data, a comment line as heartbeat, and `retry` so the browser's EventSource reconnects.
    With LIVE_STREAM_SECONDS it ends after that long (the browser reconnects, and is authorized
    again); tests use a short one. Serve it under ASGI: under WSGI it would be buffered."""
    from django.http import HttpResponse, StreamingHttpResponse

    if not settings.LIVE_UPDATES:
        return HttpResponse(status=204)  # EventSource stops reconnecting on 204
    topics = list(topics)

    async def events() -> AsyncIterator[str]:
        # The request's database connection would stay open, idle, as long as the stream does
        # (hundreds of streams would use up PostgreSQL's connections): the stream needs none.
        await sync_to_async(connections.close_all)()
        loop = asyncio.get_running_loop()
        seconds = settings.LIVE_STREAM_SECONDS
        ends = loop.time() + seconds if seconds else None
        async with subscribe(topics) as subscription:
            yield f"retry: {settings.LIVE_RETRY_MS}\nevent: hello\ndata: {json.dumps({'topics': topics})}\n\n"
            while ends is None or loop.time() < ends:
                wait = settings.LIVE_HEARTBEAT_SECONDS if ends is None else min(settings.LIVE_HEARTBEAT_SECONDS, ends - loop.time())
                topic = await subscription.next_message(max(wait, 0))
                if topic is None:
                    yield ": heartbeat\n\n"
                    continue
                yield f"event: {topic.split(':', 1)[0]}\ndata: {json.dumps({'topic': topic})}\n\n"

    response = StreamingHttpResponse(events(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"  # a proxy in front must not buffer the stream
    return response
