"""SQuAD v1.1-format benchmarks (e.g. XQuAD) as a passage corpus plus gold-labelled questions.

The corpus file gives the passages (every paragraph context) and, per question id, the gold
passage and answer texts. A parallel file in another language (same question ids, as XQuAD's
are) may supply the question wording; its gold labels are still taken from the corpus file, so
an English question is judged against the Chinese passage and the Chinese answer.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ingest.errors import BadInput
from rag.language import detect_language


@dataclass(frozen=True)
class SquadPassage:
    id: str  # f"{title}-{paragraph index within the article}"
    title: str
    text: str


@dataclass(frozen=True)
class SquadQuestion:
    id: str
    question: str
    language: str  # the language of its file's questions (see `load_squad`)
    gold_passage_id: str
    answers: tuple[str, ...]  # answer texts from the corpus file, in its order
    answerable: bool = True  # SQuAD v1.1 questions all have an answer


@dataclass(frozen=True)
class SquadBenchmark:
    passages: list[SquadPassage]
    questions: list[SquadQuestion]


@dataclass(frozen=True)
class _Qa:
    id: str
    question: str
    passage_id: str
    answers: tuple[str, ...]


def load_squad(corpus_path: Path, questions_path: Path | None = None) -> SquadBenchmark:
    """Load passages and questions from a SQuAD-format corpus file.

    Questions come from `questions_path` (a parallel SQuAD-format file matched by question id;
    ids absent from the corpus are skipped) or, without it, from the corpus file itself.
    Raises BadInput for a missing file, a file that is not SQuAD JSON, or a questions file that
    shares no question id with the corpus.
    """
    passages, corpus_qas = _parse(_read_json(corpus_path), corpus_path)
    if questions_path is None:
        qas = corpus_qas
    else:
        _, wording = _parse(_read_json(questions_path), questions_path)
        gold = {qa.id: qa for qa in corpus_qas}
        qas = [
            _Qa(qa.id, qa.question, gold[qa.id].passage_id, gold[qa.id].answers)
            for qa in wording
            if qa.id in gold
        ]
        if not qas:
            raise BadInput(
                f"{questions_path} shares no question id with {corpus_path}; "
                "pass the parallel file of the same benchmark (same 'id' fields)"
            )
    # A benchmark file is written in one language: its questions are labelled with the language
    # most of them are detected in. Per question, an acronym read as an English word ("V＆A",
    # "IT") would move a few Chinese questions to the English rows.
    votes = Counter(detect_language(qa.question) for qa in qas)
    language = votes.most_common(1)[0][0] if votes else "zh"
    questions = [SquadQuestion(qa.id, qa.question, language, qa.passage_id, qa.answers) for qa in qas]
    return SquadBenchmark(passages=passages, questions=questions)


def _read_json(path: Path) -> Any:
    if not path.is_file():
        raise BadInput(f"benchmark file not found: {path}; check the path")
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise BadInput(f"{path} is not UTF-8 JSON ({exc}); expected a SQuAD v1.1 file") from exc


def _parse(raw: Any, path: Path) -> tuple[list[SquadPassage], list[_Qa]]:
    """Passages and question records of one SQuAD document, checked for the expected shape."""
    shape = "a SQuAD v1.1 file: {'data': [{'title', 'paragraphs': [{'context', 'qas': [{'id', 'question', 'answers'}]}]}]}"
    if not isinstance(raw, dict) or not isinstance(raw.get("data"), list):
        raise BadInput(f"{path} has no 'data' list; expected {shape}")
    passages: list[SquadPassage] = []
    qas: list[_Qa] = []
    seen: set[str] = set()
    try:
        for article_index, article in enumerate(raw["data"]):
            title = str(article.get("title") or f"article{article_index}")
            for i, paragraph in enumerate(article["paragraphs"]):
                passage = SquadPassage(id=f"{title}-{i}", title=title, text=str(paragraph["context"]))
                if passage.id in seen:
                    # Two articles with one title would make gold passage ids ambiguous.
                    raise BadInput(
                        f"{path}: passage id {passage.id!r} occurs twice; article titles must be unique"
                    )
                seen.add(passage.id)
                passages.append(passage)
                for qa in paragraph["qas"]:
                    answers = tuple(str(answer["text"]) for answer in qa.get("answers", []))
                    qas.append(_Qa(str(qa["id"]), str(qa["question"]), passage.id, answers))
    except (KeyError, TypeError, AttributeError) as exc:
        raise BadInput(f"{path} is not in SQuAD format (problem at {exc!r}); expected {shape}") from exc
    return passages, qas
