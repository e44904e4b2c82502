"""The chat page's conversation: ask (streaming), follow-ups, feedback. No Gradio in here.

The conversation lives in one list of `ChatTurn`s (per browser session); the chat messages and
the sources panel are rendered from it on every update, so they cannot drift apart. Each turn
is exactly two messages (question, answer), which is how a thumb on message i finds turn i // 2.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from ingest.errors import RagError
from rag.answering.conversation import Turn
from rag.config import MAX_TOP_K, Settings
from rag.engine import Engine
from rag.events import Citations, Delta, Done
from rag.records import Answer
from ui import render
from ui.feedback import Feedback, FeedbackLog

log = logging.getLogger("ui.chat")

Readiness = Callable[[], tuple[bool, str]]  # () -> (ready, why not)
Message = dict[str, str]  # {"role": "user" | "assistant", "content": html}
ANSWERERS = ("extractive", "llm")
INTERNAL_ERROR = "内部错误，详见服务器日志。/ Internal error; see the server log."


@dataclass(frozen=True)
class ChatTurn:
    question: str
    answer: Answer | None = None  # None while streaming or when it failed
    error: str = ""  # what to tell the user when it failed
    asked_at: str = ""  # ISO time; with the question it names the turn in feedback lines

    @property
    def id(self) -> str:
        return hashlib.sha256(f"{self.asked_at}\0{self.question}".encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Update:
    """What the page shows after each step: chat messages, sources panel, new state."""

    messages: list[Message]
    sources: str
    turns: list[ChatTurn]


class Chat:
    """Conversation logic over one engine; the Gradio handlers in `ui.app` call these."""

    def __init__(
        self, engine: Engine, settings: Settings, readiness: Readiness, feedback: FeedbackLog
    ) -> None:
        self.engine = engine
        self.settings = settings
        self.readiness = readiness
        self.feedback = feedback

    # --- rendering -------------------------------------------------------------------------
    def titles(self) -> dict[str, str]:
        """doc_id -> title, for friendlier source names (empty until the index is loaded)."""
        if not self.readiness()[0]:
            return {}
        try:
            return {doc["doc_id"]: doc.get("title") or "" for doc in self.engine.documents()}
        except RagError:
            return {}

    def messages(self, turns: Sequence[ChatTurn], titles: dict[str, str]) -> list[Message]:
        messages: list[Message] = []
        for number, turn in enumerate(turns):
            if turn.answer is not None:
                reply = render.answer_html(turn.answer, number, titles)
            elif turn.error:
                reply = render.error_html(turn.error)
            else:
                reply = render.pending_html()
            messages.append({"role": "user", "content": render.question_html(turn.question)})
            messages.append({"role": "assistant", "content": reply})
        return messages

    def update(self, turns: list[ChatTurn], titles: dict[str, str] | None = None) -> Update:
        titles = self.titles() if titles is None else titles
        return Update(self.messages(turns, titles), render.sources_html(_pairs(turns), titles), turns)

    # --- asking ----------------------------------------------------------------------------
    def ask(self, question: str, turns: Sequence[ChatTurn], top_k: Any, answerer: str) -> Iterator[Update]:
        """Answer `question` after `turns`, yielding the page as the answer streams in.

        Errors end the turn as a chat message: not ready yet, a bad question, a RagError (its
        message says the fix), anything else (logged; the user sees a generic line)."""
        question = (question or "").strip()
        turns = list(turns)
        if not question:
            yield self.update(turns)
            return
        asked_at = datetime.now(UTC).isoformat(timespec="milliseconds")
        history = [Turn(t.question, t.answer.answer) for t in turns if t.answer is not None]
        titles = self.titles()
        problem = self._refuse(question, top_k, answerer)
        if problem:
            yield self.update([*turns, ChatTurn(question, error=problem, asked_at=asked_at)], titles)
            return
        current = ChatTurn(question, asked_at=asked_at)
        yield self.update([*turns, current], titles)
        try:
            yield from self._stream(question, history, turns, current, int(top_k), answerer == "llm", titles)
        except RagError as exc:
            yield self.update([*turns, replace(current, error=str(exc))], titles)
        except Exception:  # the user gets one line; the log gets the traceback
            log.exception("answering %r failed", question)
            yield self.update([*turns, replace(current, error=INTERNAL_ERROR)], titles)

    def _refuse(self, question: str, top_k: Any, answerer: str) -> str:
        """Why this question cannot be asked now ("" when it can)."""
        ready, reason = self.readiness()
        if not ready:
            return f"服务尚未就绪，请稍后再试。/ Not ready yet ({reason}); try again in a few seconds."
        limit = self.settings.max_question_chars
        if len(question) > limit:
            return f"问题太长（{len(question)} 字，上限 {limit}）。/ The question is too long ({len(question)} characters, limit {limit})."
        if answerer not in ANSWERERS:
            return f"未知的回答方式 / Unknown answerer {answerer!r}: choose one of {', '.join(ANSWERERS)}."
        if answerer == "llm" and not self.settings.llm_enabled:
            return "LLM 未配置 / The LLM is not configured: set RAG_LLM_BASE_URL and RAG_LLM_MODEL on the server."
        if not isinstance(top_k, int | float) or not 1 <= top_k <= MAX_TOP_K:
            return f"段落数须在 1 到 {MAX_TOP_K} 之间 / Passages must be between 1 and {MAX_TOP_K}, not {top_k}."
        return ""

    def _stream(
        self,
        question: str,
        history: list[Turn],
        turns: list[ChatTurn],
        current: ChatTurn,
        top_k: int,
        use_llm: bool,
        titles: dict[str, str],
    ) -> Iterator[Update]:
        numbers: list[int] = []
        text = ""
        previous = self.messages(turns, titles)
        user = {"role": "user", "content": render.question_html(question)}
        for event in self.engine.stream(question, history, top_k, use_llm):
            match event:
                case Citations(citations):
                    numbers = [citation.n for citation in citations]
                case Delta(delta):
                    text += delta
                    streaming = {"role": "assistant", "content": render.streaming_html(text, len(turns), numbers)}
                    yield Update([*previous, user, streaming], render.sources_html(_pairs(turns), titles), turns)
                case Done(answer):
                    yield self.update([*turns, replace(current, answer=answer)], titles)

    # --- feedback --------------------------------------------------------------------------
    def rate(self, turns: Sequence[ChatTurn], message_index: int, liked: Any, comment: str = "") -> str:
        """Record a thumb (and optional comment) on the answer at chat message `message_index`.

        Returns a line for the user."""
        number = message_index // 2
        if not 0 <= number < len(turns) or turns[number].answer is None:
            return "这条消息没有可评价的回答。/ There is no answer to rate in that message."
        rating = "up" if liked is True or liked == "Like" else "down"
        turn = turns[number]
        assert turn.answer is not None
        try:
            self.feedback.append(Feedback.of(turn.question, turn.answer, rating, comment, turn.id))
        except OSError as exc:
            log.error("writing feedback to %s failed: %s", self.feedback.path, exc)
            return f"反馈未能保存 / Feedback could not be saved ({exc.strerror or exc})."
        if comment.strip():
            return "评论已保存，谢谢！/ Comment saved, thank you!"
        return "已记录，谢谢！可以补充说明。/ Recorded, thank you! Add a comment if you like."


def _pairs(turns: Sequence[ChatTurn]) -> list[tuple[str, Answer | None]]:
    return [(turn.question, turn.answer) for turn in turns]
