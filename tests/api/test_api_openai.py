"""The OpenAI-compatible endpoints, driven by the official `openai` client over real HTTP."""

from collections.abc import Iterator

import openai
import pytest
from api_helpers import ZH_QUESTION, api_settings, live_server

from rag.edges.api.app import create_app
from rag.edges.api.schemas import MODEL_ID
from rag.engine import Engine


@pytest.fixture(scope="module")
def base_url(engine: Engine) -> Iterator[str]:
    with live_server(create_app(engine, api_settings(engine.index_dir))) as url:
        yield url


@pytest.fixture(scope="module")
def client(base_url: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base_url}/v1", api_key="unused", max_retries=0)


def test_models_lists_the_one_model(client: openai.OpenAI) -> None:
    assert [model.id for model in client.models.list()] == [MODEL_ID]


def test_a_completion_answers_with_sources_in_the_message_and_a_citations_field(
    client: openai.OpenAI,
) -> None:
    completion = client.chat.completions.create(
        model=MODEL_ID, messages=[{"role": "user", "content": ZH_QUESTION}], temperature=0.2
    )

    message = completion.choices[0].message
    assert completion.object == "chat.completion"
    assert completion.choices[0].finish_reason == "stop"
    assert message.role == "assistant"
    assert message.content is not None
    assert message.content.startswith("上海 [1]")
    citations = (completion.model_extra or {})["citations"]
    assert citations and citations[0]["n"] == 1
    # the sources block names each cited source and sentence
    assert f"来源：\n[1] {citations[0]['source']}: {citations[0]['sentence']}" in message.content
    assert completion.usage is not None
    assert (
        completion.usage.total_tokens
        == completion.usage.prompt_tokens + completion.usage.completion_tokens
        > 0
    )


def test_a_stream_has_the_same_content_as_the_completion(client: openai.OpenAI) -> None:
    messages = [{"role": "user", "content": ZH_QUESTION}]
    whole = client.chat.completions.create(model=MODEL_ID, messages=messages)  # type: ignore[arg-type]

    chunks = list(client.chat.completions.create(model=MODEL_ID, messages=messages, stream=True))  # type: ignore[arg-type]

    assert chunks[0].choices[0].delta.role == "assistant"
    assert (chunks[0].model_extra or {})["citations"] == (whole.model_extra or {})["citations"]
    content = "".join(chunk.choices[0].delta.content or "" for chunk in chunks)
    assert content == whole.choices[0].message.content
    assert [chunk.choices[0].finish_reason for chunk in chunks][-1] == "stop"
    assert all(chunk.choices[0].finish_reason is None for chunk in chunks[:-1])
    assert len({chunk.id for chunk in chunks}) == 1


def test_earlier_turns_become_history(client: openai.OpenAI) -> None:
    completion = client.chat.completions.create(
        model=MODEL_ID,
        messages=[
            {"role": "system", "content": "Answer from the report."},
            {"role": "user", "content": ZH_QUESTION},
            {"role": "assistant", "content": "上海 [1]"},
            {"role": "user", "content": [{"type": "text", "text": "那2027年呢？"}]},
        ],
    )

    content = completion.choices[0].message.content or ""
    assert "2027" in content


def test_a_bad_conversation_raises_bad_request(client: openai.OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as raised:
        client.chat.completions.create(model=MODEL_ID, messages=[{"role": "assistant", "content": "hi"}])

    assert "last message must come from the user" in str(raised.value)


def test_an_error_during_a_stream_reaches_the_client(engine: Engine) -> None:
    app = create_app(engine, api_settings(engine.index_dir, request_timeout_s=0.001))
    with live_server(app) as url:
        client = openai.OpenAI(base_url=f"{url}/v1", api_key="unused", max_retries=0)
        stream = client.chat.completions.create(
            model=MODEL_ID, messages=[{"role": "user", "content": ZH_QUESTION}], stream=True
        )
        with pytest.raises(openai.APIError) as raised:
            list(stream)

    assert "RAG_REQUEST_TIMEOUT_S" in str(raised.value)
