"""The request models are importable and shared: POST /ask and the OpenAI-compatible chat
validate a question by the same rule, at the configured length limit."""

import pytest
from pydantic import ValidationError

from ingest.errors import BadInput
from rag.edges.api.openai_chat import conversation
from rag.edges.api.schemas import AskRequest, ChatMessage, ask_request


def test_the_default_limit_is_the_module_level_model() -> None:
    assert ask_request(2000) is AskRequest
    with pytest.raises(ValidationError, match="at most 2000"):
        AskRequest(question="问" * 2001)


def test_chat_questions_pass_the_ask_rule_at_the_configured_limit() -> None:
    limited = ask_request(10)

    with pytest.raises(ValidationError, match="at most 10"):
        limited(question="问" * 11)
    with pytest.raises(BadInput, match="at most 10"):
        conversation([ChatMessage(role="user", content="问" * 11)], limited)
    with pytest.raises(BadInput, match="empty"):
        conversation([ChatMessage(role="user", content=" \u3000")], limited)
    question, turns = conversation(
        [
            ChatMessage(role="user", content="谁主持？"),
            ChatMessage(role="assistant", content="陈吉宁 [1]"),
            ChatMessage(role="user", content="问" * 10),
        ],
        limited,
    )
    assert question == "问" * 10
    assert [(turn.question, turn.answer) for turn in turns] == [("谁主持？", "陈吉宁 [1]")]
