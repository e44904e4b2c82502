"""The HTTP API: one FastAPI app over one `Engine`.

Routes, one module each: `ask` (POST /ask, POST /ask/stream as SSE), `search` (GET /search),
`openai_chat` (POST /v1/chat/completions, GET /v1/models), `documents` (GET|POST /documents,
DELETE /documents/{doc_id}), `health` (GET /healthz, GET /readyz). Answers come from the same
Engine calls as the CLI and the page; the API adds only the HTTP edge: validation (`schemas`),
auth (`deps`), admission and limits (`admission`, `limits`), errors (`errors`), streaming
(`sse`), logs (`request_log`). `/` stays free for the chat page, mounted after these routes.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware

from rag.config import Settings
from rag.edges.api import ask, documents, health, openai_chat, search
from rag.edges.api.admission import WorkPool
from rag.edges.api.deps import Services
from rag.edges.api.errors import add_error_handlers
from rag.edges.api.limits import BodyLimit, RateLimiter, body_limits
from rag.edges.api.loader import Loader
from rag.edges.api.request_log import RequestLog
from rag.engine import Engine


def create_app(
    engine: Engine,
    settings: Settings,
    *,
    build_index: bool = True,
    progress: bool = False,
    freeze_heap: bool = False,
) -> FastAPI:
    """The API over `engine`. Its lifespan loads the engine in a background thread (building
    the bundled report's index first when there is none, unless `build_index` is False), so
    /healthz answers at once and /readyz turns 200 when the engine can answer.

    freeze_heap: once loaded, exempt the loaded objects from garbage collection (rag.heap); for
    a process that only serves (`rag serve`), not for one that also does other work (tests)."""
    svc = Services(
        engine=engine,
        settings=settings,
        loader=Loader(engine, build_index=build_index, progress=progress, freeze_heap=freeze_heap),
        pool=WorkPool(settings.max_concurrency, settings.request_timeout_s, settings.max_queue_wait_s),
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
    routers = [
        ask.router(settings),
        search.router(settings),
        openai_chat.router(settings),
        documents.router(),
        health.router(),
    ]
    for router in routers:
        app.include_router(router)
    api_routes = [route for router in routers for route in router.routes]
    app.state.api_routes = api_routes

    add_error_handlers(app)

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
