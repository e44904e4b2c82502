"""GET /search: the passages that best match a query, with offsets."""

from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AfterValidator

from rag.config import MAX_TOP_K, Settings
from rag.edges.api.deps import Ready
from rag.edges.api.errors import READ_ERRORS
from rag.edges.api.schemas import NON_BLANK_PATTERN, SEARCH_EXAMPLES, SearchMode, SearchOut, non_blank


def router(settings: Settings) -> APIRouter:
    router = APIRouter(tags=["questions"], responses=READ_ERRORS)
    max_chars = settings.max_question_chars

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
            AfterValidator(non_blank),
        ],
        k: Annotated[int, Query(ge=1, le=MAX_TOP_K, description="number of passages")] = 5,
        mode: Annotated[SearchMode, Query(description="retrieval mode")] = SearchMode("hybrid"),  # noqa: B008
    ) -> dict[str, Any]:
        retrieval = await svc.pool.run(svc.engine.search, q, k, mode.value)
        return retrieval.as_dict()

    return router
