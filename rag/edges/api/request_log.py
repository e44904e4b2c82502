"""The access log: one JSON line per request, and an X-Request-ID on every response.

Every response also names the process that served it (X-Server-Pid, and `pid` in the log line):
with `rag serve --workers N` that tells the N processes apart."""

import json
import logging
import os
import re
import time
import uuid

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

access_log = logging.getLogger("rag.api.access")
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")


class RequestLog:
    """One JSON log line per request (id, method, route, status, latency, answerer); the id is
    also returned as X-Request-ID. Headers, query strings and bodies are never logged."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        incoming = next(
            (value.decode("latin-1") for key, value in scope["headers"] if key == b"x-request-id"), ""
        )
        request_id = incoming if _REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
        state = scope.setdefault("state", {})
        state["request_id"] = request_id
        started = time.perf_counter()
        status = 500  # what the client gets if the app raises before responding

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                headers.append("X-Request-ID", request_id)
                headers.append("X-Server-Pid", str(os.getpid()))
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        finally:
            record = {
                "request_id": request_id,
                "method": scope["method"],
                "route": getattr(scope.get("route"), "path", None) or scope["path"],
                "status": status,
                "latency_ms": round((time.perf_counter() - started) * 1000.0, 2),
                "client": scope["client"][0] if scope.get("client") else None,
                "pid": os.getpid(),
            }
            if "answerer" in state:
                record["answerer"] = state["answerer"]
            access_log.info(json.dumps(record, ensure_ascii=False))

