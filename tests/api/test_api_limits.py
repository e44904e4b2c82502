"""Limits: body size (413 before the body is read), rate (429), admission (503), time (504)."""

import json
import socket
import threading
import time
from urllib.parse import urlsplit

import httpx
from api_helpers import API_KEY, ZH_QUESTION, api_settings, live_server, serve_client

from rag.edges.api.app import create_app
from rag.engine import Engine

SMALL_BODY_LIMIT = 1024  # the smallest RAG_MAX_BODY_BYTES allows


def raw_exchange(url: str, request: bytes, body_parts: list[bytes], wait_s: float = 10.0) -> bytes:
    """Send a request head and some body bytes, never the rest, and read what comes back."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=wait_s) as conn:
        conn.sendall(request)
        for part in body_parts:
            conn.sendall(part)
        received = b""
        deadline = time.monotonic() + wait_s
        while b"\r\n\r\n" not in received or not received.rstrip().endswith(b"}"):
            chunk = conn.recv(65536)
            if not chunk or time.monotonic() > deadline:
                break
            received += chunk
    return received


def status_and_json(raw: bytes) -> tuple[int, dict]:
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split(b" ", 2)[1]), json.loads(body)


def test_an_oversized_content_length_is_refused_before_the_body_is_read(engine: Engine) -> None:
    app = create_app(engine, api_settings(engine.index_dir, max_body_bytes=SMALL_BODY_LIMIT))
    head = (
        b"POST /ask HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\n"
        b"Content-Length: 50000000\r\n\r\n"
    )
    with live_server(app) as url:
        # 50 MB announced, 20 bytes sent: the answer can only come before the body was read
        started = time.monotonic()
        status, body = status_and_json(raw_exchange(url, head, [b'{"question": "aaaa"'], wait_s=5))

    assert status == 413
    assert body["error"]["type"] == "too_large"
    assert str(SMALL_BODY_LIMIT) in body["error"]["message"]
    assert time.monotonic() - started < 5


def test_a_chunked_body_is_refused_once_it_passes_the_limit(engine: Engine) -> None:
    app = create_app(engine, api_settings(engine.index_dir, max_body_bytes=SMALL_BODY_LIMIT))
    head = b"POST /ask HTTP/1.1\r\nHost: test\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
    chunk = b"x" * 700
    chunks = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 2  # 1,400 bytes, and no final 0-chunk
    with live_server(app) as url:
        status, body = status_and_json(raw_exchange(url, head, chunks, wait_s=5))

    assert status == 413
    assert body["error"]["type"] == "too_large"


def test_uploads_have_their_own_limit(engine: Engine) -> None:
    settings = api_settings(
        engine.index_dir, max_body_bytes=SMALL_BODY_LIMIT, max_upload_bytes=4096, api_key=API_KEY
    )
    auth = {"Authorization": f"Bearer {API_KEY}"}
    with serve_client(create_app(engine, settings)) as client:
        json_over = client.post("/ask", json={"question": "问" * 600})  # ~1,800 bytes of JSON
        # over the JSON limit but within the upload limit: let through, then refused for its type
        upload_within = client.post("/documents", files={"file": ("a.exe", b"x" * 2000)}, headers=auth)
        file_over = client.post("/documents", files={"file": ("a.md", b"x" * 10_000)}, headers=auth)
        body_over = client.post("/documents", files={"file": ("a.md", b"x" * 200_000)}, headers=auth)

    assert json_over.status_code == 413
    assert upload_within.status_code == 415
    for response in (file_over, body_over):
        assert response.status_code == 413
        assert response.json()["error"]["type"] == "too_large"
    assert "RAG_MAX_UPLOAD_BYTES" in file_over.json()["error"]["message"]


def test_the_rate_limit_is_429_with_retry_after(client_with) -> None:  # noqa: ANN001
    with client_with(rate_limit_per_minute=3) as client:
        statuses = [client.get("/search", params={"q": "长三角"}).status_code for _ in range(4)]
        limited = client.get("/search", params={"q": "长三角"})
        health = client.get("/healthz")

    assert statuses == [200, 200, 200, 429]
    assert limited.status_code == 429
    assert limited.json()["error"]["type"] == "rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    assert health.status_code == 200  # probes are never limited


def test_every_question_route_obeys_the_wait_budget(engine: Engine) -> None:
    """/ask, /ask/stream, /search and the OpenAI route (plain and streamed) are admitted by one
    rule: with the only worker held and no wait allowed, each gets 503 with Retry-After at once;
    once the worker is free they answer."""
    app = create_app(engine, api_settings(engine.index_dir, max_concurrency=1, max_queue_wait_s=0))
    chat = {"model": "report-rag", "messages": [{"role": "user", "content": ZH_QUESTION}]}
    requests = [
        ("POST", "/ask", {"json": {"question": ZH_QUESTION}}),
        ("POST", "/ask/stream", {"json": {"question": ZH_QUESTION}}),
        ("GET", "/search", {"params": {"q": "长三角"}}),
        ("POST", "/v1/chat/completions", {"json": chat}),
        ("POST", "/v1/chat/completions", {"json": {**chat, "stream": True}}),
    ]
    held = threading.Event()
    with live_server(app) as url, httpx.Client(base_url=url, timeout=60) as http:
        blocker = app.state.services.pool.submit(held.wait, 30)  # the one worker is busy
        try:
            refused = [http.request(method, path, **kwargs) for method, path, kwargs in requests]
        finally:
            held.set()
            blocker.result(timeout=30)
        answered = [http.request(method, path, **kwargs) for method, path, kwargs in requests]

    for response in refused:
        assert response.status_code == 503, response.text
        assert response.json()["error"]["type"] == "busy"
        assert int(response.headers["Retry-After"]) >= 1
    assert [response.status_code for response in answered] == [200] * len(requests)


def test_a_request_over_the_timeout_is_504(client_with) -> None:  # noqa: ANN001
    with client_with(request_timeout_s=0.001) as client:
        asked = client.post("/ask", json={"question": ZH_QUESTION})
        searched = client.get("/search", params={"q": "长三角"})
        streamed = client.post("/ask/stream", json={"question": ZH_QUESTION})

    for response in (asked, searched):
        assert response.status_code == 504
        assert response.json()["error"]["type"] == "timeout"
        assert "RAG_REQUEST_TIMEOUT_S" in response.json()["error"]["message"]
    # a stream has begun (200) when the time runs out: the error comes as an `error` event
    assert streamed.status_code == 200
    assert streamed.text.startswith("event: error\n")
    assert json.loads(streamed.text.split("data: ", 1)[1])["status"] == 504
