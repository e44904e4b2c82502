"""Answers with citations: pick the supporting sentence(s), extract the answer phrase, or refuse.

Extractive by default (no LLM ships offline that answers Chinese well: see the README). The
supporting sentence is chosen among the sentences of the retrieved passages by e5 similarity
(sentence vectors cached at ingest) plus IDF-weighted character-bigram coverage of the question
plus the passage's retrieval rank. Whether the report answers at all is a calibrated decision
(`rag/answering/calibration.json`, written by `python -m eval.calibrate`).
"""

from __future__ import annotations

import json
import math
import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from ingest.errors import ModelUnavailable
from ingest.records import Chunk, Sentence
from rag.answering.constraints import (
    ASKED_KINDS,
    EN_SPEECH_VERBS,
    Constraint,
    Kind,
    absent,
    binding,
    check,
    checkable,
    document_bound,
    met,
    named_in_document,
    names_asked_set,
    names_place_type,
    parse,
    spoken_by,
    titles_in,
    transliterated,
)
from rag.answering.conversation import Turn, rewrite_query
from rag.answering.english import quote, with_gloss
from rag.answering.enumeration import members_span, set_mention
from rag.answering.evidence import (
    TermStatistics,
    coverage,
    normalize,
    question_terms,
    subject_terms,
    text_terms,
)
from rag.answering.hubness import MeanQuestions, hub_scores
from rag.answering.phrase_answer import PHRASE_TYPES, slot_alignment, what_phrase
from rag.answering.question_types import QuestionType, classify
from rag.answering.refusals import REFUSAL
from rag.answering.relatedness import shares_nothing, unrelated
from rag.answering.report_mentions import ReportMentions
from rag.answering.role_speakers import holder, speaker_by_post, with_holder
from rag.answering.roles import posts_asked_of, titles_of
from rag.answering.short_answer import (
    asked_noun_shared,
    english_named_phrase,
    extract_short_answer,
    phrase_alignment,
    phrase_named_as,
)
from rag.answering.slots import fills_slot
from rag.config import MAX_TOP_K
from rag.events import AnswerEvent, Citations, Delta, Done
from rag.language import detect_language
from rag.records import Answer, Citation, Hit
from rag.retrieval.glossary import names_in_text
from rag.retrieval.retriever import Retrieval, Retriever

if TYPE_CHECKING:
    from rag.answering.first_sentence import FirstSentenceCheck
    from rag.answering.grounding import Claim, Grounding, Verdict

FEATURES = (
    "sentence_dense",
    "sentence_coverage",
    "passage_coverage",
    "passage_dense",
    "specifics_missing",
    "unknown_terms",
    "typed_without_phrase",
    "loose_absent",
)
TYPED = frozenset(
    {
        QuestionType.WHO,
        QuestionType.WHERE,
        QuestionType.WHICH_PLACE,
        QuestionType.WHEN,
        QuestionType.HOW_MANY,
        QuestionType.WHICH_EDITION,
    }
)
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
_SPECIFIC = re.compile(r"第[0-9一二三四五六七八九十]+[届次期]|\d+")
# The report mentions the subject but not what was asked: say so, and cite what it does say.
PARTIAL = {
    "zh": "报告提到了{mentioned}[1]，但没有说明{missing}。",
    "en": "The report mentions {mentioned} [1] but does not say anything about {missing}.",
}
# ... when what it lacks is only what the question asks for ("which counties", "who they are")
PARTIAL_ASKED = {
    "zh": "报告提到了{mentioned}[1]，但没有说明{missing}。",
    "en": "The report mentions {mentioned} [1] but does not say {missing}.",
}
# ... when what is missing is named elsewhere in the report, just never together with the rest
# ("Jiaxing" is in the report; "which city" it should integrate with is not).
PARTIAL_APART = {
    "zh": "报告提到了{mentioned}[1]，但没有结合{missing}说明。",
    "en": "The report mentions {mentioned} [1], but not in connection with {missing}.",
}
# ... when it gives the person the question titles another title (the cited line says which)
TITLED_OTHERWISE = {
    "zh": "报告没有说{holder}是{title}[1]。",
    "en": "The report does not say that {holder} is {title} [1].",
}
# "刘小涛说了什么？", "What did Liu Xiaotao say at the meeting?", "What did Gong Zheng say Shanghai
# would play?": asked what he said, not which named thing he spoke of ("Which strategy did…").
_WHAT_WAS_SAID = re.compile(
    r"(?:说|表示|讲|谈|指出|强调)了?(?:些)?什么[？?。]?\s*$"
    rf"|^\s*what (?:did|does|do) [^?]+? {EN_SPEECH_VERBS}(?: [^?]{{0,40}})?\?\s*$",
    re.IGNORECASE,
)
VERIFY_DEPTH = 12  # candidate sentences checked against the question's constraints
# An English question none of whose content words the chosen sentence renders is answered only
# when the sentence is this similar to it (hubness-corrected cosine). Chosen on dev data: XQuAD's
# English questions asked of the report (off-topic) sit at 0.72-0.74, right answers at 0.77-0.80;
# at 0.74 / 0.745 / 0.75 / 0.755 / 0.76, off-topic answers refused 86 / 96 / 100 / 103 / 106 of
# 192 (dev split), report dev right answers lost 1 each, XQuAD right answers lost 0 of 293 (a
# sample of 400 questions), and from 0.755 a wrong answer to a report question was refused too.
FOREIGN_MAX_SIMILARITY = 0.75
# What names the question's subject: an attribute's renderings are too broad to ("cost": 投资).
_NAMING_KINDS = frozenset({Kind.ENTITY, Kind.ROLE, Kind.YEAR, Kind.ORDINAL, Kind.TITLED})
NARROW_DEPTH = 2  # ... when it asks for the members of a set or a kind of place
# English questions rank the listing sentence lower (dev en accuracy 0.761 / 0.772 / 0.772 at
# 2 / 3 / 4: the smallest depth that gains).
NARROW_DEPTH_EN_LIST = 3
# The slots checked, each with how many candidates are looked at and how far below the best one
# a candidate is reordered. Who-questions: only nearly tied candidates, since further down a name
# in a weaker sentence was more often the wrong person than the right one (XQuAD zh: 15 answers
# lost at any distance). When-questions: a date goes before no date ("2026年度…在上海举行" names
# the session, "本报讯 5月20日至21日,…在上海举行" says when), a little further down (XQuAD zh
# 0.7504 -> 0.7513 at 0.06 against 0.03, XQuAD en and the report set the same), and 8 deep, since
# English dense scores can be flat (0.75 +- 0.01 for "When was the symposium held?", whose
# dateline ranks sixth; 5 -> 8 changed no XQuAD zh/en answer and one other of the report set,
# "When was the first … leaders' symposium held?", which the ordinal read through the possessive
# refuses again). Not how-many: a candidate "with a number" too often has it inside a name
# (千行百业, 五个中心), which moved answers to worse sentences on the dev split.
SLOT_REORDER: dict[QuestionType, tuple[int, float]] = {QuestionType.WHO: (5, 0.03), QuestionType.WHEN: (8, 0.06)}
SLOT_CHECKED = frozenset(SLOT_REORDER)
# An English question over Chinese text ranks the right passage lower (report hit@1 0.47 against
# 0.82 for Chinese), so it reads twice as many: report dev en accuracy 0.772 / 0.761 / 0.772 /
# 0.783 at 5 / 7 / 8 / 10 passages (false answers 0.196 -> 0.176 from 8 on), XQuAD en dev half
# 0.652 / 0.657 / 0.6585 / 0.6585. The cost is ~0.5 ms.
EN_READ_FACTOR = 2
CALIBRATION_FILE = Path(__file__).with_name("calibration.json")
MIN_SENTENCE_CHARS = 4
MAX_ALIGNED_CHARS = 4.0


