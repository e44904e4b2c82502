"""The records rag hands out: Hit (a retrieved passage), Citation and Answer."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from ingest.records import Chunk, Sentence, Span

if TYPE_CHECKING:
    from ingest.pipeline import IngestReport


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    source: str  # file name of the document
    score: float  # fused score, higher is better
    rank: int  # 1-based
    dense_score: float | None = None  # cosine similarity, when the dense side saw the chunk
    lexical_score: float | None = None  # BM25 score, when the lexical side saw it

    def as_dict(self) -> dict[str, Any]:
        return {
            "rank": self.rank,
            "score": round(self.score, 6),
            "dense_score": None if self.dense_score is None else round(self.dense_score, 6),
            "lexical_score": None if self.lexical_score is None else round(self.lexical_score, 6),
            "text": self.chunk.text,
            "context": self.chunk.context,
            "doc_id": self.chunk.doc_id,
            "source": self.source,
            "chunk_id": self.chunk.id,
            "start": self.chunk.start,
            "end": self.chunk.end,
            "spans": [list(span) for span in self.chunk.spans],
        }


@dataclass(frozen=True)
class Citation:
    n: int
    doc_id: str
    source: str
    chunk_id: str
    text: str  # the passage
    sentence: str  # the cited sentence within the passage
    spans: tuple[Span, ...]  # source spans of `sentence`
    passage_spans: tuple[Span, ...]  # source spans of `text`
    score: float

    @classmethod
    def of(cls, n: int, hit: Hit, sentence: Sentence, score: float) -> Citation:
        """[n]: `sentence` within the passage of `hit`."""
        return cls(
            n=n,
            doc_id=hit.chunk.doc_id,
            source=hit.source,
            chunk_id=hit.chunk.id,
            text=hit.chunk.text,
            sentence=sentence.text,
            spans=sentence.spans,
            passage_spans=hit.chunk.spans,
            score=score,
        )

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["spans"] = [list(span) for span in self.spans]
        data["passage_spans"] = [list(span) for span in self.passage_spans]
        data["score"] = round(self.score, 6)
        return data


@dataclass(frozen=True)
class Answer:
    question: str
    answer: str
    short_answer: str | None
    found: bool
    citations: tuple[Citation, ...]
    language: str  # "zh" | "en"
    # "extractive"; "llm" (unchecked: RAG_LLM_VERIFY=0); "llm+checked" (every sentence checked
    # against its citations, see rag.answering.grounding); "extractive (fallback)": the LLM
    # failed, was stopped, or its checked answer did not answer (`notice` says which)
    answerer: str
    related: tuple[Hit, ...] = ()
    confidence: float = 0.0
    timings_ms: dict[str, float] = field(default_factory=dict)
    retrieval_query: str = ""  # the query actually retrieved with (after follow-up rewriting)
    notice: str = ""  # e.g. why the LLM answer was replaced by the extractive one
    # A refusal that cites what the report does say about the subject ("报告提到了…[1]，但没有
    # 说明…"): `found` stays False, the citations show the related text, not an answer.
    partial: bool = False
    missing: tuple[str, ...] = ()  # what the question asked that the report does not say
    # What the groundedness check did to an LLM answer's sentences: {"supported", "recited",
    # "dropped"} counts; empty when no check ran.
    grounding: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.answer,
            "short_answer": self.short_answer,
            "found": self.found,
            "partial": self.partial,
            "missing": list(self.missing),
            "citations": [c.as_dict() for c in self.citations],
            "related": [h.as_dict() for h in self.related],
            "language": self.language,
            "answerer": self.answerer,
            "confidence": round(self.confidence, 4),
            "retrieval_query": self.retrieval_query,
            "notice": self.notice,
            "grounding": dict(self.grounding),
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


@dataclass(frozen=True)
class Upload:
    """What adding one uploaded file did."""

    doc_id: str
    source: str
    status: str  # "added" | "updated" | "unchanged"
    report: IngestReport

    def as_dict(self) -> dict[str, Any]:
        return {"doc_id": self.doc_id, "source": self.source, "status": self.status, "report": self.report.as_dict()}
