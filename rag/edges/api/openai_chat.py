"""The OpenAI-compatible API: GET /v1/models and POST /v1/chat/completions (stream or not).

Any OpenAI client or chat UI can talk to the report; citations come in the message text and,
as an extension, in a `citations` field.
"""

import logging
import time
from collections.abc import AsyncIterator, Iterator, Sequence
from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.sse import format_sse_event
from pydantic import ValidationError

from ingest.errors import BadInput, RagError
from rag.answering.conversation import Turn
from rag.config import MAX_HISTORY_TURNS, Settings
from rag.edges.api.deps import Ready, note_answerer
from rag.edges.api.errors import READ_ERRORS, error_body, error_type
from rag.edges.api.schemas import (
    CHAT_EXAMPLES,
    MODEL_ID,
    AskRequest,
    ChatCompletionOut,
    ChatMessage,
    ChatRequest,
    ModelsOut,
    ask_request,
)
from rag.edges.api.sse import sse, sse_response
from rag.engine import Engine
from rag.events import AnswerEvent, Citations, Delta, Done
from rag.records import Answer

log = logging.getLogger("rag.api")

SOURCES_HEADING = {"zh": "来源：", "en": "Sources:"}
# A stream sends the model's tokens as they come; when the groundedness check changed them, the
# checked answer follows under this heading (OpenAI chunks can only append), and in the chunk's
# `checked` field, as /ask/stream's `done` event carries it.
CHECKED_HEADING = {"zh": "核对后的回答：", "en": "Checked answer:"}


def chat_content(answer: Answer) -> str:
    """The assistant message: the answer, then its numbered sources."""
    return answer.answer + sources_text(answer)


def sources_text(answer: Answer) -> str:
    """ "\n\n来源：\n[1] report.txt: the cited sentence" (nothing when nothing is cited)."""
    if not answer.citations:
        return ""
    lines = [f"[{c.n}] {c.source}: {c.sentence}" for c in answer.citations]
    return f"\n\n{SOURCES_HEADING.get(answer.language, 'Sources:')}\n" + "\n".join(lines)


def checked_text(answer: Answer) -> str:
    """The checked answer as appended to streamed tokens it replaces."""
    return f"\n\n{CHECKED_HEADING.get(answer.language, CHECKED_HEADING['en'])}\n{answer.answer}"


def checked_fields(answer: Answer) -> dict[str, Any]:
    """The `checked` extension of the chunk that carries the checked answer: what /ask/stream's
    `done` event says of it."""
    return {
        "answer": answer.answer,
        "answerer": answer.answerer,
        "notice": answer.notice,
        "grounding": dict(answer.grounding),
        "replaces_streamed": True,
    }


def conversation(messages: Sequence[ChatMessage], request: type[AskRequest]) -> tuple[str, list[Turn]]:
    """The question (the last user message, validated as POST /ask validates its question) and
    the earlier user/assistant pairs as turns."""
    *earlier, last = messages
    if last.role != "user":
        raise BadInput(
            f"the last message must come from the user (got role {last.role!r}): it is the question"
        )
    try:
        question = request.model_validate({"question": last.text()}).question
    except ValidationError as exc:
        problems = "; ".join(str(error["msg"]).removeprefix("Value error, ") for error in exc.errors())
        raise BadInput(f"the last user message holds the question: {problems}") from None
    turns: list[Turn] = []
    pending: str | None = None
    for message in earlier:
        if message.role == "user":
            pending = message.text()
        elif message.role == "assistant" and pending is not None:
            turns.append(Turn(pending, message.text()))
            pending = None
    return question, turns[-MAX_HISTORY_TURNS:]


def router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["OpenAI-compatible"], responses=READ_ERRORS)
    ask = ask_request(settings.max_question_chars)

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
        question, turns = conversation(body.messages, ask)
        engine = svc.engine
        completion_id = f"chatcmpl-{request.state.request_id}"
        created = int(time.time())
        if body.stream:
            events = svc.pool.stream(
                lambda: _with_usage(engine, question, engine.stream(question, turns, body.top_k))
            )
            return sse_response(_chat_chunks(events, completion_id, created, request))
        answer, usage = await svc.pool.run(_answer_with_usage, engine, question, turns, body.top_k)
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


@dataclass(frozen=True)
class _Usage:
    """Token counts, sent after the answer's Done."""

    counts: dict[str, int]


def _answer_with_usage(
    engine: Engine, question: str, turns: list[Turn], top_k: int | None
) -> tuple[Answer, dict[str, int]]:
    answer = engine.answer(question, turns, top_k)
    return answer, _usage(engine, question, answer)


def _with_usage(
    engine: Engine, question: str, events: Iterator[AnswerEvent]
) -> Iterator[AnswerEvent | _Usage]:
    """The answer's events, then its _Usage, counted on the worker thread."""
    for event in events:
        yield event
        if isinstance(event, Done):
            yield _Usage(_usage(engine, question, event.answer))


async def _chat_chunks(
    events: AsyncIterator[AnswerEvent | _Usage], completion_id: str, created: int, request: Request
) -> AsyncIterator[bytes]:
    """OpenAI `chat.completion.chunk`s: role (+ citations), content deltas, the checked answer
    when it differs from the deltas, the sources, stop, [DONE]."""

    def chunk(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> bytes:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        data = {"id": completion_id, "object": "chat.completion.chunk", "created": created, "model": MODEL_ID}
        return sse(None, {**data, "choices": [choice], **extra})

    answer: Answer | None = None
    streamed: list[str] = []
    try:
        async for event in events:
            match event:
                case Citations(citations):
                    yield chunk({"role": "assistant", "content": ""}, citations=[c.as_dict() for c in citations])
                case Delta(text):
                    streamed.append(text)
                    yield chunk({"content": text})
                case Done(done):
                    answer = done
                    note_answerer(request, done)
                    if "".join(streamed).strip() != done.answer.strip():
                        yield chunk({"content": checked_text(done)}, checked=checked_fields(done))
                    if done.citations:
                        yield chunk({"content": sources_text(done)})
                case _Usage(counts) if answer is not None:
                    yield chunk({}, "stop", usage=counts, citations=[c.as_dict() for c in answer.citations])
    except RagError as exc:
        # the OpenAI client raises APIError for a data chunk holding "error"
        yield sse(None, error_body(error_type(exc), str(exc)))
    except Exception:
        log.exception("chat stream failed")
        yield sse(None, error_body("internal_error", "internal error; see the server log"))
    yield format_sse_event(data_str="[DONE]")

