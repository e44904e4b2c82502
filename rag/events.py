"""What a streaming answer yields, in order: `Citations`, then `Delta`s, then `Done`.

The extractive answerer cites its chosen sentences; an LLM first gets every retrieved passage
as a numbered citation it may use, and `Done` holds the citations it actually used. Either way
a citation has one shape (`rag.records.Citation`).
"""

from __future__ import annotations

from dataclasses import dataclass

from rag.records import Answer, Citation


@dataclass(frozen=True)
class Citations:
    citations: tuple[Citation, ...]


@dataclass(frozen=True)
class Delta:
    text: str


@dataclass(frozen=True)
class Done:
    answer: Answer


AnswerEvent = Citations | Delta | Done
