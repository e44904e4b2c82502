"""Errors users see; defined in `ingest.errors` so ingest can raise them without importing rag."""

from ingest.errors import (
    BadInput,
    DocumentNotFound,
    IndexCorrupt,
    IndexNotFound,
    ModelMismatch,
    ModelUnavailable,
    RagError,
    UnsupportedFile,
)

__all__ = [
    "BadInput",
    "DocumentNotFound",
    "IndexCorrupt",
    "IndexNotFound",
    "ModelMismatch",
    "ModelUnavailable",
    "RagError",
    "UnsupportedFile",
]
