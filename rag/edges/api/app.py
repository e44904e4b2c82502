"""The HTTP API: one FastAPI app over one `Engine` (issue 4).

Routes: POST /ask, POST /ask/stream (SSE), GET /search, POST /v1/chat/completions and
GET /v1/models (OpenAI-compatible), GET|POST /documents, DELETE /documents/{doc_id}, GET /healthz,
GET /readyz. Answers come from the same Engine calls as the CLI and the page; this module adds
only the HTTP edge: validation, auth, limits, timeouts, streaming, logs. `/` stays free for the
chat page (`ui.app.mount_ui`), mounted after these routes.

Pydantic models live here and nowhere else in the library: the records inside are dataclasses.
"""

import asyncio
import hmac
import json
import logging
import math
import re
import threading
import time
import uuid
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Annotated, Any, Literal, TypeVar

from fastapi import APIRouter, Body, Depends, FastAPI, Query, Request, UploadFile
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.sse import format_sse_event
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field
from starlette.datastructures import MutableHeaders
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import BaseRoute, Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ingest.errors import BadInput, RagError, UnsupportedFile
from ingest.loading import SUPPORTED_SUFFIXES, load_bytes
from rag.answering.conversation import Turn
from rag.config import MAX_TOP_K, Settings
from rag.engine import Engine
from rag.records import Answer
from rag.retrieval.retriever import MODES

T = TypeVar("T")
log = logging.getLogger("rag.api")
access_log = logging.getLogger("rag.api.access")

MODEL_ID = "report-rag"
MAX_HISTORY_TURNS = 50
MAX_ANSWER_CHARS = 20_000  # an earlier answer sent back as history
MULTIPART_OVERHEAD = 64 * 1024  # boundaries and part headers around an upload of max_upload_bytes
QUEUE_PER_WORKER = 1  # admitted requests waiting per busy worker before new ones get 503
SOURCES_HEADING = {"zh": "来源：", "en": "Sources:"}

# What str.strip() removes plus what ECMAScript's \s matches: the same "blank" for the server
# (Python) and for the schema's `pattern` (ECMAScript, used by clients and the fuzzer).
_BLANK = r"\t\n\v\f\r \x1c-\x1f\x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
NON_BLANK_PATTERN = f"[^{_BLANK}]"
_NON_BLANK = re.compile(NON_BLANK_PATTERN)
_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


# --- errors ------------------------------------------------------------------------------
class HttpRefusal(RagError):
    """A refusal made at the HTTP edge; `headers` go on the response (Retry-After, ...)."""

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}


class NotReady(HttpRefusal):
    status = 503


class Busy(HttpRefusal):
    status = 503


class RateLimited(HttpRefusal):
    status = 429


class Timeout(HttpRefusal):
    status = 504


class Unauthorized(HttpRefusal):
    status = 401


class WritesDisabled(HttpRefusal):
    status = 403


class TooLarge(HttpRefusal):
    status = 413


def error_type(exc: Exception) -> str:
    """`BadInput` -> "bad_input": the `type` clients can branch on."""
    return _CAMEL.sub("_", type(exc).__name__).lower()


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


def error_response(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(kind, message), status_code=status, headers=headers)


# --- request and response models (the HTTP edge only) -------------------------------------
def _non_blank(value: str) -> str:
    if not _NON_BLANK.search(value):
        raise ValueError("empty or only whitespace: type a question")
    return value


def _integral_float(value: Any) -> Any:
    # JSON Schema counts 5.0 as an integer; strict mode alone would refuse it (and rightly "5").
    return int(value) if isinstance(value, float) and value.is_integer() else value


TopK = Annotated[int, Field(ge=1, le=MAX_TOP_K), BeforeValidator(_integral_float)]


def question_field(max_chars: int) -> Any:
    """A question: 1..max_chars characters, not only whitespace."""
    return Field(
        min_length=1,
        max_length=max_chars,
        description=f"the question, Chinese or English, at most {max_chars} characters (RAG_MAX_QUESTION_CHARS)",
        json_schema_extra={"pattern": NON_BLANK_PATTERN},
    )


class ErrorDetail(BaseModel):
    type: str = Field(description="machine-readable kind, e.g. bad_input, busy, not_ready")
    message: str = Field(description="what went wrong and how to fix it")