@dataclass(frozen=True)
class SentenceWeights:
    """How the sentence score mixes its signals (tuned on the eval set and XQuAD)."""

    # `python -m eval.tune_sentences` grid-searches these on the dev split. en 0.3 with no
    # answer-type bonus lifted dev en accuracy 0.598 -> 0.674 but raised test en false
    # refusals 0.038 -> 0.127: it did not generalize, so the XQuAD-tuned values stay.
    coverage: dict[str, float] = field(default_factory=lambda: {"zh": 0.35, "en": 0.15})
    passage_rank: float = 0.02
    # A first passage that dense and lexical retrieval both put first is the gold paragraph for
    # 0.99 of such XQuAD zh questions (201 of the dev half's 612), yet 17 of those answers cited
    # another passage. XQuAD dev half accuracy zh 0.7059 / 0.7092 / 0.7108 at 0 / 0.02 / 0.04
    # (report unchanged at 0.02). English: dev 0.6585 / 0.6601 / 0.6618 but more refused (0.072
    # -> 0.075), and at 0.04 report dev en false refusals rose: not for English.
    agreed_passage: dict[str, float] = field(default_factory=lambda: {"zh": 0.02})
    second_sentence_margin: float = 0.015
    # A sentence holding a phrase of the asked type (a date for "when", a person for "who")
    # gets this bonus; only the top few are checked, extraction costs ~5 ms a sentence.
    answer_type: float = 0.03
    answer_type_depth: int = 5
    # A sentence about another year than the one asked ("2027年度…" for a 2026 question) is
    # about something else, however similar its words.
    other_year: float = 0.1
    # How much of a sentence's pull on every question of the language is taken off its
    # similarity (rag.answering.hubness); tuned on the dev split: 0.25 / 0.5 / 0.75 / 1.0 gave
    # English accuracy 0.620 / 0.641 / 0.641 / 0.641.
    hubness: dict[str, float] = field(default_factory=lambda: {"en": 0.5})
    # ... and this much more per character of the question's context around its question word
    # that sits around the phrase too (Chinese; up to MAX_ALIGNED_CHARS). XQuAD zh, dev half
    # (even articles): accuracy 0.7010 at 0, 0.7026 at 0.005, 0.01 and 0.02.
    aligned_phrase: float = 0.01
    # Coverage the sentence gains when the one before it in its passage supplies what the
    # question asks about (evidence.subject_terms: not the words around its question word): an
    # answer often refers back ("该法令", "他们") to what the question names. XQuAD zh dev half
    # (even articles) accuracy 0.7092 at 0; with the subject reaching to 2 characters from the
    # question word, 0.7255 / 0.7337 / 0.7320 / 0.7304 at 0.15 / 0.2 / 0.25 / 0.3 (reach 1 and 3:
    # 0.7369 and 0.7288 at 0.2; 2 keeps a two-character predicate, "在哪里举行", out of it, which
    # the sentence must say itself). Any question term from the sentence before: 0.7320 at 0.2,
    # but "这次座谈会在哪里举行？" then took the line after "…举行了成果发布会". Report dev zh
    # unchanged. English gained nothing (XQuAD en dev half 0.6585 at 0 and 0.05) and lost on
    # the report's dev split (0.798 -> 0.787 at 0.1).
    context_coverage: dict[str, float] = field(default_factory=lambda: {"zh": 0.2})


@dataclass(frozen=True)
class RefusalModel:
    """Logistic model over evidence features; `threshold` on its probability decides `found`."""

    weights: dict[str, float]
    bias: float
    threshold: float

    def probability(self, features: dict[str, float]) -> float:
        z = self.bias + sum(weight * features.get(name, 0.0) for name, weight in self.weights.items())
        return 1.0 / (1.0 + math.exp(-z))


@dataclass(frozen=True)
class Calibration:
    """One refusal model per question language: English questions over Chinese text score
    lower on every similarity, so one shared threshold would refuse them or pass everything."""

    models: dict[str, RefusalModel]

    @classmethod
    def load(cls, path: Path = CALIBRATION_FILE) -> Calibration:
        data = json.loads(path.read_text(encoding="utf-8"))
        return cls(
            {
                language: RefusalModel(
                    weights=model["weights"], bias=model["bias"], threshold=model["threshold"]
                )
                for language, model in data["languages"].items()
            }
        )

    def model(self, language: str) -> RefusalModel:
        # No silent fallback to another language's model: its threshold would be wrong here.
        model = self.models.get(language)
        if model is None:
            raise ModelUnavailable(
                f"no refusal model for {language!r} questions in {CALIBRATION_FILE.name} (it has "
                f"{', '.join(sorted(self.models))}): calibrate one with `python -m eval.calibrate --write`"
            )
        return model


@dataclass(frozen=True)
class ScoredSentence:
    sentence: Sentence
    chunk: Chunk
    hit: Hit
    dense: float
    coverage: float
    score: float
    short_answer: str | None = None


@dataclass(frozen=True)
class Evidence:
    """What the extractive answerer found; also what the refusal model and eval inspect."""

    question: str
    focus: str
    language: str
    qtype: QuestionType
    retrieval: Retrieval
    ranked: list[ScoredSentence]  # candidates that meet the question's constraints, best first
    features: dict[str, float]
    constraints: tuple[Constraint, ...] = ()
    unmet: tuple[Constraint, ...] = ()  # binding constraints that no candidate (or no text) meets
    partial: ScoredSentence | None = None  # the candidate meeting the most of them, when some fail
    absent: tuple[Constraint, ...] = ()  # those of `unmet` that nothing in the report meets


@dataclass(frozen=True)
class Verification:
    verified: list[ScoredSentence]
    unmet: tuple[Constraint, ...]
    partial: ScoredSentence | None
    absent: tuple[Constraint, ...] = ()


