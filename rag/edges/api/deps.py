"""What a route needs, as FastAPI dependencies: the services on `app.state`, once the engine is
ready and the client within its rate limit (`Ready`), plus the API key for writes (`Writer`)."""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from rag.config import Settings
from rag.edges.api.admission import WorkPool
from rag.edges.api.limits import RateLimiter
from rag.edges.api.loader import Loader
from rag.engine import Engine
from rag.records import Answer


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


async def ready_services(request: Request) -> Services:
    """The services, once the engine can answer, for a client within its rate limit.

    Async, as are the others here, though nothing in them awaits: FastAPI runs a plain `def`
    dependency on its thread pool, a hop out of the event loop and back for every request."""
    found = services(request)
    found.limiter.check(request.client.host if request.client else "unknown")
    found.loader.require_ready()
    return found


bearer = HTTPBearer(auto_error=False, description="RAG_API_KEY, for the write endpoints")


async def writer_services(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Services:
    """The services, for a caller holding RAG_API_KEY (writes are off when none is set)."""
    services(request).settings.authorize_write(credentials.credentials if credentials else None)
    return await ready_services(request)


Ready = Annotated[Services, Depends(ready_services)]
Writer = Annotated[Services, Depends(writer_services)]


def note_answerer(request: Request, answer: Answer) -> None:
    """For the access log line of this request."""
    request.state.answerer = answer.answerer