class ErrorOut(BaseModel):
    error: ErrorDetail


class CitationOut(BaseModel):
    n: int = Field(description="the number of the [n] marker in the answer")
    doc_id: str
    source: str
    chunk_id: str
    text: str = Field(description="the cited passage")
    sentence: str = Field(description="the supporting sentence within the passage")
    spans: list[list[int]] = Field(description="character offsets of `sentence` in the source document")
    passage_spans: list[list[int]] = Field(description="character offsets of `text` in the source document")
    score: float


class HitOut(BaseModel):
    rank: int
    score: float
    dense_score: float | None
    lexical_score: float | None
    text: str
    context: str
    doc_id: str
    source: str
    chunk_id: str
    start: int
    end: int
    spans: list[list[int]]


class AnswerOut(BaseModel):
    question: str
    answer: str = Field(description="the answer with [n] citation markers, or a refusal")
    short_answer: str | None = Field(description="the answer phrase alone, when one was found")
    found: bool = Field(description="false when the report does not answer the question")
    citations: list[CitationOut]
    related: list[HitOut] = Field(description="passages to look at when nothing was found")
    language: Literal["zh", "en"]
    answerer: str = Field(description="extractive or llm")
    confidence: float
    retrieval_query: str
    notice: str
    timings_ms: dict[str, float]


class SearchOut(BaseModel):
    query: str
    language: str
    mode: str
    hits: list[HitOut]
    timings_ms: dict[str, float]


class DocumentOut(BaseModel):
    model_config = ConfigDict(extra="allow")
    doc_id: str
    source: str


class DocumentsOut(BaseModel):
    documents: list[DocumentOut]


class UploadOut(BaseModel):
    doc_id: str
    source: str
    status: Literal["added", "updated", "unchanged"]
    report: dict[str, Any] = Field(
        description="the ingest report: documents and chunks in the index, seconds"
    )


class RemovedOut(BaseModel):
    removed: str
    report: dict[str, Any]


class HealthOut(BaseModel):
    status: Literal["ok"]


class ReadyOut(BaseModel):
    status: Literal["ready", "not_ready"]
    reason: str = Field("", description="why it is not ready, and what to do")


