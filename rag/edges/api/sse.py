"""Server-Sent Events: the response and one event's bytes."""

import json
from collections.abc import AsyncIterator
from typing import Any

from fastapi.responses import StreamingResponse
from fastapi.sse import format_sse_event


def sse_response(chunks: AsyncIterator[bytes]) -> StreamingResponse:
    # no-cache and X-Accel-Buffering: proxies must pass events through as they come
    return StreamingResponse(
        chunks,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def sse(event: str | None, data: Any) -> bytes:
    return format_sse_event(event=event, data_str=json.dumps(data, ensure_ascii=False))

