"""Answers with citations: pick the supporting sentence(s), extract the answer phrase, or refuse.

Extractive by default (no LLM ships offline that answers Chinese well: see the README). The
supporting sentence is chosen among the sentences of the retrieved passages by e5 similarity
(sentence vectors cached at ingest) plus IDF-weighted character-bigram coverage of the question
plus the passage's retrieval rank. Whether the report answers at all is a calibrated decision
(`rag/calibration.json`, written by `python -m eval.calibrate`).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from ingest.records import Chunk, Sentence
from rag.conversation import Turn, rewrite_query
from rag.evidence import TermStatistics, coverage, question_terms, text_terms
from rag.language import detect_language
from rag.question_types import QuestionType, classify
from rag.records import Answer, Citation, Hit
from rag.retriever import Retrieval, Retriever
from rag.short_answer import extract_short_answer

REFUSAL = {"zh": "报告中没有找到相关内容。", "en": "The report does not say."}
CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
MIN_SENTENCE_CHARS = 4


@dataclass(frozen=True)
class SentenceWeights:
    """How the sentence score mixes its signals (tuned on the eval set and XQuAD)."""

    coverage: dict[str, float] = field(default_factory=lambda: {"zh": 0.35, "en": 0.15})
    passage_rank: float = 0.02
    second_sentence_margin: float = 0.015


@dataclass(frozen=True)
class RefusalModel:
    """Logistic model over evidence features; `threshold` on its probability decides `found`."""

    weights: dict[str, float]
    bias: float
    threshold: float

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> RefusalModel:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(weights=data["weights"], bias=data["bias"], threshold=data["threshold"])

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(weight * features.get(name, 0.0) for name, weight in self.weights.items())
        return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True)
class ScoredSentence:
    sentence: Sentence
    chunk: Chunk
    hit: Hit
    dense: float
    coverage: float
    score: float


@dataclass(frozen=True)
class Evidence:
    """What the extractive answerer found; also what the refusal model and eval inspect."""

    question: str
    focus: str
    language: str
    qtype: QuestionType
    retrieval: Retrieval
    ranked: list[ScoredSentence]
    features: dict[str, float]


class Answerer:
    def __init__(
        self,
        retriever: Retriever,
        glossary: Any = None,
        llm: Any = None,
        refusal: RefusalModel | None = None,
        weights: SentenceWeights | None = None,
    ) -> None:
        self.retriever = retriever
        self.glossary = glossary
        self.llm = llm
        self._refusal = refusal
        self.weights = weights or SentenceWeights()

    @cached_property
    def refusal(self) -> RefusalModel:
        return self._refusal or RefusalModel.load()

    @cached_property
    def term_statistics(self) -> TermStatistics:
        return TermStatistics.build(s.text for chunk in self.retriever.index.chunks for s in chunk.sentences)

    def warm_up(self) -> None:
        self.term_statistics  # noqa: B018 - computed once, then cached
        self.refusal  # noqa: B018
        self.answer("warm up 预热", top_k=1, use_llm=False)

    # --- evidence -------------------------------------------------------------------------
    def gather(
        self, question: str, history: Sequence[Turn] = (), top_k: int = 5, mode: str = "hybrid"
    ) -> Evidence:
        """Retrieve passages for `question` and rank their sentences."""
        language = detect_language(question)
        rewritten = rewrite_query(question, history, language)
        retrieval = self.retriever.search(rewritten.retrieval, k=top_k, mode=mode, language=language)
        started = time.perf_counter()
        query_vector = retrieval.query_vector
        if rewritten.focus != rewritten.retrieval:
            query_vector = self.retriever.embedder.embed_queries([rewritten.focus])[0]
        translations = self._translations(rewritten.focus, language)
        terms = question_terms(rewritten.focus, language, translations)
        ranked = self._rank_sentences(retrieval.hits, query_vector, terms, language)
        features = self._features(ranked, retrieval.hits, terms)
        retrieval.timings_ms["sentence_selection"] = (time.perf_counter() - started) * 1000.0
        return Evidence(
            question=question,
            focus=rewritten.focus,
            language=language,
            qtype=classify(rewritten.focus, language),
            retrieval=retrieval,
            ranked=ranked,
            features=features,
        )

    def _translations(self, text: str, language: str) -> list[str]:
        if language != "en" or self.glossary is None:
            return []
        return list(self.glossary.translate_terms(text))

    def _rank_sentences(
        self, hits: list[Hit], query_vector: np.ndarray, terms: set[str], language: str
    ) -> list[ScoredSentence]:
        index = self.retriever.index
        row_of = {chunk.id: row for row, chunk in enumerate(index.chunks)}
        stats = self.term_statistics
        seen: set[tuple[str, tuple[tuple[int, int], ...]]] = set()
        scored: list[ScoredSentence] = []
        cover_weight = self.weights.coverage.get(language, 0.2)
        for hit in hits:
            chunk_row = row_of[hit.chunk.id]
            for sentence, sentence_row in zip(hit.chunk.sentences, index.sentence_rows[chunk_row], strict=True):
                key = (hit.chunk.doc_id, sentence.spans)
                if key in seen or len(sentence.text) < MIN_SENTENCE_CHARS:
                    continue
                seen.add(key)
                dense = float(np.dot(index.sentence_vectors[sentence_row], query_vector))
                cover = coverage(terms, text_terms(sentence.text), stats)
                score = dense + cover_weight * cover + self.weights.passage_rank / hit.rank
                scored.append(ScoredSentence(sentence, hit.chunk, hit, dense, cover, score))
        scored.sort(key=lambda s: -s.score)
        return scored

    def _features(self, ranked: list[ScoredSentence], hits: list[Hit], terms: set[str]) -> dict[str, float]:
        if not ranked or not hits:
            return {"sentence_dense": 0.0, "sentence_coverage": 0.0, "passage_coverage": 0.0, "passage_dense": 0.0}
        best = ranked[0]
        top = hits[0]
        passage_terms = text_terms(top.chunk.embedding_text())
        return {
            "sentence_dense": best.dense,
            "sentence_coverage": best.coverage,
            "passage_coverage": coverage(terms, passage_terms, self.term_statistics),
            "passage_dense": float(top.dense_score or 0.0),
        }

    # --- answers --------------------------------------------------------------------------
    def answer(
        self,
        question: str,
        history: Sequence[Turn] = (),
        top_k: int = 5,
        use_llm: bool | None = None,
        mode: str = "hybrid",
    ) -> Answer:
        """Answer `question` from the report, with citations, or say it is not there."""
        started = time.perf_counter()
        evidence = self.gather(question, history, top_k, mode)
        answer = self._extractive(evidence)
        if (use_llm is None or use_llm) and self.llm is not None and use_llm is not False:
            answer = self._generative(evidence, history, fallback=answer)
        timings = {**evidence.retrieval.timings_ms, **answer.timings_ms}
        timings["total"] = (time.perf_counter() - started) * 1000.0
        return replace(answer, timings_ms=timings)

    def _extractive(self, evidence: Evidence) -> Answer:
        started = time.perf_counter()
        language = evidence.language
        confidence = self.refusal.probability(evidence.features) if evidence.ranked else 0.0
        base = {
            "question": evidence.question,
            "language": language,
            "answerer": "extractive",
            "confidence": confidence,
            "retrieval_query": evidence.retrieval.query,
        }
        if not evidence.ranked or confidence < self.refusal.threshold:
            return Answer(
                answer=REFUSAL[language],
                short_answer=None,
                found=False,
                citations=(),
                related=tuple(evidence.retrieval.hits[:3]),
                timings_ms={"answer": (time.perf_counter() - started) * 1000.0},
                **base,
            )
        chosen, short = self._choose(evidence)
        citations = tuple(self._citation(n, item) for n, item in enumerate(chosen, start=1))
        lines = []
        if short:
            lines.append(f"{short} [1]")
        lines.extend(f"{item.sentence.text} [{n}]" for n, item in enumerate(chosen, start=1))
        return Answer(
            answer="\n\n".join(lines),
            short_answer=short,
            found=True,
            citations=citations,
            timings_ms={"answer": (time.perf_counter() - started) * 1000.0},
            **base,
        )

    def _choose(self, evidence: Evidence) -> tuple[list[ScoredSentence], str | None]:
        """The supporting sentence(s) and the answer phrase found in the first of them."""
        ranked = evidence.ranked
        best = ranked[0]
        short = self._short_answer(evidence, best)
        if short is None and evidence.qtype not in (QuestionType.WHAT, QuestionType.WHY, QuestionType.OTHER):
            # A typed question whose best sentence holds no phrase of that type: a close runner-up
            # that does is the better support.
            for runner in ranked[1:3]:
                if best.score - runner.score > self.weights.second_sentence_margin * 2:
                    break
                short = self._short_answer(evidence, runner)
                if short:
                    best = runner
                    break
        chosen = [best]
        for runner in ranked[:3]:
            if runner is best:
                continue
            if best.score - runner.score <= self.weights.second_sentence_margin and short is None:
                chosen.append(runner)
            break
        return chosen, short

    def _short_answer(self, evidence: Evidence, item: ScoredSentence) -> str | None:
        return extract_short_answer(
            evidence.focus, item.sentence.text, evidence.qtype, evidence.language, self.glossary
        )

    def _citation(self, n: int, item: ScoredSentence) -> Citation:
        return Citation(
            n=n,
            doc_id=item.chunk.doc_id,
            source=item.hit.source,
            chunk_id=item.chunk.id,
            text=item.chunk.text,
            sentence=item.sentence.text,
            spans=item.sentence.spans,
            passage_spans=item.chunk.spans,
            score=item.score,
        )

    # --- generative -----------------------------------------------------------------------
    def _generative(self, evidence: Evidence, history: Sequence[Turn], fallback: Answer) -> Answer:
        from rag.llm import LLMError, generate_answer

        started = time.perf_counter()
        hits = evidence.retrieval.hits
        try:
            reply = generate_answer(
                self.llm,
                evidence.question,
                evidence.language,
                [hit.chunk.text for hit in hits],
                [(turn.question, turn.answer) for turn in history],
            )
        except LLMError as exc:
            return replace(fallback, notice=f"LLM unavailable, extractive answer shown: {exc}")
        elapsed = {"llm": (time.perf_counter() - started) * 1000.0}
        if reply.refused:
            return replace(
                fallback,
                answer=REFUSAL[evidence.language],
                short_answer=None,
                found=False,
                citations=(),
                related=tuple(hits[:3]),
                answerer="llm",
                timings_ms={**fallback.timings_ms, **elapsed},
            )
        if not reply.cited:
            return replace(fallback, notice="the LLM answer cited no passage; extractive answer shown")
        text, citations = self._renumber(reply.text, reply.cited, evidence)
        return replace(
            fallback,
            answer=text,
            short_answer=fallback.short_answer if fallback.found else None,
            found=True,
            citations=citations,
            related=(),
            answerer="llm",
            timings_ms={**fallback.timings_ms, **elapsed},
        )

    def _renumber(self, text: str, cited: list[int], evidence: Evidence) -> tuple[str, tuple[Citation, ...]]:
        """Markers in order of first use; each cites the passage's best-scoring sentence."""
        import re

        hits = evidence.retrieval.hits
        new_number = {old: new for new, old in enumerate(cited, start=1)}
        text = re.sub(r"\[(\d+)\]", lambda m: f"[{new_number.get(int(m.group(1)), '')}]", text).replace("[]", "")
        citations = []
        for old, new in new_number.items():
            hit = hits[old - 1]
            best = next((s for s in evidence.ranked if s.chunk.id == hit.chunk.id), None)
            sentence = best.sentence if best else Sentence(hit.chunk.text, hit.chunk.spans)
            citations.append(
                Citation(
                    n=new,
                    doc_id=hit.chunk.doc_id,
                    source=hit.source,
                    chunk_id=hit.chunk.id,
                    text=hit.chunk.text,
                    sentence=sentence.text,
                    spans=sentence.spans,
                    passage_spans=hit.chunk.spans,
                    score=hit.score,
                )
            )
        return text, tuple(citations)

    def stream(
        self, question: str, history: Sequence[Turn] = (), top_k: int = 5, use_llm: bool | None = None
    ) -> Iterator[tuple[str, Any]]:
        """Events for a streaming client: ("citations", [...]), ("delta", str)..., ("done", Answer)."""
        answer = self.answer(question, history, top_k, use_llm)
        yield "citations", [c.as_dict() for c in answer.citations]
        for piece in _pieces(answer.answer):
            yield "delta", piece
        yield "done", answer


def _pieces(text: str, size: int = 12) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]