class ModelOut(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str


class ModelsOut(BaseModel):
    object: Literal["list"] = "list"
    data: list[ModelOut]


class ContentPart(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: str
    text: str | None = None


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[ContentPart] | None = None

    def text(self) -> str:
        if isinstance(self.content, list):
            return "\n".join(part.text or "" for part in self.content if part.type == "text")
        return self.content or ""


class ChatRequest(BaseModel):
    # OpenAI clients send many optional parameters (temperature, n, ...): accepted and ignored.
    model_config = ConfigDict(strict=True, extra="allow")
    model: str = Field(MODEL_ID, description=f"any name is answered by {MODEL_ID!r}")
    messages: list[ChatMessage] = Field(min_length=1, max_length=2 * MAX_HISTORY_TURNS + 2)
    stream: bool = False
    top_k: TopK | None = Field(None, description="passages to read (extension)")


class ChatChoiceMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class ChatChoice(BaseModel):
    index: int
    message: ChatChoiceMessage
    finish_reason: Literal["stop"]


class Usage(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


class ChatCompletionOut(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[ChatChoice]
    usage: Usage
    citations: list[CitationOut] = Field(description="the sources cited in the message (extension)")


SearchMode = Enum("SearchMode", {mode: mode for mode in MODES}, type=str)  # type: ignore[misc]

ASK_EXAMPLES = {
    "zh": {
        "summary": "中文提问",
        "value": {"question": "2026年度长三角地区主要领导座谈会是在哪个城市开的？", "top_k": 5},
    },
    "en": {
        "summary": "English question",
        "value": {"question": "Which city hosted the Yangtze River Delta leaders' symposium?"},
    },
    "follow_up": {
        "summary": "追问 (follow-up with history)",
        "value": {
            "question": "那2027年呢？",
            "history": [{"question": "2026年度座谈会在哪里召开？", "answer": "上海 [1]"}],
        },
    },
}
CHAT_EXAMPLES = {
    "zh": {
        "summary": "中文",
        "value": {"model": MODEL_ID, "messages": [{"role": "user", "content": "座谈会在哪个城市举行？"}]},
    },
    "en": {
        "summary": "English, streaming",
        "value": {
            "model": MODEL_ID,
            "stream": True,
            "messages": [{"role": "user", "content": "Which city hosted the symposium?"}],
        },
    },
}
SEARCH_EXAMPLES = {
    "zh": {"summary": "中文", "value": "长三角一体化 实事项目"},
    "en": {"summary": "English", "value": "air pollution action plan"},
}
SSE_EXAMPLE = (
    'event: citations\ndata: [{"n": 1, "source": "report.txt", "sentence": "…"}]\n\n'
    'event: delta\ndata: {"text": "上海 [1]"}\n\n'
    'event: done\ndata: {"answer": "上海 [1]", "found": true, "citations": []}\n\n'
)


def _error_docs(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorOut, "description": _STATUS_DOCS[status]} for status in statuses}


_STATUS_DOCS = {
    400: "bad input (invalid JSON, a body that is not UTF-8, a bad chat conversation)",
    401: "missing or wrong bearer token",
    403: "write endpoints disabled: set RAG_API_KEY",
    404: "unknown document id",
    413: "request body or upload over the limit (RAG_MAX_BODY_BYTES, RAG_MAX_UPLOAD_BYTES)",
    415: "unsupported file type",
    422: "invalid field (empty question, too long, wrong type, top_k out of range)",
    429: "rate limit reached (RAG_RATE_LIMIT_PER_MINUTE): see Retry-After",
    503: "not ready yet (see /readyz) or busy: retry after Retry-After seconds",
    504: "the request took longer than RAG_REQUEST_TIMEOUT_S",
}
READ_ERRORS = _error_docs(400, 413, 422, 429, 503, 504)
WRITE_ERRORS = _error_docs(400, 401, 403, 404, 413, 415, 422, 429, 503)


# --- state shared by requests (on app.state) -----------------------------------------------
class Loader:
    """Loads the engine off the event loop and says whether it can answer yet, and why not.

    Written by the loader thread, read by every request: all under one lock."""

    def __init__(self, engine: Engine, build_index: bool, progress: bool) -> None:
        self.engine = engine
        self.build_index = build_index
        self.progress = progress
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self._state = "idle"  # idle | loading | no_index | failed | ready
        self._reason = "waiting for the server to start"

    def start(self) -> None:
        with self._lock:
            if self._state in ("loading", "ready"):
                return
            self._state, self._reason = "loading", "loading the model and index"
        threading.Thread(target=self._load, name="rag-api-loader", daemon=True).start()

    def _set(self, state: str, reason: str = "") -> None:
        with self._lock:
            self._state, self._reason = state, reason
        if state == "ready":
            self.ready.set()

    def _load(self) -> None:
        try:
            if not self.engine.has_index():
                if not self.build_index:
                    self._set("no_index", f"no index in {self.engine.index_dir}: run `rag ingest`")
                    return
                self._set("loading", "building the index of the bundled report (first start)")
                self.engine.ensure_index(progress=self.progress)
            self._set("loading", "loading the model and index")
            self.engine.warm_up()
        except RagError as exc:
            self._set("failed", str(exc))
        except Exception as exc:  # reported by /readyz, never raised into a request
            log.exception("loading the engine failed")
            self._set("failed", f"loading failed ({type(exc).__name__}: {exc}); see the server log")
        else:
            self._set("ready")

    def status(self) -> tuple[bool, str]:
        """(ready, reason). An index built since (`rag ingest`) is picked up here."""
        with self._lock:
            state, reason = self._state, self._reason
        if state == "no_index" and self.engine.has_index():
            self.start()
            return False, "an index appeared: loading it"
        return state == "ready", reason

    def require_ready(self) -> None:
        ready, reason = self.status()
        if not ready:
            raise NotReady(f"not ready: {reason}", headers={"Retry-After": "5"})


class WorkPool:
    """Runs engine calls on `workers` threads with a short queue; beyond it, 503 at once.

    A dedicated pool, not the event loop's default one: an abandoned (timed-out) call keeps its
    thread until it ends, so the number of threads doing engine work stays bounded."""

    def __init__(self, workers: int, queue: int, timeout_s: float) -> None:
        self.timeout_s = timeout_s
        self._capacity = workers + queue
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="rag-api")
        self._lock = threading.Lock()
        self._pending = 0

    def submit(self, fn: Callable[..., T], *args: Any) -> Future[T]:
        with self._lock:
            if self._pending >= self._capacity:
                raise Busy(
                    f"busy: {self._pending} requests in progress (RAG_MAX_CONCURRENCY); retry in a moment",
                    headers={"Retry-After": "1"},
                )
            self._pending += 1
        try:
            future = self._executor.submit(fn, *args)
        except RuntimeError:  # shutting down
            self._release()
            raise Busy("the server is shutting down; retry shortly", headers={"Retry-After": "5"}) from None
        future.add_done_callback(self._release)
        return future

    def _release(self, _: object = None) -> None:
        with self._lock:
            self._pending -= 1

    async def run(self, fn: Callable[..., T], *args: Any, timeout: bool = True) -> T:
        """`fn(*args)` on the pool; Timeout after `timeout_s` (a queued call is then dropped)."""
        future = asyncio.wrap_future(self.submit(fn, *args))
        try:
            return await asyncio.wait_for(future, self.timeout_s if timeout else None)
        except TimeoutError:
            raise self._timeout() from None

    def stream(self, events: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
        """Iterate `events()` on the pool, yielding each item on the event loop as it comes.

        Submitted now (so Busy is raised before a response starts); the whole stream must end
        within `timeout_s`."""
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[tuple[str, Any]] = asyncio.Queue()
        stop = threading.Event()

        def put(kind: str, value: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, (kind, value))
            except RuntimeError:  # the loop is gone: nobody is listening
                stop.set()

        def produce() -> None:
            try:
                for item in events():
                    if stop.is_set():  # the client went away
                        return
                    put("item", item)
            except Exception as exc:
                put("error", exc)
            finally:
                put("end", None)

        future = self.submit(produce)
        return self._consume(queue, stop, future, loop.time() + self.timeout_s)

    async def _consume(
        self,
        queue: asyncio.Queue[tuple[str, Any]],
        stop: threading.Event,
        future: Future[None],
        deadline: float,
    ) -> AsyncIterator[Any]:
        loop = asyncio.get_running_loop()
        try:
            while True:
                try:
                    kind, value = await asyncio.wait_for(queue.get(), max(0.0, deadline - loop.time()))
                except TimeoutError:
                    raise self._timeout() from None
                if kind == "end":
                    return
                if kind == "error":
                    raise value
                yield value
        finally:
            stop.set()
            future.cancel()

    def _timeout(self) -> Timeout:
        return Timeout(
            f"the request took longer than {self.timeout_s:g} s (RAG_REQUEST_TIMEOUT_S); retry, or raise the limit"
        )

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


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


@dataclass(frozen=True)
class Services:
    """Everything a request needs, on `app.state.services`."""

    engine: Engine
    settings: Settings
    loader: Loader
    pool: WorkPool
    limiter: RateLimiter


def services(request: Request) -> Services:
    return request.app.state.services  # type: ignore[no-any-return]


def ready_services(request: Request) -> Services:
    """The services, once the engine can answer, for a client within its rate limit."""
    found = services(request)
    found.limiter.check(request.client.host if request.client else "unknown")
    found.loader.require_ready()
    return found


bearer = HTTPBearer(auto_error=False, description="RAG_API_KEY, for the write endpoints")


def writer_services(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Services:
    """The services, for a caller holding RAG_API_KEY (writes are off when none is set)."""
    found = services(request)
    key = found.settings.api_key
    if not key:
        raise WritesDisabled(
            "write endpoints are disabled: set RAG_API_KEY on the server to enable them, "
            "then send `Authorization: Bearer <key>`"
        )
    if credentials is None or not hmac.compare_digest(credentials.credentials.encode(), key.encode()):
        raise Unauthorized(
            "missing or wrong API key: send `Authorization: Bearer <RAG_API_KEY>`",
            headers={"WWW-Authenticate": "Bearer"},
        )
    return ready_services(request)


Ready = Annotated[Services, Depends(ready_services)]
Writer = Annotated[Services, Depends(writer_services)]


def note_answerer(request: Request, answer: Answer) -> None:
    """For the access log line of this request."""
    request.state.answerer = answer.answerer


# --- routes: questions ----------------------------------------------------------------------
def qa_routes(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["questions"], responses=READ_ERRORS)
    max_chars = settings.max_question_chars

    class TurnIn(BaseModel):
        model_config = ConfigDict(strict=True, extra="forbid")
        question: str = Field(max_length=max_chars)
        answer: str = Field("", max_length=MAX_ANSWER_CHARS)

    class AskRequest(BaseModel):
        model_config = ConfigDict(strict=True, extra="forbid")
        question: Annotated[str, AfterValidator(_non_blank)] = question_field(max_chars)
        top_k: TopK | None = Field(None, description="passages to read (default RAG_TOP_K)")
        history: list[TurnIn] = Field(
            default_factory=list, max_length=MAX_HISTORY_TURNS, description="earlier turns, oldest first"
        )
        use_llm: bool | None = Field(None, description="null: the LLM when RAG_LLM_* is configured")

        def turns(self) -> list[Turn]:
            return [Turn(turn.question, turn.answer) for turn in self.history]

    AskBody = Annotated[AskRequest, Body(openapi_examples=ASK_EXAMPLES)]  # type: ignore[valid-type]

    @router.post("/ask", response_model=AnswerOut, summary="Answer a question with citations")
    async def ask(body: AskBody, svc: Ready, request: Request) -> dict[str, Any]:
        answer = await svc.pool.run(svc.engine.answer, body.question, body.turns(), body.top_k, body.use_llm)
        note_answerer(request, answer)
        return answer.as_dict()

    @router.post(
        "/ask/stream",
        response_class=StreamingResponse,
        summary="Answer as Server-Sent Events: citations, delta..., done (or error)",
        responses={
            200: {"description": "an SSE stream", "content": {"text/event-stream": {"example": SSE_EXAMPLE}}}
        },
    )
    async def ask_stream(body: AskBody, svc: Ready, request: Request) -> StreamingResponse:
        engine = svc.engine
        top_k = body.top_k or engine.settings.top_k
        events = svc.pool.stream(
            lambda: engine.answerer.stream(body.question, body.turns(), top_k, body.use_llm)
        )
        return sse_response(_answer_events(events, request))

    @router.get("/search", response_model=SearchOut, summary="The passages that best match a query")
    async def search(
        svc: Ready,
        q: Annotated[
            str,
            Query(
                min_length=1,
                max_length=max_chars,
                description="the query",
                openapi_examples=SEARCH_EXAMPLES,
                json_schema_extra={"pattern": NON_BLANK_PATTERN},
            ),
            AfterValidator(_non_blank),
        ],
        k: Annotated[int, Query(ge=1, le=MAX_TOP_K, description="number of passages")] = 5,
        mode: Annotated[SearchMode, Query(description="retrieval mode")] = SearchMode("hybrid"),  # noqa: B008
    ) -> dict[str, Any]:
        retrieval = await svc.pool.run(svc.engine.search, q, k, mode.value)
        return {
            "query": q,
            "language": retrieval.language,
            "mode": mode.value,
            "hits": [hit.as_dict() for hit in retrieval.hits],
            "timings_ms": {key: round(value, 2) for key, value in retrieval.timings_ms.items()},
        }

    return router


def sse_response(chunks: AsyncIterator[bytes]) -> StreamingResponse:
    # no-cache and X-Accel-Buffering: proxies must pass events through as they come
    return StreamingResponse(
        chunks,
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


def sse(event: str | None, data: Any) -> bytes:
    return format_sse_event(event=event, data_str=json.dumps(data, ensure_ascii=False))


async def _answer_events(events: AsyncIterator[tuple[str, Any]], request: Request) -> AsyncIterator[bytes]:
    """citations, delta..., done; a failure once the stream has begun is an `error` event."""
    try:
        async for kind, value in events:
            if kind == "citations":
                yield sse("citations", value)
            elif kind == "delta":
                yield sse("delta", {"text": value})
            elif kind == "done":
                note_answerer(request, value)
                yield sse("done", value.as_dict())
    except RagError as exc:
        yield sse("error", {**error_body(error_type(exc), str(exc)), "status": exc.status})
    except Exception:
        log.exception("stream failed")
        yield sse(
            "error", {**error_body("internal_error", "internal error; see the server log"), "status": 500}
        )


# --- routes: OpenAI-compatible chat ------------------------------------------------------------
def chat_content(answer: Answer) -> str:
    """The assistant message: the answer, then its numbered sources."""
    return answer.answer + sources_text(answer)


def sources_text(answer: Answer) -> str:
    """ "\n\n来源：\n[1] report.txt: the cited sentence" (nothing when nothing is cited)."""
    if not answer.citations:
        return ""
    lines = [f"[{c.n}] {c.source}: {c.sentence}" for c in answer.citations]
    return f"\n\n{SOURCES_HEADING.get(answer.language, 'Sources:')}\n" + "\n".join(lines)


def conversation(messages: Sequence[ChatMessage], max_chars: int) -> tuple[str, list[Turn]]:
    """The question (the last user message) and the earlier user/assistant pairs as turns."""
    *earlier, last = messages
    if last.role != "user":
        raise BadInput(
            f"the last message must come from the user (got role {last.role!r}): it is the question"
        )
    question = last.text()
    if not _NON_BLANK.search(question):
        raise BadInput("the last user message is empty: it must hold the question")
    if len(question) > max_chars:
        raise BadInput(
            f"the question has {len(question)} characters, over the limit of {max_chars} (RAG_MAX_QUESTION_CHARS)"
        )
    turns: list[Turn] = []
    pending: str | None = None
    for message in earlier:
        if message.role == "user":
            pending = message.text()
        elif message.role == "assistant" and pending is not None:
            turns.append(Turn(pending, message.text()))
            pending = None
    return question, turns[-MAX_HISTORY_TURNS:]


def chat_routes(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["OpenAI-compatible"], responses=READ_ERRORS)

    @router.get("/v1/models", response_model=ModelsOut, summary="The one model: the report")
    async def models() -> dict[str, Any]:
        return {
            "object": "list",
            "data": [{"id": MODEL_ID, "object": "model", "created": 0, "owned_by": MODEL_ID}],
        }

    @router.post(
        "/v1/chat/completions",
        response_model=ChatCompletionOut,
        summary="Chat completions (stream or not) answered from the report, with citations",
        responses={
            200: {
                "content": {"text/event-stream": {"example": 'data: {"object": "chat.completion.chunk"}\n\n'}}
            }
        },
    )
    async def chat_completions(
        body: Annotated[ChatRequest, Body(openapi_examples=CHAT_EXAMPLES)], svc: Ready, request: Request
    ) -> Any:
        question, turns = conversation(body.messages, settings.max_question_chars)
        engine = svc.engine
        top_k = body.top_k or engine.settings.top_k
        completion_id = f"chatcmpl-{request.state.request_id}"
        created = int(time.time())
        if body.stream:
            events = svc.pool.stream(
                lambda: _with_usage(engine, question, engine.answerer.stream(question, turns, top_k))
            )
            return sse_response(_chat_chunks(events, completion_id, created, request))
        answer, usage = await svc.pool.run(_answer_with_usage, engine, question, turns, top_k)
        note_answerer(request, answer)
        citations = [c.as_dict() for c in answer.citations]
        return {
            "id": completion_id,
            "object": "chat.completion",
            "created": created,
            "model": MODEL_ID,
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": chat_content(answer)},
                    "finish_reason": "stop",
                }
            ],
            "usage": usage,
            "citations": citations,
        }

    return router


def _usage(engine: Engine, question: str, answer: Answer) -> dict[str, int]:
    prompt, completion = engine.count_tokens(question), engine.count_tokens(chat_content(answer))
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _answer_with_usage(
    engine: Engine, question: str, turns: list[Turn], top_k: int
) -> tuple[Answer, dict[str, int]]:
    answer = engine.answer(question, turns, top_k)
    return answer, _usage(engine, question, answer)


def _with_usage(
    engine: Engine, question: str, events: Iterator[tuple[str, Any]]
) -> Iterator[tuple[str, Any]]:
    """The answer's events, then ("usage", {...}), counted on the worker thread."""
    for kind, value in events:
        yield kind, value
        if kind == "done":
            yield "usage", _usage(engine, question, value)


async def _chat_chunks(
    events: AsyncIterator[tuple[str, Any]], completion_id: str, created: int, request: Request
) -> AsyncIterator[bytes]:
    """OpenAI `chat.completion.chunk`s: role (+ citations), content deltas, the sources, stop, [DONE]."""

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        data = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID}
        return sse(None, {**data, "choices": [choice], **extra})

    answer: Answer | None = None
    try:
        async for kind, value in events:
            if kind == "citations":
                yield chunk({"role": "assistant", "content": ""}, citations=value)
            elif kind == "delta":
                yield chunk({"content": value})
            elif kind == "done":
                answer = value
                note_answerer(request, value)
                if value.citations:
                    yield chunk({"content": sources_text(value)})
            elif kind == "usage" and answer is not None:
                citations = [c.as_dict() for c in answer.citations]
                yield chunk({}, "stop", usage=value, citations=citations)
    except RagError as exc:
        # the OpenAI client raises APIError for a data chunk holding "error"
        yield sse(None, error_body(error_type(exc), str(exc)))
    except Exception:
        log.exception("chat stream failed")
        yield sse(None, error_body("internal_error", "internal error; see the server log"))
    yield format_sse_event(data_str="[DONE]")


# --- routes: documents ------------------------------------------------------------------------
def _add_upload(engine: Engine, name: str, data: bytes) -> tuple[str, str, dict[str, Any]]:
    text = load_bytes(name, data, path=f"upload://{name}").text
    report = engine.add_document(name, text)
    for status, ids in (
        ("added", report.added),
        ("updated", report.updated),
        ("unchanged", report.unchanged),
    ):
        if ids:
            return ids[0], status, report.as_dict()
    raise RuntimeError(f"ingest report names no document for {name}")  # the engine broke its contract


def document_routes(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["documents"])
    upload_limit = settings.max_upload_bytes

    @router.get(
        "/documents", response_model=DocumentsOut, responses=READ_ERRORS, summary="The indexed documents"
    )
    async def documents(svc: Ready) -> dict[str, Any]:
        return {"documents": await svc.pool.run(svc.engine.documents)}

    @router.post(
        "/documents",
        response_model=UploadOut,
        status_code=201,
        responses=WRITE_ERRORS,
        summary=f"Add or replace a document ({' '.join(SUPPORTED_SUFFIXES)}); needs RAG_API_KEY",
    )
    async def upload(file: UploadFile, svc: Writer) -> dict[str, Any]:
        name = Path(file.filename or "").name
        if not name:
            raise BadInput("the upload has no file name: send it as multipart form field `file` with a name")
        if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
            raise UnsupportedFile(
                f"cannot ingest {name}: unsupported file type. Supported: {', '.join(SUPPORTED_SUFFIXES)}"
            )
        if file.size is not None and file.size > upload_limit:
            raise TooLarge(
                f"{name} has {file.size} bytes, over the upload limit of {upload_limit} (RAG_MAX_UPLOAD_BYTES)"
            )
        data = await file.read()
        # No timeout for writes: one that timed out here would still finish, which would confuse.
        doc_id, status, report = await svc.pool.run(_add_upload, svc.engine, name, data, timeout=False)
        return {"doc_id": doc_id, "source": name, "status": status, "report": report}

    @router.delete(
        "/documents/{doc_id}",
        response_model=RemovedOut,
        responses=WRITE_ERRORS,
        summary="Remove a document; needs RAG_API_KEY",
    )
    async def remove(
        doc_id: Annotated[str, PathParam(min_length=1, max_length=200)], svc: Writer
    ) -> dict[str, Any]:
        report = await svc.pool.run(svc.engine.remove_document, doc_id, timeout=False)
        return {"removed": doc_id, "report": report.as_dict()}

    return router


# --- routes: health ---------------------------------------------------------------------------
def health_routes() -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", response_model=HealthOut, summary="The process is up")
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @router.get(
        "/readyz",
        response_model=ReadyOut,
        summary="Model and index loaded (503 with the reason until then)",
        responses={503: {"model": ReadyOut, "description": "not ready yet, with the reason"}},
    )
    async def readyz(request: Request) -> Any:
        ready, reason = services(request).loader.status()
        if ready:
            return {"status": "ready", "reason": ""}
        return JSONResponse(
            {"status": "not_ready", "reason": reason}, status_code=503, headers={"Retry-After": "5"}
        )

    return router


# --- error handlers ---------------------------------------------------------------------------
async def rag_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RagError)
    headers = exc.headers if isinstance(exc, HttpRefusal) else None
    return error_response(exc.status, error_type(exc), str(exc), headers)


def _validation_message(errors: Sequence[Any]) -> str:
    parts = []
    for error in errors[:5]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        parts.append(f"{where}: {message}")
    return "; ".join(parts)


async def validation_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(error.get("type") == "json_invalid" for error in errors):
        ctx = errors[0].get("ctx", {}) if errors else {}
        return error_response(
            400,
            "invalid_json",
            f"the request body is not valid JSON ({ctx.get('error', 'decode error')}): send a JSON object",
        )
    if any(error.get("loc") == ("body",) and error.get("type") == "missing" for error in errors):
        return error_response(422, "validation_error", "the request body is missing: send a JSON object")
    return error_response(422, "validation_error", _validation_message(errors))


async def http_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    headers = dict(exc.headers or {})
    if exc.status_code == 413:
        return error_response(413, "too_large", str(exc.detail), headers)
    if exc.status_code == 400 and exc.detail == "There was an error parsing the body":
        message = (
            "the request body could not be read: send UTF-8 encoded JSON (or a multipart form for uploads)"
        )
        return error_response(400, "invalid_body", message, headers)
    if exc.status_code == 405:
        # Starlette lists only the first route of the path (GET /documents, not POST too).
        path = request.url.path
        routes = request.app.state.api_routes
        headers["Allow"] = ", ".join(
            sorted({m for r in routes if r.path_regex.match(path) for m in r.methods})
        )
    kinds = {404: "not_found", 405: "method_not_allowed"}
    return error_response(exc.status_code, kinds.get(exc.status_code, "http_error"), str(exc.detail), headers)


async def internal_error_handler(request: Request, exc: Exception) -> JSONResponse:
    request_id = getattr(request.state, "request_id", "?")
    log.error("request %s failed", request_id, exc_info=exc)
    return error_response(
        500, "internal_error", f"internal error (request id {request_id}); see the server log"
    )


# --- middleware -------------------------------------------------------------------------------
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
                MutableHeaders(scope=message).append("X-Request-ID", request_id)
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
            }
            if "answerer" in state:
                record["answerer"] = state["answerer"]
            access_log.info(json.dumps(record, ensure_ascii=False))


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


