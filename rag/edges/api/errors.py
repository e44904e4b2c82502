"""HTTP errors: the one JSON error body and the handlers that turn every failure into it
(`{"error": {"type", "message"}}` with the status that fits). The error classes are in
`ingest.errors`."""

import logging
import re
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ingest.errors import RagError
from rag.edges.api.schemas import ErrorOut

log = logging.getLogger("rag.api")

_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def error_type(exc: Exception) -> str:
    """`BadInput` -> "bad_input": the `type` clients can branch on."""
    return _CAMEL.sub("_", type(exc).__name__).lower()


def error_body(kind: str, message: str) -> dict[str, Any]:
    return {"error": {"type": kind, "message": message}}


def error_response(
    status: int, kind: str, message: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(error_body(kind, message), status_code=status, headers=headers)



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


def _error_docs(*statuses: int) -> dict[int | str, dict[str, Any]]:
    return {status: {"model": ErrorOut, "description": _STATUS_DOCS[status]} for status in statuses}


READ_ERRORS = _error_docs(400, 413, 422, 429, 503, 504)
WRITE_ERRORS = _error_docs(400, 401, 403, 404, 413, 415, 422, 429, 503)


async def rag_error_handler(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RagError)
    return error_response(exc.status, error_type(exc), str(exc), exc.headers or None)


def validation_message(errors: Sequence[Any]) -> str:
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
    return error_response(422, "validation_error", validation_message(errors))


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


def add_error_handlers(app: FastAPI) -> None:
    """Every failure becomes the one JSON error body."""
    app.add_exception_handler(RagError, rag_error_handler)
    app.add_exception_handler(RequestValidationError, validation_error_handler)
    app.add_exception_handler(StarletteHTTPException, http_error_handler)
    app.add_exception_handler(Exception, internal_error_handler)
