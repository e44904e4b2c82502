"""The records that flow through ingest: Document -> Sentence -> Chunk.

Offsets are character offsets into `Document.text`, the decoded source file exactly as read.
A span list maps text back to the source: ``"".join(source[a:b] for a, b in spans) == text``.
A sentence rejoined across a photo caption or a page break therefore has two spans.
"""

from __future__ import annotations

from dataclasses import dataclass

Span = tuple[int, int]


def text_at(source: str, spans: tuple[Span, ...]) -> str:
    """The source text at `spans`, concatenated: what a citation must give back."""
    return "".join(source[start:end] for start, end in spans)


@dataclass(frozen=True)
class Document:
    """One source file, decoded. `id` derives from its path name and content hash."""

    id: str
    source: str  # file name shown to users
    path: str  # absolute path it was read from
    text: str  # decoded text; every offset points into this
    content_hash: str  # sha256 of `text`
    title: str = ""


@dataclass(frozen=True)
class Sentence:
    text: str
    spans: tuple[Span, ...]


@dataclass(frozen=True)
class Chunk:
    """A passage: whole sentences packed up to a token budget.

    `text` is exactly the source text at `spans`; `context` (the heading above it) is added
    for embedding and lexical matching only, never shown as cited text.
    """

    id: str
    doc_id: str
    text: str
    spans: tuple[Span, ...]
    sentences: tuple[Sentence, ...]
    context: str = ""
    position: int = 0  # order of the chunk within its document

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]

    def embedding_text(self) -> str:
        return f"{self.context}\n{self.text}" if self.context else self.text


@dataclass(frozen=True)
class Paragraph:
    """A cleaned paragraph: text rejoined across captions and page breaks, with its spans."""

    text: str
    spans: tuple[Span, ...]
    kind: str = "body"  # "body" | "heading" | "caption" | "list"


@dataclass(frozen=True)
class ChunkingSettings:
    max_tokens: int = 160
    overlap_sentences: int = 1
    encoding: str = "cl100k_base"

    def as_dict(self) -> dict[str, object]:
        return {
            "max_tokens": self.max_tokens,
            "overlap_sentences": self.overlap_sentences,
            "encoding": self.encoding,
        }


__all__ = ["Chunk", "ChunkingSettings", "Document", "Paragraph", "Sentence", "Span", "text_at"]
