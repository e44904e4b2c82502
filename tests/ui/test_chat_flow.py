"""The page's conversation logic without a browser, over the real engine: streaming updates,
follow-ups, errors as chat messages, feedback lines, and the upload rule."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ui_helpers import API_KEY, page_settings

from ingest.embedder import Embedder
from rag.engine import Engine
from ui.chat import INTERNAL_ERROR, Chat, ChatTurn, Update
from ui.documents import UPLOADS_OFF, add_upload
from ui.feedback import FeedbackLog

READY = (True, "")


def chat_over(engine: Engine, tmp_path: Path, readiness=lambda: READY, **overrides) -> Chat:
    settings = page_settings(engine.index_dir, tmp_path, **overrides)
    return Chat(engine, settings, readiness, FeedbackLog(settings.feedback_path))


def updates_of(
    chat: Chat, question: str, turns: list[ChatTurn] | None = None, **options: Any
) -> list[Update]:
    return list(
        chat.ask(question, turns or [], options.get("top_k", 5), options.get("answerer", "extractive"))
    )


def test_the_answer_streams_in_then_settles_with_its_sources(ui_engine: Engine, tmp_path: Path) -> None:
    updates = updates_of(chat_over(ui_engine, tmp_path), "which province hosts 2027?")
    assert "rr-pending" in updates[0].messages[-1]["content"]
    assert any("rr-streaming" in u.messages[-1]["content"] for u in updates[1:-1])
    last = updates[-1]
    assert len(last.messages) == 2 and len(last.turns) == 1
    assert "安徽" in last.messages[-1]["content"] and 'href="#rr-src-0-1"' in last.messages[-1]["content"]
    assert 'id="rr-src-0-1"' in last.sources and "<mark" in last.sources


def test_a_follow_up_is_asked_with_the_conversation(ui_engine: Engine, tmp_path: Path) -> None:
    chat = chat_over(ui_engine, tmp_path)
    first = updates_of(chat, "江苏省委书记是谁？")[-1].turns
    follow_up = updates_of(chat, "那省长呢？", first)[-1]
    answer = follow_up.turns[-1].answer
    assert answer is not None
    assert "江苏" in answer.retrieval_query  # rewritten from the previous turn
    assert len(follow_up.messages) == 4 and 'id="rr-src-1-1"' in follow_up.sources


def test_not_ready_is_a_chat_message(ui_engine: Engine, tmp_path: Path) -> None:
    chat = chat_over(ui_engine, tmp_path, readiness=lambda: (False, "loading the model and index"))
    [update] = updates_of(chat, "which province hosts 2027?")
    assert "rr-error" in update.messages[-1]["content"]
    assert "loading the model and index" in update.messages[-1]["content"]


def test_a_rag_error_is_a_chat_message_with_its_fix(embedder: Embedder, tmp_path: Path) -> None:
    empty = tmp_path / "no-index"
    engine = Engine(page_settings(empty, tmp_path), index_dir=empty, embedder=embedder)
    update = updates_of(chat_over(engine, tmp_path), "which province hosts 2027?")[-1]
    message = update.messages[-1]["content"]
    assert "rr-error" in message and "rag ingest" in message and "Traceback" not in message
    assert INTERNAL_ERROR not in message


def test_an_unreachable_llm_falls_back_with_a_notice(
    embedder: Embedder, index_copy: Path, tmp_path: Path
) -> None:
    settings = page_settings(
        index_copy, tmp_path, llm_base_url="http://127.0.0.1:9/v1", llm_model="m", llm_timeout_s=2
    )
    engine = Engine(settings, index_dir=index_copy, embedder=embedder)
    chat = Chat(engine, settings, lambda: READY, FeedbackLog(settings.feedback_path))
    message = updates_of(chat, "which province hosts 2027?", answerer="llm")[-1].messages[-1]["content"]
    assert "安徽" in message and "rr-notice" in message and "LLM unavailable" in message


def test_bad_requests_are_refused_politely(ui_engine: Engine, tmp_path: Path) -> None:
    chat = chat_over(ui_engine, tmp_path, max_question_chars=10)
    assert "too long" in updates_of(chat, "x" * 11)[-1].messages[-1]["content"]
    assert (
        "not configured" in updates_of(chat, "江苏省委书记是谁？", answerer="llm")[-1].messages[-1]["content"]
    )
    assert "between 1 and 50" in updates_of(chat, "江苏省委书记是谁？", top_k=0)[-1].messages[-1]["content"]
    assert updates_of(chat, "   ")[-1].messages == []


def test_feedback_lines_are_appended_with_question_answer_and_citations(
    ui_engine: Engine, tmp_path: Path
) -> None:
    chat = chat_over(ui_engine, tmp_path)
    turns = updates_of(chat, "which province hosts 2027?")[-1].turns
    assert "Recorded" in chat.rate(turns, 1, True)
    assert "Comment saved" in chat.rate(turns, 1, False, "  wrong year  ")
    assert "no answer" in chat.rate(turns, 7, True)
    lines = [json.loads(line) for line in chat.feedback.path.read_text(encoding="utf-8").splitlines()]
    assert [(line["rating"], line["comment"]) for line in lines] == [("up", ""), ("down", "wrong year")]
    assert lines[0]["question"] == "which province hosts 2027?" and "安徽" in lines[0]["answer"]
    assert lines[0]["citations"][0]["n"] == 1 and lines[0]["turn_id"] == lines[1]["turn_id"]
    assert lines[0]["timestamp"].endswith("+00:00")


def test_uploads_follow_the_api_rule(embedder: Embedder, index_copy: Path, tmp_path: Path) -> None:
    upload = tmp_path / "upload" / "note.txt"
    upload.parent.mkdir()
    upload.write_text("测试文档。2030年度座谈会在福建省召开。", encoding="utf-8")
    steps: list[str] = []

    def progress(done: float, what: str) -> None:
        steps.append(what)

    closed = page_settings(index_copy, tmp_path)
    engine = Engine(closed, index_dir=index_copy, embedder=embedder)
    assert add_upload(engine, closed, str(upload), API_KEY, progress) == UPLOADS_OFF
    open_ = page_settings(index_copy, tmp_path, api_key=API_KEY)
    assert "Wrong API key" in add_upload(engine, open_, str(upload), "guess", progress)
    assert steps == []
    assert "added" in add_upload(engine, open_, str(upload), API_KEY, progress)
    assert any("indexing" in step for step in steps)
    assert "note.txt" in {doc["source"] for doc in engine.documents()}
