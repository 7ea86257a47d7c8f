"""Live updates: how fast an announcement reaches every open browser stream. Starts uvicorn (ASGI,
as production runs it), opens N Server-Sent Events streams on /market/stream/, publishes M
announcements through Redis (as the matcher or a web worker would, from another process) and
measures, per stream and announcement, publish-to-arrival latency. Prints JSON.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench REDIS_URL=redis://127.0.0.1:6379/0 \\
    python bench/live_bench.py [--streams 300] [--events 40] [--workers 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import statistics
import subprocess
import sys
import time

from _http import ROOT, free_port
from _setup import django_ready


async def _stream(port: int, arrivals: list[float], ready: asyncio.Event, opened: list[int], total: int) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(b"GET /market/stream/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")
    await writer.drain()
    try:
        while line := await reader.readline():
            if line.startswith(b"event: hello"):
                opened[0] += 1
                if opened[0] == total:
                    ready.set()
            elif line.startswith(b"event: market"):
                arrivals.append(time.monotonic())
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def _run(port: int, streams: int, events: int) -> dict[str, object]:
    from core import live

    arrivals: list[list[float]] = [[] for _ in range(streams)]
    ready, opened = asyncio.Event(), [0]
    tasks = []
    for n in range(streams):  # browsers arrive over time, not all in the same millisecond
        tasks.append(asyncio.create_task(_stream(port, arrivals[n], ready, opened, streams)))
        await asyncio.sleep(0.01)
    try:
        await asyncio.wait_for(ready.wait(), timeout=120)
    except TimeoutError:
        raise SystemExit(f"only {opened[0]} of {streams} streams opened") from None
    published = []
    for _ in range(events):
        published.append(time.monotonic())
        await asyncio.to_thread(live.publish, "market:CEA21")
        await asyncio.sleep(0.1)
    await asyncio.sleep(5)  # the last announcements' stragglers
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    latencies = [
        (arrived - sent) * 1000
        for stream in arrivals
        for sent, arrived in zip(published, stream, strict=False)
    ]
    delivered = sum(len(stream) for stream in arrivals)
    latencies.sort()
    return {
        "streams": streams, "events": events, "delivered": delivered, "expected": streams * events,
        "latency_ms_p50": round(statistics.median(latencies), 1) if latencies else None,
        "latency_ms_p99": round(latencies[int(len(latencies) * 0.99) - 1], 1) if latencies else None,
        "latency_ms_max": round(latencies[-1], 1) if latencies else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", type=int, default=300)
    parser.add_argument("--events", type=int, default=40)
    parser.add_argument("--workers", type=int, default=3)
    options = parser.parse_args()
    if not os.environ.get("REDIS_URL"):
        print(json.dumps({"benchmark": "live", "skipped": "set REDIS_URL: streams in several workers share Redis pub/sub"}))
        return
    django_ready()
    port = free_port()
    env = {**os.environ, "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key"), "LIVE_STREAM_SECONDS": "0",
           "LOG_LEVEL": "WARNING"}
    server = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "config.asgi:application", "--port", str(port), "--workers", str(options.workers),
         "--log-level", "warning", "--no-access-log", "--timeout-graceful-shutdown", "1"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT, start_new_session=True,
    )
    try:
        import urllib.request

        deadline = time.monotonic() + 60
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/market/table/", timeout=2).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)
        result = asyncio.run(_run(port, options.streams, options.events))
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)
    print(json.dumps({"benchmark": "live", "server": f"uvicorn, {options.workers} workers", **result}))


if __name__ == "__main__":
    main()
