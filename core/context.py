"""Facts about the current request that services record (the client's IP in audit events)."""

from contextvars import ContextVar

request_ip: ContextVar[str | None] = ContextVar("request_ip", default=None)
