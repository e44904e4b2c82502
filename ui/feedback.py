"""Feedback on answers, appended to a JSONL file for later evaluation.

One line per rating: question, answer, citations, rating ("up" / "down"), comment, timestamp.
A thumb click writes its line at once, so a rating is kept even when no comment follows; a
comment sent afterwards writes a second, complete line for the same answer. Readers keep the
last line per (question, answer, turn_id).
"""

from __future__ import annotations

import json
import threading
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from rag.records import Answer

RATINGS = ("up", "down")


@dataclass(frozen=True)
class Feedback:
    question: str
    answer: str
    citations: list[dict[str, Any]]
    rating: str  # "up" | "down"
    comment: str = ""
    found: bool = True
    answerer: str = ""
    turn_id: str = ""  # ties a later comment line to its rating line
    timestamp: str = field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    @classmethod
    def of(cls, question: str, answer: Answer, rating: str, comment: str = "", turn_id: str = "") -> Feedback:
        if rating not in RATINGS:
            raise ValueError(f"rating must be one of {', '.join(RATINGS)}, not {rating!r}")
        return cls(
            question=question,
            answer=answer.answer,
            citations=[c.as_dict() for c in answer.citations],
            rating=rating,
            comment=comment.strip(),
            found=answer.found,
            answerer=answer.answerer,
            turn_id=turn_id,
        )


class FeedbackLog:
    """Appends feedback lines to `path` (its folder is created on first write)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Lines from concurrent sessions must not interleave within one write.
        self._lock = threading.Lock()

    def append(self, feedback: Feedback) -> None:
        line = json.dumps(asdict(feedback), ensure_ascii=False) + "\n"
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as handle:
                handle.write(line)
                handle.flush()
