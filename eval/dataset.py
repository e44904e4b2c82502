"""The hand-labelled question set over the bundled report.

One JSON object per line in ``eval/data/report_questions.jsonl``. Each item names its accepted
answers and a verbatim evidence span of the report, so a label can be checked against the text
(`validate`) instead of trusted.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

from ingest.errors import BadInput

DEFAULT_PATH = Path(__file__).parent / "data" / "report_questions.jsonl"

LANGUAGES = ("zh", "en")
TYPES = ("who", "where", "when", "how_many", "which_edition", "name", "what", "why", "yesno")
FIELDS = ("id", "language", "question", "answers", "evidence", "answerable", "type", "paragraph")
# Kinds of unanswerable question, so the false-answer rate can be read per kind: each is a
# near miss of something the report does say, except world knowledge and off-topic questions.
UNANSWERABLE_CATEGORIES = (
    "entity_swap",  # the report's fact asked about another person, place or organization
    "role_swap",  # a role or title the report does not give for that entity
    "year_swap",  # the report's fact with another year or ordinal
    "attribute_missing",  # the subject is in the report, the asked attribute is not
    "list_missing",  # an enumeration the report does not give
    "world_knowledge",  # true facts about the same places and people, not in the report
    "off_topic",
)
CATEGORIES = ("answerable", *UNANSWERABLE_CATEGORIES)
# Frozen before any tuning: fit and calibrate on "dev", report on "test" (sha1 of the id, even
# -> test), so a new item's split never depends on the others.
SPLITS = ("dev", "test")

# The floors the set was written to; `validate` reports a shortfall so a careless edit that
# drops a block of questions is caught by the dataset test.
MIN_TOTAL = 500
MIN_PER_LANGUAGE = {"zh": 240, "en": 260}
MIN_UNANSWERABLE = 220


@dataclass(frozen=True)
class EvalItem:
    """One labelled question. `answers` and `evidence` are empty when `answerable` is False."""

    id: str
    language: str  # "zh" or "en"; English questions are asked over the Chinese report
    question: str
    answers: tuple[str, ...]
    evidence: str  # verbatim substring of the report holding the answer
    answerable: bool
    type: str  # one of TYPES
    paragraph: str  # short label of the report paragraph the question covers
    category: str = ""  # one of CATEGORIES; optional in a user's own set
    split: str = ""  # "dev" or "test"; optional in a user's own set


def load_items(path: Path | None = None) -> list[EvalItem]:
    """Read the question set (the bundled one by default).

    Raises BadInput for a missing file, a line that is not JSON, or a line missing a field.
    """
    path = path or DEFAULT_PATH
    if not path.is_file():
        raise BadInput(f"question set not found: {path}; pass the path of a .jsonl file")
    items: list[EvalItem] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise BadInput(f"{path}:{number}: not valid JSON ({exc.msg}); one object per line") from exc
        missing = [name for name in FIELDS if name not in raw]
        if missing:
            raise BadInput(
                f"{path}:{number}: missing field(s) {', '.join(missing)}; each line needs {', '.join(FIELDS)}"
            )
        items.append(
            EvalItem(
                id=str(raw["id"]),
                language=str(raw["language"]),
                question=str(raw["question"]),
                answers=tuple(str(answer) for answer in raw["answers"]),
                evidence=str(raw["evidence"]),
                answerable=bool(raw["answerable"]),
                type=str(raw["type"]),
                paragraph=str(raw["paragraph"]),
                category=str(raw.get("category") or ("answerable" if raw["answerable"] else "unanswerable")),
                split=str(raw.get("split", "")),
            )
        )
    return items


def split_of(item_id: str) -> str:
    """The frozen split of an item: "test" when the sha1 of its id is even, else "dev"."""
    return "test" if int(hashlib.sha1(item_id.encode("utf-8")).hexdigest(), 16) % 2 == 0 else "dev"


def validate(items: list[EvalItem], report_text: str) -> list[str]:
    """Every problem found in `items` against the report they label; empty when all is well."""
    problems: list[str] = []
    for item_id, count in Counter(item.id for item in items).items():
        if count > 1:
            problems.append(f"{item_id}: id used {count} times; ids must be unique")
    for item in items:
        problems.extend(_item_problems(item, report_text))
    problems.extend(_count_problems(items))
    return problems


def _item_problems(item: EvalItem, report_text: str) -> list[str]:
    problems: list[str] = []
    where = item.id or "<no id>"
    for name in ("id", "question", "paragraph"):
        if not getattr(item, name).strip():
            problems.append(f"{where}: empty {name}")
    if item.language not in LANGUAGES:
        problems.append(f"{where}: language {item.language!r} is not one of {', '.join(LANGUAGES)}")
    if item.type not in TYPES:
        problems.append(f"{where}: type {item.type!r} is not one of {', '.join(TYPES)}")
    if not item.category:
        pass  # a user's own set may leave categories out
    elif item.category not in (*CATEGORIES, "unanswerable"):
        problems.append(f"{where}: category {item.category!r} is not one of {', '.join(CATEGORIES)}")
    elif (item.category == "answerable") != item.answerable:
        problems.append(f"{where}: category {item.category!r} contradicts answerable={item.answerable}")
    if item.split and item.split != split_of(item.id):
        problems.append(f"{where}: split {item.split!r} differs from the frozen rule ({split_of(item.id)!r})")
    if not item.answerable:
        if item.answers or item.evidence:
            problems.append(f"{where}: unanswerable but has answers or evidence; leave both empty")
        return problems
    if not item.answers:
        problems.append(f"{where}: answerable but no accepted answers")
    if not item.evidence:
        problems.append(f"{where}: answerable but no evidence")
        return problems
    if item.evidence not in report_text:
        problems.append(f"{where}: evidence is not a verbatim substring of the report: {item.evidence!r}")
    for answer in item.answers:
        if not answer.strip():
            problems.append(f"{where}: empty accepted answer")
        elif answer not in item.evidence and not (item.language == "en" and answer.isascii()):
            # English questions may also accept an English translation of the Chinese answer;
            # any other answer must be readable in its evidence, or the label is unchecked.
            problems.append(f"{where}: answer {answer!r} is not in its evidence")
    return problems


def _count_problems(items: list[EvalItem]) -> list[str]:
    problems: list[str] = []
    if len(items) < MIN_TOTAL:
        problems.append(f"only {len(items)} questions; the set needs at least {MIN_TOTAL}")
    by_language = Counter(item.language for item in items)
    for language, floor in MIN_PER_LANGUAGE.items():
        if by_language[language] < floor:
            problems.append(
                f"only {by_language[language]} {language} questions; the set needs at least {floor}"
            )
    unanswerable = sum(not item.answerable for item in items)
    if unanswerable < MIN_UNANSWERABLE:
        problems.append(
            f"only {unanswerable} unanswerable questions; the set needs at least {MIN_UNANSWERABLE}"
        )
    return problems
