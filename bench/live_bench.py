"""Live updates at scale, on the shipped topology (deploy/topology.py): `--streams` Server-Sent Events
streams open through nginx on the uvicorn processes (2, as shipped), while the order mix of http_bench.py runs
through the API (the matcher announcing each batch, the Celery worker each settlement). For every
event a stream receives: publish-to-arrival, from the `sent` time the announcement carries (the
publisher's clock, this machine's) to the moment the stream read it. Also the platform's PostgreSQL
connections during the run: an idle stream holds none. Prints JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
    python bench/live_bench.py [--streams 1000] [--seconds 20] [--rate 100]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import resource
import statistics
import time

os.environ.setdefault("MARKET_HOURS", "always")
os.environ.setdefault("REDIS_URL", "redis://127.0.0.1:6379/5")
os.environ["MATCHER_INLINE"] = "false"

from _http import Platform  # noqa: E402
from _setup import django_ready  # noqa: E402


async def _stream(port: int, path: str, latencies: list[float], opened: asyncio.Event, counts: dict[str, int]) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port, limit=1 << 20)
    writer.write(f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n".encode())
    await writer.drain()
    try:
        while line := await reader.readline():
            if line.startswith(b"event: hello"):
                counts["opened"] += 1
                if counts["opened"] == counts["wanted"]:
                    opened.set()
            elif line.startswith(b"data: {\"topic\""):  # ...,"sent": 1796...}: read without a JSON parser (cheaper)
                latencies.append(time.time() - float(line[line.rindex(b":") + 1 : line.rindex(b"}")]))
            elif line.startswith(b"HTTP/1.1 ") and not line.startswith(b"HTTP/1.1 200"):
                counts["refused"] += 1
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def _run(platform: object, tokens: list[str], paths: list[str], *, streams: int, seconds: float, rate: float) -> dict[str, object]:
    port = platform.port  # type: ignore[attr-defined]
    from http_bench import ConnectionSampler, drive, report

    latencies: list[float] = []
    opened, counts = asyncio.Event(), {"opened": 0, "wanted": streams, "refused": 0}
    tasks = []
    for n in range(streams):  # browsers arrive over a few seconds, not in one millisecond
        tasks.append(asyncio.create_task(_stream(port, paths[n % len(paths)], latencies, opened, counts)))
        if n % 50 == 49:
            await asyncio.sleep(0.05)
    try:
        await asyncio.wait_for(opened.wait(), timeout=120)
    except TimeoutError:
        raise SystemExit(f"only {counts['opened']} of {streams} streams opened ({counts['refused']} refused)") from None
    sampler = ConnectionSampler(platform)
    sampler.start()
    await asyncio.sleep(2)
    idle_connections = max(sampler.samples[-10:])  # every stream open, nothing trading yet
    latencies.clear()  # (the hello refreshes)
    rows, elapsed = await asyncio.to_thread(drive, port, tokens, seconds=seconds, rate=rate, seed=5)
    await asyncio.sleep(2)  # the last announcements
    sampler.stopping.set()
    await asyncio.to_thread(sampler.join)
    still_open = sum(1 for task in tasks if not task.done())
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    ordered = sorted(latency * 1000 for latency in latencies)
    mix = report(rows, elapsed)
    return {
        "streams": streams, "streams_open_at_end": still_open,
        "events_delivered": len(ordered), "events_per_stream": round(len(ordered) / streams, 1),
        "publish_to_arrival_ms": {
            "p50": round(statistics.median(ordered), 1), "p99": round(ordered[int(0.99 * (len(ordered) - 1))], 1),
            "max": round(ordered[-1], 1),
        } if ordered else None,
        "platform_connections_streams_idle": idle_connections,
        "platform_connections_max": max(sampler.samples),
        "order_mix": {"offered_per_second": rate, "requests_per_second": mix["requests_per_second"], "all": mix["all"],
                      "server_errors": mix["server_errors"]},
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=20.0, help="how long the order mix runs")
    parser.add_argument("--rate", type=float, default=100.0, help="requests/s of the order mix, offered")
    parser.add_argument("--clients", type=int, default=8)
    options = parser.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # a socket per stream
    django_ready()
    from bench_fixtures import api_tokens, participants
    from django.db import connection
    from orderflow_bench import fresh_book

    from accounts.selectors import user_organization_ids
    from core import live
    from trading.models import Instrument

    traders = participants(options.clients)
    tokens = api_tokens(traders, "live-bench")
    # Half the streams as the market page's (every instrument), half as the traders' pages' (their
    # market and their own organization), signed as those pages sign them.
    symbols = list(Instrument.objects.values_list("symbol", flat=True))
    paths = [live.stream_url(["market", *(f"market:{symbol}" for symbol in symbols)])]
    paths += [live.stream_url(["market", "market:CEA21", *(f"org:{pk}" for pk in user_organization_ids(trader))]) for trader in traders]
    paths = [paths[0] if n % 2 == 0 else paths[1 + n % len(traders)] for n in range(2 * len(traders))]
    fresh_book()
    connection.close()
    with Platform(env={"LIVE_STREAM_SECONDS": "0"}) as platform:
        import uvloop  # the streams' reader is a thousand sockets in one process: the faster loop

        uvloop.install()
        result = asyncio.run(_run(platform, tokens, paths, streams=options.streams, seconds=options.seconds, rate=options.rate))
        result["processes_alive"] = platform.alive()
        result["ceiling"] = platform.ceiling
    fresh_book()
    print(json.dumps({"benchmark": "live", "topology": "nginx -> uvicorn (2 processes) for the streams; the mix through gunicorn",
                      "coalesce_ms": int(os.environ.get("LIVE_COALESCE_MS", "100")), **result}))


if __name__ == "__main__":
    main()