# --- the app ----------------------------------------------------------------------------------
def create_app(
    engine: Engine, settings: Settings, *, build_index: bool = True, progress: bool = False
) -> FastAPI:
    """The API over `engine`. Its lifespan loads the engine in a background thread (building
    the bundled report's index first when there is none, unless `build_index` is False), so
    /healthz answers at once and /readyz turns 200 when the engine can answer."""
    svc = Services(
        engine=engine,
        settings=settings,
        loader=Loader(engine, build_index=build_index, progress=progress),
        pool=WorkPool(
            settings.max_concurrency, settings.max_concurrency * QUEUE_PER_WORKER, settings.request_timeout_s
        ),
        limiter=RateLimiter(settings.rate_limit_per_minute),
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        svc.loader.start()
        try:
            yield
        finally:
            svc.pool.close()

    app = FastAPI(
        title="report-rag",
        summary="Ask a report questions in Chinese or English and get cited answers.",
        version="0.1.0",
        lifespan=lifespan,
        openapi_tags=[
            {"name": "questions", "description": "问答与检索 / questions and search"},
            {"name": "OpenAI-compatible", "description": "for any OpenAI client or chat UI"},
            {"name": "documents", "description": "the indexed documents; writes need RAG_API_KEY"},
            {"name": "health", "description": "liveness and readiness"},
        ],
    )
    app.state.services = svc
    routers = [qa_routes(settings), chat_routes(settings), document_routes(settings), health_routes()]
    for router in routers:
        app.include_router(router)
    api_routes = [route for router in routers for route in router.routes]
    app.state.api_routes = api_routes

    app.add_exception_handler(RagError, rag_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, internal_error_handler)

    # Outermost last: the log sees every response, CORS headers go on 413s too.
    app.add_middleware(BodyLimit, routes=api_routes, limits=body_limits(settings))
    origins = [origin.strip() for origin in settings.cors_origins.split(",") if origin.strip()]
    if origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=origins,
            allow_methods=["GET", "POST", "DELETE"],
            allow_headers=["Authorization", "Content-Type", "X-Request-ID"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    app.add_middleware(RequestLog)
    return app
