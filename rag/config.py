"""Settings, in one place, read from the environment (`RAG_*`) at the edges (CLI, API, page).

Built on first use by the edge that needs it (`Settings()`), never at import time.
"""

from __future__ import annotations

import hmac
import os
from pathlib import Path

from pydantic import Field, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ingest.errors import Unauthorized, WritesDisabled
from ingest.records import ChunkingSettings

# Limits every edge shares (the CLI, the API, the page), checked when a request comes in.
MAX_TOP_K = 50  # the most passages one question may read
MAX_HISTORY_TURNS = 50  # earlier turns a request may send; the LLM prompt keeps fewer (llm.PROMPT_HISTORY_TURNS)


WORKERS_PER_CPU = 4


def _default_workers() -> int:
    # More threads than cores: while one embeds a batch of questions (onnxruntime, GIL released)
    # the others run the Python of other answers and queue the next batch. Measured at 32
    # clients on 2 cores: 8 threads 50 answers/s, 2 threads 46 (bench.load; ingest.query_batch).
    # The count honours the affinity mask and a cgroup CPU quota (see ingest.cpus).
    from ingest.cpus import usable_cpus

    return WORKERS_PER_CPU * usable_cpus()


def _xdg(variable: str, fallback: str) -> Path:
    return Path(os.environ.get(variable) or Path.home() / fallback)


def default_data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share") / "report-rag"


def default_cache_dir() -> Path:
    return _xdg("XDG_CACHE_HOME", ".cache") / "report-rag"


def bundled_corpus() -> Path:
    """The report that ships with the package (the default corpus)."""
    return Path(__file__).resolve().parent.parent / "ingest" / "corpus"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    index_dir: Path = Field(default_factory=lambda: default_data_dir() / "index")
    # where the chunks live: empty = the index directory; PATH.db = Milvus Lite;
    # http(s)://host:port = a Milvus server (see ingest.store)
    store: str = ""
    store_token: str = ""
    cache_dir: Path = Field(default_factory=default_cache_dir)
    embed_model: str = ""  # empty: the bundled offline multilingual-e5-small
    # auto: onnxruntime for the bundled model (queries 2.5x faster than torch, same vectors),
    # torch otherwise or when ONNX cannot be used; see ingest.embedder.BACKENDS
    embed_backend: str = "auto"
    # 160 cl100k tokens measured best on the report set (see README, "Chunk size").
    chunk_tokens: int = Field(160, ge=16, le=8192)
    chunk_overlap: int = Field(1, ge=0, le=5)
    token_encoding: str = "cl100k_base"
    index_type: str = "auto"
    top_k: int = Field(5, ge=1, le=MAX_TOP_K)

    llm_base_url: str = ""
    llm_model: str = ""
    llm_api_key: str = ""
    llm_timeout_s: float = Field(30.0, gt=0)
    # Check each sentence of an LLM answer against the passages it cites (rag.answering.grounding);
    # RAG_LLM_VERIFY=0 shows the model's text unchecked.
    llm_verify: bool = True

    host: str = "127.0.0.1"
    port: int = Field(8000, ge=1, le=65535)
    # `rag serve` processes sharing the port (rag.edges.workers); admission, rate limits and
    # RAG_MAX_CONCURRENCY apply per process.
    workers: int = Field(1, ge=1)
    api_key: str = ""  # enables the write endpoints when set
    max_question_chars: int = Field(2000, ge=1)
    max_body_bytes: int = Field(1_000_000, ge=1024)
    max_upload_bytes: int = Field(20_000_000, ge=1024)
    rate_limit_per_minute: int = Field(0, ge=0)  # 0 = off (local use)
    max_concurrency: int = Field(default_factory=_default_workers, ge=1)
    # Most questions embedded in one encoder call when they arrive together (1: no batching);
    # see ingest.query_batch for the measurement.
    query_batch: int = Field(16, ge=1, le=256)
    request_timeout_s: float = Field(60.0, gt=0)
    # Admission (rag.edges.api.admission): queue while the expected wait fits this budget, else
    # 503 at once with Retry-After; never more than the request timeout less one service time.
    # 5 s: a chat user who would wait longer is better told "busy, retry in N s" (at 512 clients
    # the request-timeout budget kept 503s away but made answers take 9-25 s; BENCHMARKS.md).
    max_queue_wait_s: float = Field(5.0, ge=0)
    cors_origins: str = ""  # comma-separated; empty = no CORS headers
    feedback_path: Path = Field(default_factory=lambda: default_data_dir() / "feedback.jsonl")
    eval_report_path: Path = Field(default_factory=lambda: default_data_dir() / "eval-report.html")

    @field_validator("index_dir", "cache_dir", "feedback_path", "eval_report_path", mode="after")
    @classmethod
    def _expand(cls, value: Path) -> Path:
        return value.expanduser()

    @field_validator("embed_backend", mode="after")
    @classmethod
    def _known_backend(cls, value: str) -> str:
        from ingest.embedder import BACKENDS  # here, not at the top: `rag --help` stays light

        value = value.strip().lower()
        if value not in BACKENDS:
            raise ValueError(f"must be one of {', '.join(BACKENDS)}")
        return value

    @property
    def chunking(self) -> ChunkingSettings:
        return ChunkingSettings(
            max_tokens=self.chunk_tokens,
            overlap_sentences=self.chunk_overlap,
            encoding=self.token_encoding,
        )

    def authorize_write(self, key: str | None) -> None:
        """Allow a write (upload, delete) for the holder of RAG_API_KEY: WritesDisabled when no
        key is set, Unauthorized for a missing or wrong one."""
        if not self.api_key:
            raise WritesDisabled(
                "write endpoints are disabled: set RAG_API_KEY on the server to enable them, "
                "then send `Authorization: Bearer <key>`"
            )
        if key is None or not hmac.compare_digest(key.encode(), self.api_key.encode()):
            raise Unauthorized(
                "missing or wrong API key: send `Authorization: Bearer <RAG_API_KEY>`",
                headers={"WWW-Authenticate": "Bearer"},
            )

    @property
    def llm_enabled(self) -> bool:
        return bool(self.llm_base_url and self.llm_model)


def describe_invalid(error: ValidationError) -> str:
    """A Settings validation error as one line naming the environment variables to fix."""
    problems = []
    for item in error.errors():
        name = "RAG_" + "_".join(str(part) for part in item["loc"]).upper()
        message = item["msg"].removeprefix("Value error, ")
        problems.append(f"{name}={item.get('input')!r}: {message}")
    return "invalid setting " + "; ".join(problems)
