"""bench.load's clients against a small real HTTP server: every answer and refusal is counted."""

from __future__ import annotations

import asyncio
import itertools
import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn
from starlette.types import Receive, Scope, Send

from bench.common import free_port
from bench.load import Server, drive

COUNTER = itertools.count()


async def every_third_busy(scope: Scope, receive: Receive, send: Send) -> None:
    """/ask: 200, 200, 503 with Retry-After 1, ...; /readyz: 200."""
    if scope["type"] != "http":
        return
    while (await receive()).get("more_body"):
        pass
    status, headers = 200, [(b"content-type", b"application/json")]
    if scope["path"] == "/ask" and next(COUNTER) % 3 == 2:
        status, headers = 503, [*headers, (b"retry-after", b"1")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": b"{}"})


@pytest.fixture
def url() -> Iterator[str]:
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(every_third_busy, host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            httpx.get(f"{base}/readyz")
            break
        except httpx.HTTPError:
            time.sleep(0.05)
    yield base
    server.should_exit = True
    thread.join(10)


def test_each_asker_on_its_own_connection_counts_answers_and_refusals(url: str) -> None:
    level = asyncio.run(drive(Server("fake", url, None), ["q1", "q2"], clients=6, seconds=1.0))

    assert level.requests == level.ok + level.errors and level.ok > 0
    assert set(level.errors_by_status) == {"503"}  # no dropped connections, no other status
    assert level.busy_without_retry_after == 0
    assert level.not_ready == 0
