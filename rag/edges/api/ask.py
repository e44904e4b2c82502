"""POST /ask (the Answer as JSON) and POST /ask/stream (Server-Sent Events)."""

import logging
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import APIRouter, Body, Request
from fastapi.responses import StreamingResponse

from ingest.errors import RagError
from rag.config import Settings
from rag.edges.api.deps import Ready, note_answerer
from rag.edges.api.errors import READ_ERRORS, error_body, error_type
from rag.edges.api.schemas import ASK_EXAMPLES, SSE_EXAMPLE, AnswerOut, AskRequest, ask_request
from rag.edges.api.sse import sse, sse_response
from rag.events import AnswerEvent, Citations, Delta, Done

log = logging.getLogger("rag.api")

if TYPE_CHECKING:  # to mypy; at run time `router` builds the model for the configured limit
    AskBody = AskRequest


def router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["questions"], responses=READ_ERRORS)
    if not TYPE_CHECKING:  # the model with this server's question limit (mypy: AskBody below)
        AskBody = Annotated[ask_request(settings.max_question_chars), Body(openapi_examples=ASK_EXAMPLES)]

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
        events = svc.pool.stream(lambda: engine.stream(body.question, body.turns(), body.top_k, body.use_llm))
        return sse_response(_answer_events(events, request))

    return router


async def _answer_events(events: AsyncIterator[AnswerEvent], request: Request) -> AsyncIterator[bytes]:
    """citations, delta..., done; a failure once the stream has begun is an `error` event."""
    try:
        async for event in events:
            match event:
                case Citations(citations):
                    yield sse("citations", [citation.as_dict() for citation in citations])
                case Delta(text):
                    yield sse("delta", {"text": text})
                case Done(answer):
                    note_answerer(request, answer)
                    yield sse("done", answer.as_dict())
    except RagError as exc:
        yield sse("error", {**error_body(error_type(exc), str(exc)), "status": exc.status})
    except Exception:
        log.exception("stream failed")
        yield sse(
            "error", {**error_body("internal_error", "internal error; see the server log"), "status": 500}
        )

