"""The error vocabulary, in one place. Each message says what went wrong and how to fix it; each
class maps to an HTTP status. The CLI, the HTTP API and the chat page translate them in one
place each. Here, at the bottom of the imports, so that ingest can raise them without rag."""


class RagError(Exception):
    """`headers` go on the HTTP response (Retry-After, WWW-Authenticate)."""

    status = 500

    def __init__(self, message: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.headers = headers or {}


class BadInput(RagError):
    status = 400


class Unauthorized(RagError):
    status = 401


class WritesDisabled(RagError):
    status = 403


class NotFound(RagError):
    status = 404


class DocumentNotFound(NotFound):
    pass


class ModelMismatch(RagError):
    status = 409


class TooLarge(RagError):
    status = 413


class UnsupportedFile(RagError):
    status = 415


class RateLimited(RagError):
    status = 429


class LLMError(RagError):
    """The LLM server could not be reached or did not answer as an OpenAI-compatible API."""

    status = 502


class IndexNotFound(RagError):
    status = 503


class IndexCorrupt(RagError):
    status = 503


class StoreUnavailable(RagError):
    """The store's server cannot be reached (it recovers by itself when the server returns)."""

    status = 503


class ModelUnavailable(RagError):
    status = 503


class NotReady(RagError):
    status = 503


class Busy(RagError):
    status = 503


class Timeout(RagError):
    status = 504
