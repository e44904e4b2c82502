"""GET /documents (list), POST /documents (upload) and DELETE /documents/{doc_id}; writes need
RAG_API_KEY."""

from typing import Annotated, Any

from fastapi import APIRouter, UploadFile
from fastapi import Path as PathParam

from ingest.loading import SUPPORTED_SUFFIXES, check_upload_size
from rag.edges.api.deps import Ready, Writer
from rag.edges.api.errors import READ_ERRORS, WRITE_ERRORS
from rag.edges.api.schemas import DocumentsOut, RemovedOut, UploadOut


def router() -> APIRouter:
    router = APIRouter(tags=["documents"])

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
        # Refused before it is read; the engine checks again what it is given.
        if file.size is not None:
            check_upload_size(file.filename or "", file.size, svc.settings.max_upload_bytes)
        data = await file.read()
        # No timeout for writes: one that timed out here would still finish, which would confuse.
        upload = await svc.pool.run(svc.engine.add_upload, file.filename or "", data, timeout=False)
        return upload.as_dict()

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

