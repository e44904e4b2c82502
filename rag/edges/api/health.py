"""GET /healthz (the process is up) and GET /readyz (model and index loaded, or why not)."""

from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from rag.edges.api.deps import services
from rag.edges.api.schemas import HealthOut, ReadyOut


def router() -> APIRouter:
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

