"""A fake OpenAI-compatible chat server for tests: real HTTP on 127.0.0.1, canned behaviours.

    with FakeOpenAI("good") as fake:
        client = LLMClient(LLMConfig(fake.base_url, fake.model, api_key="sk-test"))
        ...
        fake.behaviour = "error"          # switch at any time
        fake.requests[-1].prompt          # what the client sent

Import it as `from fake_openai import FakeOpenAI` from a test module in this folder (pytest's
default import mode puts a test's folder on sys.path while it has no `__init__.py`).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# What each behaviour answers to POST /v1/chat/completions (the texts are for English prompts;
# a prompt asking for the answer in 简体中文 gets the Chinese text).
REPLIES = {
    "good": ("The report says the answer is in the first passage [1].", "报告指出答案在第一段中[1]。"),
    "bad_citations": (
        "The answer is in passage nine [9] and passage zero 【0】.",
        "答案在第九段[9]和第零段【0】。",
    ),
    "no_citations": ("The answer is in the first passage.", "答案在第一段中。"),
    "refuse": ("The report does not say.", "报告中没有找到相关内容。"),
}
BEHAVIOURS = (*REPLIES, "error", "hang", "trickle", "malformed", "no_done")


@dataclass(frozen=True)
class RecordedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: Any  # the parsed JSON body, or None

    @property
    def prompt(self) -> str:
        """All message contents joined, for asserting what the model was shown."""
        messages = (self.body or {}).get("messages", [])
        return "\n".join(str(m.get("content", "")) for m in messages)


@dataclass
class StreamRecord:
    chunks_planned: int
    chunks_sent: int = 0
    completed: bool = False  # every chunk (and [DONE], unless "no_done") was written
    ended: threading.Event = field(default_factory=threading.Event)  # the handler returned

    def settled(self, seconds: float = 5.0) -> StreamRecord:
        """This record once the server's handler is done with it: the client may read
        `data: [DONE]` and return before the handler thread marks the stream completed."""
        self.ended.wait(seconds)
        return self


class FakeOpenAI:
    """A background-thread server speaking enough of the OpenAI API for our client and the
    official one: POST /v1/chat/completions (plain and `stream: true` SSE), GET /v1/models.

    behaviour: one of BEHAVIOURS; `reply` overrides the text of the answering behaviours.
    api_key: when set, requests without `Authorization: Bearer <api_key>` get a 401.
    hang_s: how long "hang" waits before answering (stopping the server cuts it short);
        "trickle" sends a good answer one byte per `hang_s / 20`, each byte in time for a read
        timeout but the whole far too slow.
    chunk_delay_s: pause between streamed chunks, so a client that hangs up mid-stream is seen
        (`streams` records, per streamed request, the chunks sent and whether it ended).
    "no_done" streams the answer and its finish chunk but never `data: [DONE]`.
    """

    def __init__(
        self,
        behaviour: str = "good",
        *,
        reply: str | None = None,
        model: str = "fake-model",
        api_key: str | None = None,
        hang_s: float = 10.0,
        chunk_delay_s: float = 0.0,
    ) -> None:
        if behaviour not in BEHAVIOURS:
            raise ValueError(f"Unknown behaviour {behaviour!r}; use one of: {', '.join(BEHAVIOURS)}")
        self.behaviour = behaviour
        self.reply = reply
        self.model = model
        self.api_key = api_key
        self.hang_s = hang_s
        self.chunk_delay_s = chunk_delay_s
        self.streams: list[StreamRecord] = []
        self.requests: list[RecordedRequest] = []
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        """The OpenAI-style base, including /v1."""
        assert self._server is not None, "start the server first"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        handler = type("Handler", (_Handler,), {"fake": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # A short poll interval so that stop() returns at once.
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()  # releases handlers still hanging
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def reply_text(self, body: dict[str, Any]) -> str:
        """The text the current behaviour answers `body` with."""
        if self.reply is not None:
            return self.reply
        prompt = " ".join(str(m.get("content", "")) for m in body.get("messages", []))
        english, chinese = REPLIES.get(self.behaviour, REPLIES["good"])
        return chinese if "简体中文" in prompt else english


class _Handler(BaseHTTPRequestHandler):
    fake: FakeOpenAI
    # HTTP/1.0: every response ends by closing the connection, so streams need no chunking.
    protocol_version = "HTTP/1.0"

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean

    def do_GET(self) -> None:
        self._record(None)
        if self._authorized():
            if self.path.rstrip("/") == "/v1/models":
                models = [{"id": self.fake.model, "object": "model", "created": 0, "owned_by": "fake"}]
                self._json(200, {"object": "list", "data": models})
            else:
                self._error(404, f"Unknown path {self.path}", "not_found")

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = None
        self._record(body)
        if not self._authorized():
            return
        if self.path.rstrip("/") != "/v1/chat/completions":
            self._error(404, f"Unknown path {self.path}", "not_found")
        elif not isinstance(body, dict) or not isinstance(body.get("messages"), list):
            self._error(400, "The body must be JSON with a 'messages' list", "invalid_request_error")
        elif body.get("model") != self.fake.model:
            self._error(404, f"The model `{body.get('model')}` does not exist", "model_not_found")
        else:
            self._complete(body)

    def _complete(self, body: dict[str, Any]) -> None:
        behaviour = self.fake.behaviour
        if behaviour == "hang":
            self.fake._stopping.wait(self.fake.hang_s)
        if behaviour == "error":
            self._error(500, "The fake server failed on purpose", "server_error")
        elif behaviour == "malformed":
            if body.get("stream"):
                self._send(200, "text/event-stream", b"data: {this is not json\n\n")
            else:
                self._send(200, "application/json", b'{"choices": [ this is not json')
        elif behaviour == "trickle":
            self._trickle(json.dumps(_completion(self.fake.model, self.fake.reply_text(body))).encode())
        elif body.get("stream"):
            self._stream(self.fake.reply_text(body))
        else:
            self._json(200, _completion(self.fake.model, self.fake.reply_text(body)))

    def _stream(self, text: str) -> None:
        """Answer in chat.completion.chunk events, as OpenAI does: a role chunk, content chunks,
        a finish chunk, then `data: [DONE]`."""
        pieces = [text[i : i + 4] for i in range(0, len(text), 4)]
        deltas = [{"role": "assistant", "content": ""}, *({"content": p} for p in pieces), {}]
        record = StreamRecord(len(deltas))
        self.fake.streams.append(record)
        try:
            self._send_stream(deltas, record)
        finally:
            record.ended.set()

    def _send_stream(self, deltas: list[dict[str, str]], record: StreamRecord) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream; charset=utf-8")
        self.send_header("Cache-Control", "no-cache")
        self.end_headers()
        for i, delta in enumerate(deltas):
            finish = "stop" if i == len(deltas) - 1 else None
            chunk = {
                "id": "chatcmpl-fake",
                "object": "chat.completion.chunk",
                "created": int(time.time()),
                "model": self.fake.model,
                "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
            }
            if not self._write(f"data: {json.dumps(chunk, ensure_ascii=False)}\n\n".encode()):
                return
            record.chunks_sent += 1
            if self.fake.chunk_delay_s and self.fake._stopping.wait(self.fake.chunk_delay_s):
                return
        if self.fake.behaviour != "no_done" and not self._write(b"data: [DONE]\n\n"):
            return
        record.completed = True

    def _trickle(self, data: bytes) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        for i in range(len(data)):
            if self.fake._stopping.wait(self.fake.hang_s / 20):
                return
            try:
                self.wfile.write(data[i : i + 1])
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                return  # the client gave up, as it should

    def _record(self, body: Any) -> None:
        headers = {name.lower(): value for name, value in self.headers.items()}
        self.fake.requests.append(RecordedRequest(self.command, self.path, headers, body))

    def _authorized(self) -> bool:
        expected = self.fake.api_key
        given = self.headers.get("authorization", "")
        if expected is None or given == f"Bearer {expected}":
            return True
        # Like OpenAI, echo (part of) the key given, so tests can check clients never show it.
        self._error(401, f"Incorrect API key provided: {given.removeprefix('Bearer ')}", "invalid_api_key")
        return False

    def _error(self, status: int, message: str, code: str) -> None:
        self._json(status, {"error": {"message": message, "type": code, "param": None, "code": code}})

    def _json(self, status: int, payload: dict[str, Any]) -> None:
        self._send(status, "application/json", json.dumps(payload, ensure_ascii=False).encode())

    def _send(self, status: int, content_type: str, data: bytes) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self._write(data)

    def _write(self, data: bytes) -> bool:
        """Whether `data` reached the client (False once it has hung up)."""
        try:
            self.wfile.write(data)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError):
            return False  # the client gave up (a timeout test); nothing to tell it
        return True


def _completion(model: str, text: str) -> dict[str, Any]:
    return {
        "id": "chatcmpl-fake",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text, "refusal": None},
                "logprobs": None,
                "finish_reason": "stop",
            }
        ],
        "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2},
    }
