"""The ASGI entry point. The live streams (core.live.STREAM_PATH) are a small ASGI application of
their own, ahead of Django: they need no middleware, no session and no database (their signed URL
says what they may announce). Everything else is Django."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
django_application = get_asgi_application()

from core import live, scheduler  # noqa: E402 - after Django is set up


async def application(scope, receive, send):  # type: ignore[no-untyped-def]
    if scope["type"] == "lifespan":
        # The embedded default has no beat process: the server runs the scheduled jobs (core.scheduler).
        while (message := await receive())["type"] != "lifespan.shutdown":
            if message["type"] == "lifespan.startup":
                scheduler.start()
                await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] == "http" and scope["path"] == live.STREAM_PATH:
        await live.stream_app(scope, receive, send)
    else:
        await django_application(scope, receive, send)
