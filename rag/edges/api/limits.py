"""Per-client rate limit (429) and request body limits (413), checked before the work starts."""

import math
import threading
import time
from collections import deque

from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.errors import RateLimited
from rag.config import Settings
from rag.edges.api.errors import error_response

MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around an upload of max_upload_bytes


class RateLimiter:
    """At most `per_minute` requests per client in any sliding 60 s window (0: no limit)."""

    WINDOW_S = 60.0
    MAX_CLIENTS = 10_000  # idle clients are forgotten past this many, so memory stays bounded

    def __init__(self, per_minute: int) -> None:
        self.per_minute = per_minute
        self._hits: dict[str, deque[float]] = {}
        self._lock = threading.Lock()

    def check(self, client: str) -> None:
        if not self.per_minute:
            return
        now = time.monotonic()
        with self._lock:
            hits = self._hits.setdefault(client, deque())
            while hits and hits[0] <= now - self.WINDOW_S:
                hits.popleft()
            if len(hits) >= self.per_minute:
                retry = max(1, math.ceil(hits[0] + self.WINDOW_S - now))
                raise RateLimited(
                    f"rate limit of {self.per_minute} requests per minute reached "
                    f"(RAG_RATE_LIMIT_PER_MINUTE); retry in {retry} s",
                    headers={"Retry-After": str(retry)},
                )
            hits.append(now)
            if len(self._hits) > self.MAX_CLIENTS:
                self._hits = {
                    key: times
                    for key, times in self._hits.items()
                    if times and times[-1] > now - self.WINDOW_S
                }



class BodyTooLarge(StarletteHTTPException):
    """Raised from `receive`: FastAPI passes HTTPExceptions from body parsing on to the handlers
    (any other exception there becomes a generic 400)."""

    def __init__(self, limit: int) -> None:
        super().__init__(413, body_limit_message(limit))


def body_limit_message(limit: int) -> str:
    return f"the request body is over the limit of {limit} bytes (RAG_MAX_BODY_BYTES; uploads: RAG_MAX_UPLOAD_BYTES)"


def body_limits(settings: Settings) -> dict[tuple[str, str], int]:
    """(method, route path) -> body limit; "*" is every other API route."""
    return {
        ("POST", "/documents"): settings.max_upload_bytes + MULTIPART_OVERHEAD,
        ("*", "*"): settings.max_body_bytes,
    }


class BodyLimit:
    """413 for a request body over its route's limit: at once from Content-Length, or as soon as
    the bytes of a chunked body pass it, never after reading it whole. Only API routes: the page
    mounted at `/` keeps its own limits.

    Hand-written rather than FastAPI's `max_body_size`: Starlette's limiter replaces the app's
    413 with a text/plain body when Content-Length is over, and errors here are JSON."""

    def __init__(self, app: ASGIApp, routes: list[BaseRoute], limits: dict[tuple[str, str], int]) -> None:
        self.app = app
        self.routes = routes
        self.limits = limits

    def limit_for(self, scope: Scope) -> int | None:
        for route in self.routes:
            match, _ = route.matches(scope)
            if match is not Match.NONE:
                path = getattr(route, "path", "")
                return self.limits.get((scope["method"], path), self.limits[("*", "*")])
        return None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        limit = self.limit_for(scope) if scope["type"] == "http" else None
        if limit is None:
            await self.app(scope, receive, send)
            return
        declared = next((value for key, value in scope["headers"] if key == b"content-length"), b"")
        if declared.isdigit() and int(declared) > limit:
            await error_response(413, "too_large", body_limit_message(limit))(scope, receive, send)
            return
        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise BodyTooLarge(limit)
            return message

        await self.app(scope, counting_receive, send)

