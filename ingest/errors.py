"""The error vocabulary. Each message says what went wrong and how to fix it; each maps to an
HTTP status. The CLI, the HTTP API and the chat page translate them in one place each."""


class RagError(Exception):
    status = 500


class BadInput(RagError):
    status = 400


class IndexNotFound(RagError):
    status = 503


class IndexCorrupt(RagError):
    status = 503


class ModelMismatch(RagError):
    status = 409


class StoreUnavailable(RagError):
    """The store's server cannot be reached (it recovers by itself when the server returns)."""

    status = 503


class ModelUnavailable(RagError):
    status = 503


class DocumentNotFound(RagError):
    status = 404


class UnsupportedFile(RagError):
    status = 415
