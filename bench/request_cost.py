"""The cost of one request in the web tier, without HTTP: order POSTs, book reads and cancels handed to
Django's WSGI handler in this process (the whole middleware stack, DRF, the view and the service), as a
gunicorn worker would. CPU time of this process per request (so other load on the machine matters
little), wall time, and queries per request; `--profile` adds cProfile's top functions. Prints JSON.

No matcher runs (MATCHER_INLINE=false): orders rest unmatched, the book snapshot is the one last
published. What it leaves out of a real request: gunicorn's parsing and socket work, nginx.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/carbon_bench REDIS_URL=redis://127.0.0.1:6379/5 \\
    python bench/request_cost.py [--requests 1000] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import sys
import time

os.environ.setdefault("MARKET_HOURS", "always")
os.environ["MATCHER_INLINE"] = "false"
os.environ.setdefault("API_ORDER_RATE", "1000000/min")  # counted as usual, never reached

from _setup import django_ready  # noqa: E402

MID = 54_22


def environ(method: str, path: str, token: str, body: bytes = b"") -> dict[str, object]:
    path, _, query = path.partition("?")
    return {
        "REQUEST_METHOD": method, "PATH_INFO": path, "QUERY_STRING": query, "SCRIPT_NAME": "",
        "SERVER_NAME": "127.0.0.1", "SERVER_PORT": "8000", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
        "HTTP_HOST": "127.0.0.1", "HTTP_AUTHORIZATION": f"Token {token}", "CONTENT_TYPE": "application/json",
        "CONTENT_LENGTH": str(len(body)), "wsgi.input": io.BytesIO(body), "wsgi.url_scheme": "http",
        "wsgi.errors": sys.stderr, "wsgi.multithread": False, "wsgi.multiprocess": True, "wsgi.run_once": False,
        "wsgi.version": (1, 0),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=1000, help="of each kind")
    parser.add_argument("--profile", action="store_true", help="add cProfile's top functions (slows every request)")
    options = parser.parse_args()

    django_ready()
    from bench_fixtures import api_tokens, participants
    from django.core.handlers.wsgi import WSGIHandler
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext
    from orderflow_bench import fresh_book

    token = api_tokens(participants(1), "request-cost")[0]
    fresh_book()
    handler = WSGIHandler()
    statuses: dict[str, int] = {}

    def call(method: str, path: str, body: bytes = b"") -> bytes:
        answer: dict[str, str] = {}

        def start_response(status: str, headers: list[tuple[str, str]], exc_info: object = None) -> None:
            answer["status"] = status.split()[0]

        response = handler(environ(method, path, token, body), start_response)
        payload = b"".join(response)
        response.close()
        statuses[answer["status"]] = statuses.get(answer["status"], 0) + 1
        return payload

    def order(index: int) -> bytes:
        side = "buy" if index % 2 else "sell"
        price = MID - 50 - index % 40 if side == "buy" else MID + 50 + index % 40  # resting, never crossing
        return json.dumps({"instrument": "CEA21", "side": side, "price": f"{price / 100:.2f}", "quantity": 1 + index % 200,
                           "client_order_id": f"cost-{time.time_ns()}-{index}"}).encode()

    resting: list[int] = []
    kinds = {
        "order": lambda i: resting.append(json.loads(call("POST", "/api/v1/orders/", order(i)))["id"]),
        "book": lambda i: call("GET", "/api/v1/instruments/CEA21/book/?depth=10"),
        "cancel": lambda i: call("DELETE", f"/api/v1/orders/{resting.pop()}/"),
    }
    for i in range(50):  # warm up: caches, prepared statements, imports
        kinds["order"](i)
        kinds["book"](i)
    result: dict[str, object] = {"benchmark": "request_cost", "requests_per_kind": options.requests}
    profiler = cProfile.Profile() if options.profile else None
    for kind, run in kinds.items():
        with CaptureQueriesContext(connection) as queries:
            reset_queries()
            cpu, wall = time.process_time(), time.perf_counter()
            if profiler:
                profiler.enable()
            for i in range(options.requests):
                run(i)
            if profiler:
                profiler.disable()
            cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
        result[kind] = {"cpu_ms": round(cpu * 1000 / options.requests, 3), "wall_ms": round(wall * 1000 / options.requests, 3),
                        "queries": round(len(queries) / options.requests, 2)}
    result["statuses"] = statuses
    if profiler:
        text = io.StringIO()
        pstats.Stats(profiler, stream=text).sort_stats("tottime").print_stats(30)
        result["profile"] = text.getvalue().splitlines()
    fresh_book()
    print(json.dumps(result, indent=1 if options.profile else None))


if __name__ == "__main__":
    main()