class Answerer:
    def __init__(
        self,
        retriever: Retriever,
        glossary: Any = None,
        llm: Any = None,
        refusal: Calibration | None = None,
        weights: SentenceWeights | None = None,
        verify: bool = True,
        mean_questions: MeanQuestions | None = None,
    ) -> None:
        """verify: check an LLM answer's sentences against their citations (rag.answering.grounding).
        mean_questions: the reference questions' means for the hubness correction, shared across
        reloads of the same encoder (default: embedded for this answerer)."""
        self.retriever = retriever
        self.glossary = glossary
        self.llm = llm
        self.verify = verify
        self._refusal = refusal
        self.weights = weights or SentenceWeights()
        self.mean_questions = mean_questions or MeanQuestions(retriever.embedder)
        # doc id -> its sentences in reading order (built on first need: speaker questions)
        self._document_sentences: dict[str, list[tuple[Sentence, int]]] = {}

    @cached_property
    def refusal(self) -> Calibration:
        return self._refusal or Calibration.load()

    @cached_property
    def _mentions(self) -> ReportMentions:
        """What the indexed text mentions, to tell a constraint the report never meets from
        one this sentence does not (an index: scanning all text per question grew with it)."""
        return ReportMentions(chunk.embedding_text() for chunk in self.retriever.index.chunks)

    def _surroundings(self, chunk: Chunk) -> str:
        """The text a constraint may be met in besides the sentence: the passage, the passages
        around it (a speaker named before his quote) and the document's headline. Built per
        candidate, not for the whole index at load."""
        chunks = self.retriever.index.chunks
        row = self._row_of[chunk.id]
        # Two passages back and one ahead: a paragraph's subject ("哈佛大学的校友包括…") is
        # often named a passage or two before the sentence that answers.
        near = [other.text for other in chunks[max(0, row - 2) : row + 2] if other.doc_id == chunk.doc_id]
        headline = chunks[self._rows_of_document[chunk.doc_id][0]].embedding_text()  # the headline block
        return "\n".join((chunk.embedding_text(), *near, headline))

    def _attested(self, constraint: Constraint, language: str) -> Constraint:
        """A transliterated name (特斯拉; "Tesla", glossed so) is held loosely because the text
        might spell it otherwise; once the indexed text spells it so somewhere, it binds like a
        firm name: the passage that answers about it names it too, and one that names others is
        about them."""
        if constraint.strict or constraint.kind is not Kind.ENTITY:
            return constraint
        # An English word's first gloss: "Mark" is 迹象 before 马克, "Tesla" only 特斯拉.
        spellings = (constraint.surface,) if language == "zh" else constraint.forms[:1]
        attested = tuple(f for f in spellings if transliterated(f) and self._mentions.contains(f))
        return replace(constraint, strict=True) if attested else constraint

    def _of_asked_kind(self, constraints: tuple[Constraint, ...]) -> Callable[[str], bool] | None:
        """A check on the answer phrase itself where the question asks for a kind of place
        ("which city"): of "长三角地区…在上海举行", 上海 is a city and 长三角 a region."""
        kinds = [c for c in constraints if c.kind is Kind.PLACE_TYPE and c.strict]
        if not kinds:
            return None
        return lambda phrase: all(names_place_type(kind, phrase, self.glossary) for kind in kinds)

    def _by_name(self, focus: str, language: str, hits: list[Hit]) -> str:
        """The question with a speaker named by post ("江苏省长说") named as the retrieved
        documents name the holder ("刘小涛说"), so his remarks are what answers."""
        asked = speaker_by_post(focus, language, self.glossary)
        if asked is None:
            return focus
        documents = dict.fromkeys(hit.chunk.doc_id for hit in hits)
        sentences = (sentence.text for doc_id in documents for sentence, _ in self._sentences_in_order(doc_id))
        name = holder(asked, sentences, self.glossary)
        return with_holder(focus, language, asked, name) if name else focus

    def _remark_hits(self, hits: list[Hit], constraints: tuple[Constraint, ...]) -> list[Hit]:
        """For "刘小涛说…什么", the passages of the retrieved documents where he speaks, beyond
        those retrieved: only his remarks can answer, and the question's other words often pull
        retrieval to the roster line that names him or to another speaker's similar words."""
        speakers = [c for c in constraints if c.kind is Kind.SPEAKER and c.strict and checkable(c)]
        if not speakers:
            return []
        index = self.retriever.index
        have = {hit.chunk.id for hit in hits}
        extra: list[Hit] = []
        sources: dict[str, str] = {}
        for hit in hits:
            sources.setdefault(hit.chunk.doc_id, hit.source)
        for doc_id, source in sources.items():
            in_order = self._sentences_in_order(doc_id)
            texts = [sentence.text for sentence, _ in in_order]
            rows = {row for c in speakers for (_, row), theirs in zip(in_order, spoken_by(c, texts), strict=True) if theirs}
            for row in sorted(rows):
                chunk = index.chunks[row]
                if chunk.id not in have:
                    have.add(chunk.id)
                    extra.append(Hit(chunk=chunk, source=source, score=0.0, rank=len(hits) + len(extra) + 1))
        return extra

    def _sentences_in_order(self, doc_id: str) -> list[tuple[Sentence, int]]:
        """A document's sentences in reading order, each once, with the row of a chunk holding
        it; built from the chunks (a Milvus store keeps no document text), once per document."""
        cached = self._document_sentences.get(doc_id)
        if cached is not None:
            return cached
        chunks = self.retriever.index.chunks
        seen: dict[tuple[tuple[int, int], ...], tuple[Sentence, int]] = {}
        for row in self._rows_of_document.get(doc_id, ()):
            for sentence in chunks[row].sentences:
                if sentence.spans:
                    seen.setdefault(sentence.spans, (sentence, row))
        in_order = sorted(seen.values(), key=lambda item: item[0].spans[0][0])
        self._document_sentences[doc_id] = in_order
        return in_order

    def _document_text(self, doc_id: str) -> str:
        """A document's text, sentence by sentence (whether it names a what-question's subject)."""
        return "\n".join(sentence.text for sentence, _ in self._sentences_in_order(doc_id))

    @cached_property
    def _rows_of_document(self) -> dict[str, list[int]]:
        """doc id -> the rows of its chunks, in order (the first is its headline block)."""
        rows: dict[str, list[int]] = {}
        for row, chunk in enumerate(self.retriever.index.chunks):
            rows.setdefault(chunk.doc_id, []).append(row)
        return rows

    def _text_before(self, item: ScoredSentence) -> str:
        """The document's sentences before this one: whose remarks it continues is said there."""
        if not item.sentence.spans:
            return ""
        start = item.sentence.spans[0][0]
        in_order = self._sentences_in_order(item.chunk.doc_id)
        return "\n".join(sentence.text for sentence, _ in in_order if sentence.spans[0][0] < start)

    @cached_property
    def term_statistics(self) -> TermStatistics:
        return TermStatistics.build(s.text for chunk in self.retriever.index.chunks for s in chunk.sentences)

    @cached_property
    def _hubs(self) -> dict[str, np.ndarray | None]:
        """Per language, each sentence's pull on every question (computed once per index)."""
        vectors = self.retriever.index.sentence_vectors
        return {
            language: hub_scores(vectors, self.mean_questions, language)
            for language in self.weights.hubness
        }

    def warm_up(self) -> None:
        self.term_statistics  # noqa: B018 - computed once, then cached
        self._mentions  # noqa: B018
        self._hubs  # noqa: B018
        self.refusal  # noqa: B018
        self.answer("warm up 预热", top_k=1, use_llm=False)
        # The glossary's English index and first senses (~0.4 s), which a Chinese question does
        # not touch and an English one that is refused early may not either; then an English
        # question for the rest of its path.
        if self.glossary is not None:
            self.glossary.warm_up()
        self.answer("Who attended the meeting in Shanghai?", top_k=1, use_llm=False)

    # --- evidence -------------------------------------------------------------------------
    def gather(
        self, question: str, history: Sequence[Turn] = (), top_k: int = 5, mode: str = "hybrid"
    ) -> Evidence:
        """Retrieve passages for `question` and rank their sentences."""
        language = detect_language(question)
        rewritten = rewrite_query(question, history, language)
        if language == "en":
            top_k = min(MAX_TOP_K, top_k * EN_READ_FACTOR)
        retrieval = self.retriever.search(rewritten.retrieval, k=top_k, mode=mode, language=language)
        started = time.perf_counter()
        query_vector = retrieval.query_vector
        if rewritten.focus != rewritten.retrieval:
            query_vector = self.retriever.embedder.embed_queries([rewritten.focus])[0]
        translations = retrieval.translations or self._translations(rewritten.focus, language)
        terms = question_terms(rewritten.focus, language, translations)
        qtype = classify(rewritten.focus, language)
        constraints = parse(self._by_name(rewritten.focus, language, retrieval.hits), language, self.glossary)
        constraints = tuple(self._attested(c, language) for c in constraints)
        ranked = self._rank_sentences(
            [*retrieval.hits, *self._remark_hits(retrieval.hits, constraints)],
            query_vector,
            terms,
            language,
            _YEAR.findall(rewritten.focus),
            retrieval.agreed_top,
            frozenset(subject_terms(rewritten.focus) & terms) if language == "zh" else frozenset(),
        )
        fits = self._of_asked_kind(constraints)
        ranked = self._by_answer_type(ranked, rewritten.focus, qtype, language, fits)
        ranked = _titled_first(ranked, rewritten.focus, language)
        names = [c.surface for c in constraints if c.pinyin_name]
        if language == "en" and self.glossary is not None and unrelated(
            rewritten.focus, self.glossary, self._mentions, names
        ):
            # Nothing the question is about occurs in the report: whatever sentence sits
            # nearest in meaning, it is not about this.
            verification = Verification([], (), None)
        else:
            verification = self._verify(ranked, constraints, qtype, rewritten.focus, language, fits, terms)
            best = verification.verified[0] if verification.verified else None
            if (
                language == "en"
                and self.glossary is not None
                and best is not None
                and best.dense < FOREIGN_MAX_SIMILARITY
                and shares_nothing(rewritten.focus, best.sentence.text, self.glossary, names)
                and not self._ties(constraints, best.sentence.text, names)
            ):
                # The sentence to quote renders none of the question's words, meets none of its
                # constraints, and sits no closer in meaning than off-topic questions do: it is
                # not about this.
                verification = Verification([], (), None)
        features = self._features(verification.verified, retrieval.hits, terms, rewritten.focus, qtype)
        # English words glossed loosely ("Ministry of Commerce") that nothing in the report
        # matches: too unsure to refuse on alone, but evidence that the question is elsewhere.
        loose = [c for c in constraints if not c.strict and c.forms]
        features["loose_absent"] = (
            sum(not self._mentions.met(c) for c in loose) / len(loose) if loose else 0.0
        )
        retrieval.timings_ms["sentence_selection"] = (time.perf_counter() - started) * 1000.0
        return Evidence(
            question=question,
            focus=rewritten.focus,
            language=language,
            qtype=qtype,
            retrieval=retrieval,
            ranked=verification.verified,
            features=features,
            constraints=constraints,
            unmet=verification.unmet,
            partial=verification.partial,
            absent=verification.absent,
        )

    @staticmethod
    def _ties(constraints: tuple[Constraint, ...], sentence: str, names: list[str]) -> bool:
        """Whether `sentence` is tied to the question by more than its words: a name it spells
        (Liang Yanshun, 梁言顺), a firm constraint it meets, or a speaker whose remarks it
        continues ("What did Jiangsu's governor say?": his words need not name Jiangsu)."""
        if any(names_in_text(name, sentence) for name in names):
            return True
        return any(
            c.kind is Kind.SPEAKER or (c.strict and c.forms and c.kind in _NAMING_KINDS and met(c, sentence))
            for c in constraints
        )

    def _verify(
        self,
        ranked: list[ScoredSentence],
        constraints: tuple[Constraint, ...],
        qtype: QuestionType,
        focus: str,
        language: str,
        fits: Callable[[str], bool] | None = None,
        terms: set[str] | None = None,
    ) -> Verification:
        """The candidates that meet every constraint of the question, in rank order.

        A constraint the whole report lacks ("杭州", "省会") fails every sentence. Otherwise each
        of the top candidates is checked with its surroundings; one that fails is not the answer
        however similar its words, and the next one that passes is taken."""
        person_asked = qtype is QuestionType.WHO or (
            qtype is QuestionType.NAME and any(c.kind is Kind.ROLE for c in constraints)
        )
        fact_asked = qtype in TYPED
        # The retrieved passages are part of the corpus text, so one check covers both.
        missing = [c for c in absent(constraints, self._mentions.mentioned) if c.strict]
        bound = [c for c in constraints if binding(c, person_asked, fact_asked)]
        in_document = [c for c in constraints if document_bound(c, fact_asked)]
        if qtype in SLOT_CHECKED:
            # A who-question is answered by a name: among the close candidates, one holding a
            # person goes before one that does not ("领导座谈会" for "who leads..."), as a date
            # does for a when-question. The others stay: the extractor misses names often enough
            # (XQuAD's transliterations) that dropping them lost more answers than it saved.
            depth, margin = SLOT_REORDER[qtype]
            head = [item for item in ranked[:depth] if item.score >= ranked[0].score - margin]
            filled = [self._filled(item, focus, qtype, language, fits, terms) for item in head]
            rest = [item for item, f in zip(head, filled, strict=True) if not f] + ranked[len(head) :]
            ranked = [f for f in filled if f] + rest
        if not bound and not missing and not in_document:
            return Verification(ranked, (), None)
        verified: list[ScoredSentence] = []
        best_partial: tuple[int, ScoredSentence, list[Constraint]] | None = None
        failing: dict[Constraint, int] = {}
        unnamed_in: dict[str, list[Constraint]] = {}
        # A list, or a kind of place, is looked for only among the closest candidates: when they
        # mention the set without listing it (the province without its city), a list or a city
        # further down is one of something else.
        narrow = any(c.kind in (Kind.MEMBERS, Kind.PLACE_TYPE) for c in bound)
        depth = NARROW_DEPTH if narrow else VERIFY_DEPTH
        if language == "en" and any(c.kind is Kind.MEMBERS for c in bound) and not any(
            c.kind is Kind.PLACE_TYPE for c in bound
        ):
            depth = NARROW_DEPTH_EN_LIST
        speaker_asked = any(c.kind is Kind.SPEAKER for c in bound)
        members_asked = any(c.kind is Kind.MEMBERS for c in bound)
        if speaker_asked and _WHAT_WAS_SAID.search(focus):
            # Asked what someone said, any of his remarks answers, and a question naming him by
            # post ("江苏省长说了什么") ranks them below the roster line that gives the post. A
            # thing he spoke of ("Which strategy did…") is looked for as closely as any.
            depth = len(ranked)
        documents: dict[str, str] = {}  # each candidate document's text, joined once
        for item in ranked[:depth]:
            doc_id = item.chunk.doc_id
            if (members_asked or in_document) and doc_id not in documents:
                documents[doc_id] = self._document_text(doc_id)
            checks = check(
                bound,
                item.sentence.text,
                self._surroundings(item.chunk),
                person_asked,
                fact_asked,
                self.glossary,
                before=self._text_before(item) if speaker_asked or members_asked else None,
                document=documents[doc_id] if members_asked else None,
            )
            failed = [c.constraint for c in checks if not c.met]
            if doc_id not in unnamed_in:  # once per document: a pinyin name is sought in all of it
                document = documents.get(doc_id, "")
                unnamed_in[doc_id] = [c for c in in_document if not named_in_document(c, document, self.glossary)]
            unnamed = unnamed_in[doc_id]
            if not failed and not unnamed and not missing:
                verified.append(item)
                continue
            for constraint in failed + unnamed:
                failing[constraint] = failing.get(constraint, 0) + 1
            # The closest candidate meets the most constraints, in its own words where it can:
            # a partial refusal should cite a sentence that names the subject itself.
            met_count = (
                2 * (len(checks) - len(failed))
                + sum(c.met and met(c.constraint, item.sentence.text) for c in checks)
                + sum(_names_the_set(c, item.sentence.text) for c in failed)
            )
            if met_count and (best_partial is None or met_count > best_partial[0]):
                best_partial = (met_count, item, failed + unnamed)
        if verified:
            return Verification(verified, (), None)
        contradiction = _contradicting(missing, ranked)
        if contradiction is not None:
            # A title the question gives that the report gives otherwise: the line that says
            # what it does give is the evidence to cite.
            return Verification([], tuple(missing), contradiction, tuple(missing))
        if best_partial is not None:
            # What the closest candidate lacks is what the report does not say.
            return Verification(
                [], tuple(dict.fromkeys([*missing, *best_partial[2]])), best_partial[1], tuple(missing)
            )
        unmet = tuple(dict.fromkeys([*missing, *sorted(failing, key=lambda c: -failing[c])]))
        return Verification([], unmet, None, tuple(missing))

    def _translations(self, text: str, language: str) -> list[str]:
        if language != "en" or self.glossary is None:
            return []
        return list(self.glossary.translate_terms(text))

    def _rank_sentences(
        self,
        hits: list[Hit],
        query_vector: np.ndarray,
        terms: set[str],
        language: str,
        years: list[str],
        agreed: bool = False,
        subject: frozenset[str] = frozenset(),
    ) -> list[ScoredSentence]:
        """agreed: the first passage is first on both retrieval sides (its sentences get
        `weights.agreed_passage`). subject: the terms of what the question asks about, which
        the sentence before may supply (`weights.context_coverage`)."""
        index = self.retriever.index
        row_of = self._row_of  # built once per loaded index
        stats = self.term_statistics
        seen: set[tuple[str, tuple[tuple[int, int], ...]]] = set()
        scored: list[ScoredSentence] = []
        cover_weight = self.weights.coverage.get(language, 0.2)
        agreed_bonus = self.weights.agreed_passage.get(language, 0.0) if agreed else 0.0
        hub_weight = self.weights.hubness.get(language, 0.0)
        context_weight = self.weights.context_coverage.get(language, 0.0)
        hubs = self._hubs.get(language) if hub_weight else None
        for hit in hits:
            chunk_row = row_of[hit.chunk.id]
            previous: set[str] = set()  # the terms of the sentence before, in this passage
            for sentence, sentence_row in zip(
                hit.chunk.sentences, index.sentence_rows[chunk_row], strict=True
            ):
                own = text_terms(sentence.text)
                before, previous = previous, own
                key = (hit.chunk.doc_id, sentence.spans)
                if key in seen or len(sentence.text) < MIN_SENTENCE_CHARS:
                    continue
                seen.add(key)
                dense = float(np.dot(index.sentence_vectors[sentence_row], query_vector))
                if hubs is not None:
                    dense -= hub_weight * float(hubs[sentence_row])
                cover = coverage(terms, own, stats)
                score = dense + cover_weight * cover + self.weights.passage_rank / hit.rank
                if context_weight and before and subject:
                    # What the question asks about may be named only in the sentence before
                    # ("拔除插头测试于…开始。" / "在舱门打开之前，宇航员已窒息。").
                    in_context = coverage(terms, own | (before & subject), stats)
                    score += context_weight * (in_context - cover)
                if hit.rank == 1:
                    score += agreed_bonus
                sentence_years = _YEAR.findall(sentence.text)
                if years and sentence_years and not set(years) & set(sentence_years):
                    score -= self.weights.other_year
                scored.append(ScoredSentence(sentence, hit.chunk, hit, dense, cover, score))
        scored.sort(key=lambda s: -s.score)
        return scored

    def _by_answer_type(
        self,
        ranked: list[ScoredSentence],
        focus: str,
        qtype: QuestionType,
        language: str,
        fits: Callable[[str], bool] | None = None,
    ) -> list[ScoredSentence]:
        """Extract the answer phrase from the top sentences; those that hold one move up."""
        depth = self.weights.answer_type_depth
        top = []
        for item in ranked[:depth]:
            short = extract_short_answer(focus, item.sentence.text, qtype, language, self.glossary, fits)
            if short and not fills_slot(short, item.sentence.text, qtype):
                short = None  # the extractor's best guess is not of the asked kind
            bonus = self.weights.answer_type if short else 0.0
            if short and language == "zh":
                # The phrase stands where the question word stands ("在哪里举行" / "在上海举行"),
                # not merely somewhere in a sentence that shares words ("此次座谈会以及长三角…").
                aligned = phrase_alignment(focus, item.sentence.text, short)
                if qtype is QuestionType.WHAT and not (aligned or asked_noun_shared(focus, short)):
                    # A quoted term that is neither the asked kind of thing nor where the question
                    # word stands ("两个确立" for "要共建什么样的公共服务平台") says nothing about
                    # whether the sentence answers: no bonus (report dev zh accuracy 0.875 ->
                    # 0.889, XQuAD zh dev half unchanged at 0.7026). It may still be the lead.
                    bonus = 0.0
                bonus += self.weights.aligned_phrase * min(aligned, MAX_ALIGNED_CHARS)
            elif short and qtype is QuestionType.WHAT:
                # "What is the theme…" and "以“…”为主题": the sentence names the phrase as the
                # asked thing, as an aligned Chinese phrase stands where the question word does.
                named = phrase_named_as(focus, item.sentence.text, short, self.glossary)
                bonus += self.weights.aligned_phrase * min(named, MAX_ALIGNED_CHARS)
            elif not short and language == "zh" and qtype in PHRASE_TYPES:
                # A what-question's answer has no type to look for, but the sentence that holds
                # it has the question's words around the open slot ("构建…什么共同体" /
                # "构建长三角区域发展共同体"). Report dev zh accuracy 0.907 -> 0.915, XQuAD zh
                # dev half 0.7042 -> 0.7059 at this weight; twice it raised dev false answers.
                bonus += self.weights.aligned_phrase * min(slot_alignment(focus, item.sentence.text), MAX_ALIGNED_CHARS)
            top.append(replace(item, short_answer=short, score=item.score + bonus))
        return sorted(top, key=lambda s: -s.score) + ranked[depth:]

    def _filled(
        self,
        item: ScoredSentence,
        focus: str,
        qtype: QuestionType,
        language: str,
        fits: Callable[[str], bool] | None = None,
        terms: set[str] | None = None,
    ) -> ScoredSentence | None:
        """`item` with its answer phrase when it has one of the asked kind, else None. `terms`:
        the question's, which a title must hold for a date inside it to answer a when-question."""
        short = item.short_answer or extract_short_answer(
            focus, item.sentence.text, qtype, language, self.glossary, fits
        )
        if not short or not fills_slot(short, item.sentence.text, qtype, terms):
            return None
        return replace(item, short_answer=short)

    def _features(
        self, ranked: list[ScoredSentence], hits: list[Hit], terms: set[str], focus: str, qtype: QuestionType
    ) -> dict[str, float]:
        """Evidence features for the refusal model (names are the calibration file's keys)."""
        if not ranked or not hits:
            return dict.fromkeys(FEATURES, 0.0) | {"specifics_missing": 1.0, "unknown_terms": 1.0}
        best = ranked[0]
        top = hits[0]
        stats = self.term_statistics
        passage_text = normalize(top.chunk.embedding_text())
        specifics = _SPECIFIC.findall(normalize(focus))
        missing = [value for value in specifics if value not in passage_text]
        unknown_weight = sum(stats.idf(t) for t in terms if stats.frequencies.get(t, 0) == 0)
        total_weight = sum(stats.idf(t) for t in terms) or 1.0
        return {
            "sentence_dense": best.dense,
            "sentence_coverage": best.coverage,
            "passage_coverage": coverage(terms, text_terms(top.chunk.embedding_text()), stats),
            "passage_dense": float(top.dense_score or 0.0),
            # A year, number or edition the question names but the passage lacks ("2025年度" when
            # the report covers 2026) is the commonest near-miss.
            "specifics_missing": len(missing) / len(specifics) if specifics else 0.0,
            # Terms that occur nowhere in the indexed text ("亚运会"): the question is elsewhere.
            "unknown_terms": unknown_weight / total_weight,
            "typed_without_phrase": float(qtype in TYPED and best.short_answer is None),
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
        if self._use_llm(use_llm):
            answer = self._generative(evidence, history, fallback=answer)
        timings = {**evidence.retrieval.timings_ms, **answer.timings_ms}
        timings["total"] = (time.perf_counter() - started) * 1000.0
        return replace(answer, timings_ms=timings)

    def _extractive(self, evidence: Evidence) -> Answer:
        started = time.perf_counter()
        language = evidence.language
        refusal = self.refusal.model(language)
        confidence = refusal.probability(evidence.features) if evidence.ranked else 0.0
        base: dict[str, Any] = {
            "question": evidence.question,
            "language": language,
            "answerer": "extractive",
            "confidence": confidence,
            "retrieval_query": evidence.retrieval.query,
        }
        if evidence.unmet:
            return self._unmet(evidence, base, started)
        if not evidence.ranked or confidence < refusal.threshold:
            return _plain_refusal(evidence, base, {"answer": (time.perf_counter() - started) * 1000.0})
        chosen, short = self._choose(evidence)
        citations = tuple(self._citation(n, item) for n, item in enumerate(chosen, start=1))
        lines = []
        if language == "en":
            # An English reader gets the answer glossed where a dictionary or a reading can, and
            # the Chinese sentence quoted, never translated by guesswork.
            if short:
                lines.append(f"{with_gloss(short, self.glossary)} [1]")
            lines.extend(f"{quote(item.sentence.text)} [{n}]" for n, item in enumerate(chosen, start=1))
        else:
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

    def _unmet(self, evidence: Evidence, base: dict[str, Any], started: float) -> Answer:
        """A refusal that names what the report lacks; with partial evidence, it cites what the
        report does say about the subject."""
        language = evidence.language
        missing = tuple(c.surface for c in evidence.unmet)
        partial = evidence.partial
        mentioned = [
            c.surface
            for c in evidence.constraints
            if partial is not None
            and c.kind not in ASKED_KINDS  # "具体包括哪些" reads badly as "mentioned"
            and c not in evidence.unmet
            and _says(c, partial.sentence.text + "\n" + self._surroundings(partial.chunk))
        ]
        if partial is not None:
            mentioned += [_set_named(c, partial.sentence.text) for c in evidence.unmet if _names_the_set(c, partial.sentence.text)]
        # "长三角" goes without saying next to "长三角世界级港口群".
        mentioned = [
            m for m in dict.fromkeys(mentioned) if not any(m != other and m in other for other in mentioned)
        ]
        timings = {"answer": (time.perf_counter() - started) * 1000.0}
        # a title the cited line gives the person otherwise: said so, rather than what is mentioned
        otherwise = next((c for c in evidence.unmet if partial is not None and _titles_otherwise(c, partial)), None)
        if partial is None or not (mentioned or otherwise):
            return _plain_refusal(evidence, base, timings, missing)
        if otherwise is not None:
            text = _titled_otherwise_text(otherwise, language)
        else:
            separator = "、" if language == "zh" else ", "
            quoted = (lambda text: text) if language == "zh" else (lambda text: f"“{text}”")
            # "does not say anything about X" only of what the report never names (found absent
            # by the report-wide check in `_verify`) and of what the question asks for
            nowhere = [c for c in evidence.unmet if c.kind in ASKED_KINDS or c in evidence.absent]
            if any(c.kind is Kind.PLACE_TYPE for c in nowhere):
                # "哪些城市" says what "具体包括哪些" would: the list asked for is of those places
                nowhere = [c for c in nowhere if c.kind is not Kind.MEMBERS]
            if nowhere and all(c.kind in ASKED_KINDS for c in nowhere):
                asked = [c.surface if language == "zh" else c.surface[:1].lower() + c.surface[1:] for c in nowhere]
                text = PARTIAL_ASKED[language].format(
                    mentioned=separator.join(quoted(m) for m in mentioned), missing=separator.join(asked)
                )
            else:
                template = PARTIAL if nowhere else PARTIAL_APART
                text = template[language].format(
                    mentioned=separator.join(quoted(m) for m in mentioned),
                    missing=separator.join(quoted(m) for m in ([c.surface for c in nowhere] or missing)),
                )
        cited = f"{partial.sentence.text} [1]" if language == "zh" else f"{quote(partial.sentence.text)} [1]"
        return Answer(
            answer=f"{text}\n\n{cited}",
            short_answer=None,
            found=False,
            citations=(self._citation(1, partial),),
            related=tuple(evidence.retrieval.hits[:3]),
            timings_ms=timings,
            partial=True,
            missing=missing,
            **base,
        )

    def _choose(self, evidence: Evidence) -> tuple[list[ScoredSentence], str | None]:
        """The supporting sentence(s) and the answer phrase found in the first of them.

        A second sentence is added only when no answer phrase was found and it scores nearly
        as well: then the answer may need both."""
        best = _fullest(evidence.ranked)
        rest = [item for item in evidence.ranked if item is not best]
        chosen = [best]
        if (
            best.short_answer is None
            and rest
            and best.score - rest[0].score <= self.weights.second_sentence_margin
        ):
            chosen.append(rest[0])
        person = posts_asked_of(evidence.focus, evidence.language)
        if person is not None:
            # a person's posts are the titles the sentence gives him, or nothing: never another
            # name's titles from the same list
            return chosen, titles_of(person, best.sentence.text, evidence.language)
        return chosen, self._listed(evidence, best) or best.short_answer or _phrase(evidence, best, self.glossary)

    @staticmethod
    def _listed(evidence: Evidence, best: ScoredSentence) -> str | None:
        """A list asked for is answered by the list itself ("龚正、刘小涛、刘捷、王清宪")."""
        for constraint in evidence.constraints:
            if constraint.kind is Kind.MEMBERS and met(constraint, best.sentence.text):
                return members_span(best.sentence.text, constraint.forms[0], names_asked_set(constraint))
        return None

    def _citation(self, n: int, item: ScoredSentence) -> Citation:
        return Citation.of(n, item.hit, item.sentence, item.score)

    # --- generative -----------------------------------------------------------------------
    def _use_llm(self, use_llm: bool | None) -> bool:
        return self.llm is not None and use_llm is not False

    def _generative(self, evidence: Evidence, history: Sequence[Turn], fallback: Answer) -> Answer:
        from rag.answering.llm import LLMError, generate_answer, renumber

        if evidence.unmet:
            return self._not_asked(fallback, evidence)
        numbers, excerpts = llm_passages(evidence)
        watch = self._first_sentence_check(evidence, numbers)
        started = time.perf_counter()
        try:
            reply = generate_answer(
                self.llm,
                evidence.question,
                evidence.language,
                excerpts,
                [(turn.question, turn.answer) for turn in history],
                watch=watch,
            )
        except LLMError as exc:
            return self._failed(fallback, exc, (time.perf_counter() - started) * 1000.0, watch)
        llm_ms = (time.perf_counter() - started) * 1000.0
        return self._from_reply(renumber(reply, numbers), evidence, fallback, llm_ms, watch)

    def _first_sentence_check(self, evidence: Evidence, numbers: list[int]) -> FirstSentenceCheck | None:
        """The watch that stops a reply whose first sentence the check drops (None: check off)."""
        if not self.verify:
            return None
        from rag.answering.first_sentence import FirstSentenceCheck

        return FirstSentenceCheck(lambda claim: self._check([claim], evidence).verdicts[0], numbers)

    def _failed(
        self, fallback: Answer, error: Exception, llm_ms: float, watch: FirstSentenceCheck | None
    ) -> Answer:
        """The fallback for an LLM call that raised; with what the first-sentence check found."""
        if watch is None or watch.verdict is None:
            return self._fell_back(fallback, _llm_notice(error), llm_ms)
        return self._fell_back(
            fallback,
            _llm_notice(error),
            llm_ms,
            timings_ms={"grounding": watch.check_ms},
            grounding=watch.counts(),
        )

    def _not_asked(self, fallback: Answer, evidence: Evidence) -> Answer:
        """The report lacks what the question asks (the constraints no passage meets): any LLM
        answer but a refusal would fall back (`_not_an_answer`), so the model is not asked, and
        the extractive refusal says what is missing."""
        missing = ", ".join(c.surface for c in evidence.unmet)
        return self._fell_back(fallback, f"the report does not say {missing}, so the LLM was not asked", 0.0)

    def _fell_back(self, fallback: Answer, notice: str, llm_ms: float, **changes: Any) -> Answer:
        """The extractive answer in place of the LLM's, saying why and what the LLM cost."""
        timings = {**fallback.timings_ms, "llm": llm_ms, **changes.pop("timings_ms", {})}
        return replace(
            fallback, answerer="extractive (fallback)", notice=notice, timings_ms=timings, **changes
        )

    def _from_reply(
        self,
        reply: Any,
        evidence: Evidence,
        fallback: Answer,
        llm_ms: float,
        watch: FirstSentenceCheck | None = None,
    ) -> Answer:
        """The Answer for an LLM reply: its refusal, its checked and cited text, or the extractive
        fallback. `watch` holds the first sentence's verdict when it was checked as it streamed."""
        hits = evidence.retrieval.hits
        timings = {**fallback.timings_ms, "llm": llm_ms}
        if reply.refused:
            return replace(
                fallback,
                answer=REFUSAL[evidence.language],
                short_answer=None,
                found=False,
                citations=(),
                related=tuple(hits[:3]),
                answerer="llm+checked" if self.verify else "llm",
                timings_ms=timings,
                partial=False,
            )
        if not reply.cited:
            return self._fell_back(
                fallback, "the LLM answer cited no passage; extractive answer shown", llm_ms
            )
        text, cited, answerer, grounding = reply.text, reply.cited, "llm", {}
        if self.verify:
            started = time.perf_counter()
            known = (watch.verdict,) if watch is not None and watch.verdict is not None else ()
            checked = self._ground(reply.text, evidence, known)
            # the check's own time, the first sentence's part (while the reply streamed) included
            timings["grounding"] = (time.perf_counter() - started) * 1000.0 + (
                watch.check_ms if watch else 0.0
            )
            grounding = dict(checked.counts)
            problem = self._not_an_answer(checked, evidence)
            if problem:
                return self._fell_back(
                    fallback,
                    f"{problem}; extractive answer shown",
                    llm_ms,
                    timings_ms=timings,
                    grounding=grounding,
                )
            text, answerer = checked.text(), "llm+checked"
            cited = list(dict.fromkeys(n for verdict in checked.kept for n in verdict.cited))
        text, citations = self._renumber(text, cited, evidence)
        return replace(
            fallback,
            answer=text,
            short_answer=fallback.short_answer if fallback.found else None,
            found=True,
            citations=citations,
            related=(),
            answerer=answerer,
            timings_ms=timings,
            partial=False,
            missing=(),
            grounding=grounding,
        )

    def _ground(self, text: str, evidence: Evidence, known: Sequence[Verdict] = ()) -> Grounding:
        """Each sentence of an LLM answer checked against the retrieved passages it cites (those
        with a verdict in `known` are not checked again)."""
        from rag.answering.grounding import split_claims

        return self._check(split_claims(text), evidence, known)

    def _check(self, claims: Sequence[Claim], evidence: Evidence, known: Sequence[Verdict] = ()) -> Grounding:
        from rag.answering.grounding import check

        hits = evidence.retrieval.hits
        index = self.retriever.index
        return check(
            claims,
            [hit.chunk.text for hit in hits],
            [index.sentence_vectors[index.sentence_rows[self._row_of[hit.chunk.id]]] for hit in hits],
            self.retriever.embedder.embed_queries,
            evidence.language,
            self.glossary,
            known=known,
        )

    @cached_property
    def _row_of(self) -> dict[str, int]:
        return {chunk.id: row for row, chunk in enumerate(self.retriever.index.chunks)}

    def _not_an_answer(self, checked: Any, evidence: Evidence) -> str:
        """Why what the check kept does not answer the question ("" when it does): nothing kept,
        the report lacks what the question asks (the extractive side found it missing), or the
        kept sentences and their passages do not meet the question's constraints."""
        total = len(checked.verdicts)
        if not checked.kept:
            return (
                f"the check dropped all {total} sentences of the LLM answer (unsupported by their passages)"
            )
        if evidence.unmet:
            missing = ", ".join(c.surface for c in evidence.unmet)
            return f"the LLM answered, but the report does not say {missing}"
        hits = evidence.retrieval.hits
        kept_text = "\n".join(
            [v.claim.text for v in checked.kept]
            + [hits[n - 1].chunk.text for v in checked.kept for n in v.cited]
        )
        person_asked = evidence.qtype is QuestionType.WHO
        unmet = [
            c.surface
            for c in evidence.constraints
            if binding(c, person_asked, evidence.qtype in TYPED) and not met(c, kept_text)
        ]
        if unmet:
            return f"the checked LLM answer does not mention {', '.join(unmet)}"
        return ""

    def _renumber(self, text: str, cited: list[int], evidence: Evidence) -> tuple[str, tuple[Citation, ...]]:
        """Markers in order of first use; each cites the passage's best-scoring sentence."""
        import re

        hits = evidence.retrieval.hits
        new_number = {old: new for new, old in enumerate(cited, start=1)}
        text = re.sub(r"\[(\d+)\]", lambda m: f"[{new_number.get(int(m.group(1)), '')}]", text).replace(
            "[]", ""
        )
        citations = tuple(_passage_citation(new, hits[old - 1], evidence) for old, new in new_number.items())
        return text, citations

    def stream(
        self, question: str, history: Sequence[Turn] = (), top_k: int = 5, use_llm: bool | None = None
    ) -> Iterator[AnswerEvent]:
        """Events for a streaming client: Citations, Delta..., Done (see rag.events).

        With an LLM the deltas are its tokens as they arrive and "citations" lists the numbered
        passages it may cite; the final Answer (in "done") holds the cleaned text and the
        citations actually used, or the extractive answer when the LLM failed.
        """
        started = time.perf_counter()
        if not self._use_llm(use_llm):
            answer = self.answer(question, history, top_k, use_llm=False)
            yield Citations(answer.citations)
            for piece in _pieces(answer.answer):
                yield Delta(piece)
            yield Done(answer)
            return
        from rag.answering.llm import LLMError, parse_reply, renumber, stream_answer

        evidence = self.gather(question, history, top_k)
        fallback = self._extractive(evidence)
        if evidence.unmet:
            answer = self._not_asked(fallback, evidence)
            yield Citations(answer.citations)
            for piece in _pieces(answer.answer):
                yield Delta(piece)
            timings = {
                **evidence.retrieval.timings_ms,
                **answer.timings_ms,
                "total": (time.perf_counter() - started) * 1000.0,
            }
            yield Done(replace(answer, timings_ms=timings))
            return
        hits = evidence.retrieval.hits
        numbers, excerpts = llm_passages(evidence)
        # Numbered as the model sees them, so that the streamed [n] point at the right passage.
        yield Citations(
            tuple(
                _passage_citation(n, hit, evidence)
                for n, hit in enumerate((hits[number - 1] for number in numbers), start=1)
            )
        )
        watch = self._first_sentence_check(evidence, numbers)
        llm_started = time.perf_counter()
        parts: list[str] = []
        try:
            for delta in stream_answer(
                self.llm,
                evidence.question,
                evidence.language,
                excerpts,
                [(turn.question, turn.answer) for turn in history],
                watch=watch,
            ):
                parts.append(delta)
                yield Delta(delta)
        except LLMError as exc:
            answer = self._failed(fallback, exc, (time.perf_counter() - llm_started) * 1000.0, watch)
        else:
            # The final answer is the checked one: when the check changed the streamed text,
            # "done" carries the corrected answer, and clients show it in place of the deltas.
            llm_ms = (time.perf_counter() - llm_started) * 1000.0
            reply = renumber(parse_reply("".join(parts), len(excerpts)), numbers)
            answer = self._from_reply(reply, evidence, fallback, llm_ms, watch)
        timings = {
            **evidence.retrieval.timings_ms,
            **answer.timings_ms,
            "total": (time.perf_counter() - started) * 1000.0,
        }
        yield Done(replace(answer, timings_ms=timings))


def _names_the_set(constraint: Constraint, sentence: str) -> bool:
    """A list asked for whose set the sentence names without listing it ("五个中心")."""
    return bool(_set_named(constraint, sentence))


def _set_named(constraint: Constraint, sentence: str) -> str:
    """The asked set's name as `sentence` writes it ("实事项目清单" for 2026年度实事项目清单), or ""."""
    if constraint.kind is not Kind.MEMBERS:
        return ""
    named = set_mention(sentence, constraint.forms[0])
    if named.count("“") != named.count("”"):  # an ending cut inside quotes: "一网通办”三年行动计划"
        named = named.replace("“", "").replace("”", "")
    return named.strip("\"")


def _contradicting(missing: list[Constraint], ranked: list[ScoredSentence]) -> ScoredSentence | None:
    """The first candidate that titles the holder of a missing title otherwise ("浙江省委书记王浩"
    against "安徽省委书记王浩")."""
    titles = [c for c in missing if c.kind is Kind.TITLED]
    for item in ranked if titles else []:
        if any(_titles_otherwise(c, item) for c in titles):
            return item
    return None


def _titles_otherwise(constraint: Constraint, item: ScoredSentence) -> bool:
    """Whether the candidate gives the person a TITLED constraint names another title."""
    has_holder = bool(constraint.holder) or constraint.pinyin_name
    return constraint.kind is Kind.TITLED and has_holder and titles_in(constraint, item.sentence.text)[1]


def _titled_otherwise_text(constraint: Constraint, language: str) -> str:
    """The refusal of a title the report gives the person otherwise: "报告没有说王浩是安徽省委书记[1]。"."""
    holder = constraint.holder[0] if constraint.holder else constraint.speaker
    title = constraint.surface.replace(holder, "").strip()
    return TITLED_OTHERWISE[language].format(holder=holder, title=title)


def _plain_refusal(
    evidence: Evidence, base: dict[str, Any], timings: dict[str, float], missing: tuple[str, ...] = ()
) -> Answer:
    """Not in the report: the refusal sentence, no citation, the closest passages as related."""
    return Answer(
        answer=REFUSAL[evidence.language],
        short_answer=None,
        found=False,
        citations=(),
        related=tuple(evidence.retrieval.hits[:3]),
        timings_ms=timings,
        missing=missing,
        **base,
    )


_PUNCTUATION_AND_SPACE = re.compile(r"[\s\W_]+")

# What the LLM reads: reading the prompt dominates a small model's time (Gemma 3 270M on one core
# reads ~90-200 tokens/s; five whole passages are 500-800 tokens, ~7 s), so it gets excerpts: the
# best candidate sentence of each of the top passages, the best one with the sentences around it.
# Measured on the 310 answerable report questions the LLM is asked (bench/llm_excerpts.py), the
# gold evidence stands in the excerpts for 0.823 with every sentence windowed (255 characters,
# median), 0.810 with only the first (172), 0.790 with none (123).
LLM_PASSAGES = 3
EXCERPT_CHARS = 160  # a window longer than this is cut to the candidate sentence alone


def llm_passages(evidence: Evidence, limit: int = LLM_PASSAGES) -> tuple[list[int], list[str]]:
    """The passages to send the LLM: (the retrieved passage's 1-based number, an excerpt) pairs,
    as two lists, best candidate first. The excerpts are the passages' best candidate sentences,
    the first with its neighbours; with fewer than two candidates' passages, the top passages'
    first sentences make up two."""
    hits = evidence.retrieval.hits
    number_of = {hit.chunk.id: n for n, hit in enumerate(hits, start=1)}
    chosen: dict[int, tuple[Chunk, Sentence]] = {}
    for item in evidence.ranked:
        number = number_of.get(item.chunk.id)
        if number is not None and number not in chosen:
            chosen[number] = (item.chunk, item.sentence)
        if len(chosen) == limit:
            break
    for number, hit in enumerate(hits, start=1):
        if len(chosen) >= min(limit, 2) or not hit.chunk.sentences:
            break
        chosen.setdefault(number, (hit.chunk, hit.chunk.sentences[0]))
    excerpts = [
        _window(chunk, sentence) if i == 0 else sentence.text
        for i, (chunk, sentence) in enumerate(chosen.values())
    ]
    return list(chosen), excerpts


def _window(chunk: Chunk, sentence: Sentence) -> str:
    """`sentence` with the sentences before and after it in `chunk`, as the chunk writes them;
    the sentence alone when that is longer than `EXCERPT_CHARS`."""
    texts = [s.text for s in chunk.sentences]
    at = texts.index(sentence.text) if sentence.text in texts else -1
    if at < 0:
        return sentence.text
    first, last = texts[max(0, at - 1)], texts[min(len(texts) - 1, at + 1)]
    start, end = chunk.text.find(first), chunk.text.find(last)
    window = chunk.text[start : end + len(last)] if 0 <= start <= end else sentence.text
    return window if len(window) <= EXCERPT_CHARS else sentence.text


def _llm_notice(error: Exception) -> str:
    from rag.answering.llm import Abandoned

    if isinstance(error, Abandoned):
        return f"LLM answer stopped: {error}; extractive answer shown"
    return f"LLM unavailable, extractive answer shown: {error}"


def _titled_first(ranked: list[ScoredSentence], focus: str, language: str) -> list[ScoredSentence]:
    """Asked for a person's posts ("王浩担任什么职务", "What position does Liang Yanshun hold?"),
    the first candidate that gives him titles goes first: the headline's bare list of names, or
    another official's line, says nothing of his posts."""
    person = posts_asked_of(focus, language)
    if person is None or not ranked:
        return ranked
    for at, item in enumerate(ranked):
        titles = titles_of(person, item.sentence.text, language)
        if titles:
            lead = replace(item, short_answer=titles, score=max(item.score, ranked[0].score))
            return [lead, *ranked[:at], *ranked[at + 1 :]]
    return ranked


def _fullest(ranked: list[ScoredSentence], depth: int = 10) -> ScoredSentence:
    """The best sentence, or a candidate that says the same and more: a headline restates a
    body sentence in fewer words ("会议确定2027年度…召开" vs "会议确定,2027年度…召开。"), and the
    body sentence is the better citation."""
    best = ranked[0]
    plain = _PUNCTUATION_AND_SPACE.sub("", best.sentence.text)
    for other in ranked[1:depth]:
        if len(other.sentence.text) > len(best.sentence.text) and plain in _PUNCTUATION_AND_SPACE.sub(
            "", other.sentence.text
        ):
            short = (
                best.short_answer
                if best.short_answer and best.short_answer in other.sentence.text
                else other.short_answer
            )
            return replace(other, short_answer=short, score=best.score)
    return best


def _phrase(evidence: Evidence, best: ScoredSentence, glossary: Any) -> str | None:
    """A what-question's answer phrase, when one stands out: Chinese by `phrase_answer`,
    English by the name the sentence gives the asked kind of thing. Chosen after the
    sentences, so it never moves the answer to another sentence."""
    if evidence.qtype not in PHRASE_TYPES:
        return None
    if evidence.language == "zh":
        return what_phrase(evidence.focus, best.sentence.text)
    return english_named_phrase(evidence.focus, best.sentence.text, glossary)


def _passage_citation(n: int, hit: Hit, evidence: Evidence) -> Citation:
    """[n] for a passage an LLM may cite: its best-scoring sentence (the whole passage when none
    of its sentences was ranked)."""
    best = next((s for s in evidence.ranked if s.chunk.id == hit.chunk.id), None)
    sentence = best.sentence if best else Sentence(hit.chunk.text, hit.chunk.spans)
    return Citation.of(n, hit, sentence, hit.score)


def _pieces(text: str, size: int = 12) -> Iterator[str]:
    for start in range(0, len(text), size):
        yield text[start : start + size]


def _says(constraint: Constraint, text: str) -> bool:
    """Whether `text` says what `constraint` names, for "the report mentions…": a title the text
    does not contradict is taken as given (`title_met`), but only one it bears out is mentioned
    ("江苏省副省长" is not, where the text has 江苏省 and its 省长)."""
    if constraint.kind is Kind.TITLED:
        return titles_in(constraint, text)[0]
    return met(constraint, text)
