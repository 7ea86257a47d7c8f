"""Live updates: services say *what* changed (`changed("market:CEA21")`), open browser streams hear it.

A topic names what changed, never the data: `market` (every instrument), `market:<symbol>` (its book,
tape, chart) or `org:<id>` (an organization's orders and balances). The browser re-reads what it
shows through the ordinary, authorized page fragments, so a stream never carries another
organization's data, and a lost message costs at most one refresh (each reconnect refreshes all).

Messages go out after commit only (a rolled-back order announces nothing), through Redis pub/sub
when REDIS_URL is set (web workers, the matcher and Celery workers are separate processes), else
through an in-process hub (the embedded default: one process). Channel names carry the database's
name, so test runs on separate databases sharing one Redis never hear each other.

The streams (`stream_app`) run on the ASGI server, outside Django's request cycle: a page gives its
browser a signed stream URL naming the topics its user may hear (`stream_url`), the stream checks
the signature and listens. Each process subscribes to Redis once and fans messages out to its
streams (`Fanout`), so a thousand open streams cost one Redis connection and no database connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import threading
import time
import weakref
from collections import defaultdict
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlencode

from django.conf import settings
from django.core import signing
from django.db import connection, transaction

logger = logging.getLogger(__name__)


def channel(topic: str) -> str:
    return f"live:{connection.settings_dict['NAME']}:{topic}"


def changed(*topics: str) -> None:
    """Announces, once the current transaction commits, that `topics` changed."""
    if not settings.LIVE_UPDATES or not topics:
        return
    transaction.on_commit(lambda: publish(*topics))


def publish(*topics: str, store: tuple[str, str] | None = None) -> None:
    """Sends the announcements now; with `store`, first SETs that (key, value) in Redis in the same
    round trip (the data the announcements send browsers to read: trading.market_data's snapshot).
    Never raises: live updates are a convenience, and the write that caused them has committed
    already. Each message carries when it was sent (`sent`, epoch seconds), which the streams pass on
    (bench/live_bench.py measures publish-to-arrival with it)."""
    sent = round(time.time(), 4)
    messages = [(channel(topic), json.dumps({"topic": topic, "sent": sent})) for topic in dict.fromkeys(topics)]
    if not settings.LIVE_UPDATES:
        messages = []
    try:
        if settings.REDIS_URL:
            pipeline = _redis().pipeline(transaction=False)  # one round trip for them all
            if store is not None:
                pipeline.set(*store)
            for channel_name, message in messages:
                pipeline.publish(channel_name, message)
            if store is not None or messages:
                pipeline.execute()
        else:
            for channel_name, message in messages:
                hub.publish(channel_name, message)
    except Exception:
        logger.warning("live update for %s not sent", ", ".join(topics) or "a snapshot", exc_info=True)


_redis_client: list[Any] = []


def _redis() -> Any:
    if not _redis_client:
        import redis

        _redis_client.append(redis.Redis.from_url(settings.REDIS_URL, socket_timeout=2, socket_connect_timeout=2))
    return _redis_client[0]


class Message(NamedTuple):
    topic: str
    data: bytes  # the Server-Sent Event, ready to send


END = Message("", b"")  # what a stream receives when it must end (its feed was lost: the browser reconnects)


class Fanout:
    """The streams of one event loop (a uvicorn process has one) and what feeds them: ONE Redis
    subscription per process, to every channel of this database, whatever the number of streams
    (with REDIS_URL), or the in-process hub (without). Each message is turned into its Server-Sent
    Event once and handed to the queue of every stream listening to its channel.

    Per channel, deliveries are at least LIVE_COALESCE_MS apart: a message on a channel delivered
    less than that ago waits, together with any that follow it, for the first tick of a clock shared
    by all channels (every LIVE_COALESCE_MS) at which the channel is due, so that under load a stream
    gets all its news of a tick in one write (a busy market announces a book change with every
    matcher batch; a browser re-reads the book at most that often anyway). A coalesced delivery
    carries the earliest `sent` of the messages it stands for."""

    def __init__(self) -> None:
        self.loop = asyncio.get_running_loop()
        self.streams: dict[str, set[asyncio.Queue[Message]]] = defaultdict(set)
        self.last_delivery: dict[str, float] = {}
        self.waiting: dict[str, str] = {}  # channel -> the first message held back for it
        self.tick: asyncio.TimerHandle | None = None
        self.ready = asyncio.Event()
        self.reader: asyncio.Task[None] | None = None

    def add(self, channels: frozenset[str]) -> asyncio.Queue[Message]:
        queue: asyncio.Queue[Message] = asyncio.Queue()
        for channel_name in channels:
            self.streams[channel_name].add(queue)
        return queue

    def remove(self, channels: frozenset[str], queue: asyncio.Queue[Message]) -> None:
        for channel_name in channels:
            listeners = self.streams.get(channel_name)
            if listeners is not None:
                listeners.discard(queue)
                if not listeners:
                    del self.streams[channel_name]

    def receive(self, channel_name: str, message: str) -> None:
        """A message for `channel_name` (on this loop's thread)."""
        if channel_name not in self.streams or channel_name in self.waiting:
            return
        now = self.loop.time()
        if now >= self._due(channel_name):
            self._deliver(channel_name, message, now)
            return
        self.waiting[channel_name] = message
        self._schedule(now)

    def _due(self, channel_name: str) -> float:
        """When `channel_name` may be delivered again."""
        return self.last_delivery.get(channel_name, -1e9) + settings.LIVE_COALESCE_MS / 1000

    def _schedule(self, now: float) -> None:
        """The next tick (a multiple of the interval on the loop's clock) at which a waiting channel is due."""
        interval = settings.LIVE_COALESCE_MS / 1000
        due = min(self._due(channel_name) for channel_name in self.waiting)
        at = max(now, due) // interval * interval
        at = at if at >= due - 1e-9 else at + interval
        if self.tick is None or at < self.tick.when():
            if self.tick is not None:
                self.tick.cancel()
            self.tick = self.loop.call_at(at, self._deliver_waiting)

    def _deliver_waiting(self) -> None:
        self.tick = None
        now = self.loop.time()
        for channel_name in [name for name in self.waiting if now >= self._due(name) - 1e-9]:
            self._deliver(channel_name, self.waiting.pop(channel_name), now)
        if self.waiting:
            self._schedule(now)

    def _deliver(self, channel_name: str, message: str, now: float) -> None:
        self.last_delivery[channel_name] = now
        topic = _topic(message)
        event = Message(topic, f"event: {topic.split(':', 1)[0]}\ndata: {message}\n\n".encode())
        for queue in self.streams.get(channel_name, ()):
            queue.put_nowait(event)

    def end_all(self) -> None:
        for queue in {queue for listeners in self.streams.values() for queue in listeners}:
            queue.put_nowait(END)

    async def read_redis(self, pattern: str) -> None:
        """The process's one subscription, kept up: after losing Redis it ends every stream (their
        browsers reconnect and refresh everything, so nothing missed meanwhile stays stale) and
        subscribes again."""
        import redis.asyncio

        while True:
            client = redis.asyncio.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2)
            pubsub = client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.psubscribe(pattern)
                self.ready.set()
                async for message in pubsub.listen():
                    if message.get("type") == "pmessage":
                        channel_name = message["channel"]
                        self.receive(channel_name.decode() if isinstance(channel_name, bytes) else channel_name,
                                     message["data"].decode() if isinstance(message["data"], bytes) else message["data"])
            except asyncio.CancelledError:
                raise
            except Exception:
                logger.warning("live updates: lost the Redis subscription; streams end and reconnect", exc_info=True)
                self.ready.clear()
                self.end_all()
                await asyncio.sleep(1)
            finally:
                with contextlib.suppress(Exception):
                    await pubsub.aclose()
                    await client.aclose()


class Hub:
    """The fan-outs of this process, one per event loop; without Redis, also the message bus
    itself: publishers (any thread) hand each message to every fan-out, on its own loop."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fanouts: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Fanout] = weakref.WeakKeyDictionary()

    def publish(self, channel_name: str, message: str) -> None:
        with self._lock:
            fanouts = list(self._fanouts.values())
        for fanout in fanouts:
            with contextlib.suppress(RuntimeError):  # its loop has just closed
                fanout.loop.call_soon_threadsafe(fanout.receive, channel_name, message)

    async def fanout(self) -> Fanout:
        """This loop's fan-out, fed and ready."""
        loop = asyncio.get_running_loop()
        with self._lock:
            fanout = self._fanouts.get(loop)
            if fanout is None:
                fanout = self._fanouts[loop] = Fanout()
        if settings.REDIS_URL:
            if fanout.reader is None or fanout.reader.done():
                fanout.reader = loop.create_task(fanout.read_redis(channel("*")))
        else:
            fanout.ready.set()
        await fanout.ready.wait()
        return fanout


hub = Hub()


class Subscription:
    """What a stream reads: `await next_message(timeout)`, the next Message, or None on timeout."""

    def __init__(self, queue: asyncio.Queue[Message]) -> None:
        self._queue = queue

    async def next_message(self, timeout: float) -> Message | None:
        if not self._queue.empty():
            return self._queue.get_nowait()
        try:
            async with asyncio.timeout(timeout):  # (cheaper than wait_for, which makes a task each time)
                return await self._queue.get()
        except TimeoutError:
            return None

    async def next_messages(self) -> list[Message]:
        """The next message and every other one already waiting: a stream writes them to its client
        at once (the fan-out delivers a tick's news of all channels together)."""
        messages = [await self._queue.get()]
        while not self._queue.empty():
            messages.append(self._queue.get_nowait())
        return messages

    def put(self, message: Message) -> None:
        """Adds a message of the stream's own (a heartbeat, or END when it must stop)."""
        self._queue.put_nowait(message)

    def end(self) -> None:
        """Makes the reader's next message END (its client went away, or its time is up)."""
        self._queue.put_nowait(END)


@asynccontextmanager
async def subscribe(topics: Iterable[str]) -> AsyncIterator[Subscription]:
    """Listens to `topics` (from now on: nothing published after this returns is missed)."""
    channels = frozenset(channel(topic) for topic in topics)
    fanout = await hub.fanout()
    queue = fanout.add(channels)
    try:
        yield Subscription(queue)
    finally:
        fanout.remove(channels, queue)


def _topic(data: bytes | str) -> str:
    if isinstance(data, bytes):
        data = data.decode()
    return str(json.loads(data)["topic"])


# --- the streams ------------------------------------------------------------------------------------

STREAM_PATH = "/live/stream/"
_TOKEN_SALT = "core.live.stream"


def stream_url(topics: Iterable[str]) -> str:
    """The URL of a stream of `topics`, signed. The page that shows it has decided who may hear
    what (the organizations' topics of its user); the streams' server only checks the signature, so
    it never asks the database anything: a stream holds no connection, and a thousand browsers
    reconnecting at once cost it no query. A URL works for LIVE_TOKEN_SECONDS; then the page asks
    for a new one (`data-stream-refresh`), which authorizes its user again."""
    token = signing.dumps(sorted(set(topics)), salt=_TOKEN_SALT, compress=True)
    return f"{STREAM_PATH}?{urlencode({'t': token})}"


def stream_topics(token: str) -> list[str] | None:
    """The topics a stream URL's token names, or None if it is forged, damaged or too old."""
    try:
        topics = signing.loads(token, salt=_TOKEN_SALT, max_age=settings.LIVE_TOKEN_SECONDS)
    except signing.BadSignature:
        return None
    return topics if isinstance(topics, list) and all(isinstance(topic, str) for topic in topics) else None


async def stream_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """The ASGI application of STREAM_PATH (config/asgi.py routes it here, before Django): a
    Server-Sent Events stream of the token's topics. `event: market` or `event: org` with the topic
    (and when it was sent) as data, a comment line as heartbeat, `retry` for the browser's
    reconnection delay; it ends after LIVE_STREAM_SECONDS (the browser reconnects with the same URL).
    A token that does not verify, and LIVE_UPDATES off, get a 204, on which EventSource stops."""
    if scope["method"] not in ("GET", "HEAD"):
        await _answer(send, 405, [(b"allow", b"GET")])
        return
    query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    topics = stream_topics(query.get("t", [""])[0]) if settings.LIVE_UPDATES else None
    if topics is None:
        await _answer(send, 204, [(b"cache-control", b"no-store")])
        return
    await send({"type": "http.response.start", "status": 200, "headers": [
        (b"content-type", b"text/event-stream; charset=utf-8"), (b"cache-control", b"no-cache"),
        (b"x-accel-buffering", b"no"),  # a proxy in front must not buffer the stream
        (b"x-content-type-options", b"nosniff"),
    ]})
    loop = asyncio.get_running_loop()
    async with subscribe(topics) as subscription:
        # A timer per stream for its heartbeat and its end, rather than a timeout around every wait:
        # a thousand streams each waking for every event is the fan-out's main cost.
        timers: list[asyncio.TimerHandle] = []

        def beat() -> None:
            subscription.put(HEARTBEAT)
            timers[0] = loop.call_later(settings.LIVE_HEARTBEAT_SECONDS, beat)

        timers.append(loop.call_later(settings.LIVE_HEARTBEAT_SECONDS, beat))
        if settings.LIVE_STREAM_SECONDS:
            timers.append(loop.call_later(settings.LIVE_STREAM_SECONDS, subscription.end))
        watcher = loop.create_task(_until_disconnected(receive, subscription))
        try:
            hello = f"retry: {settings.LIVE_RETRY_MS}\nevent: hello\ndata: {json.dumps({'topics': topics})}\n\n"
            await send({"type": "http.response.body", "body": hello.encode(), "more_body": True})
            while END not in (messages := await subscription.next_messages()):
                await send({"type": "http.response.body", "body": b"".join(message.data for message in messages), "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except OSError:  # the client went away while we wrote
            pass
        finally:
            for timer in timers:
                timer.cancel()
            watcher.cancel()


HEARTBEAT = Message("", b": heartbeat\n\n")


async def _until_disconnected(receive: Any, subscription: Subscription) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    subscription.end()


async def _answer(send: Any, status: int, headers: list[tuple[bytes, bytes]]) -> None:
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
