"""The LLM answerer (rag.llm) against a real OpenAI-compatible server: llama.cpp's server with
Gemma 3 270M, a small base model. What it writes is not checked here (it is mostly noise); what
is checked is that the client speaks the real protocol, and that every failure ends in `LLMError`,
which the answerer turns into the extractive answer, never in a crash.

What llama_cpp.server (llama-cpp-python 0.3.36) does that tests/rag/fake_openai.py does not:
- an unknown `model` is answered by the loaded model, 200, its name echoed back: no 404;
- streams are chunked HTTP/1.1 keep-alive; the first chunk's delta is `{"role": "assistant"}`
  with no `content` key, the last is `{}` with finish_reason "stop" or "length", then
  `data: [DONE]`; no usage chunk, even with `stream_options.include_usage`;
- a prompt over the context window is a 400 `{"error": {"message": "This model's maximum context
  length is ...", "code": "context_length_exceeded"}}`, but when streaming a 200 with an empty
  body: no event, no [DONE] (the client reports a stream without [DONE] as an error);
- a client that closes the stream stops the generation ("Disconnected from client" in its log);
- a body that fails validation is a 500 `{"error": {"type": "internal_server_error"}}`, not 422.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator

import httpx
import pytest
from llama_server import MODEL_ALIAS, LlamaServer

from rag.answering.llm import (
    MAX_ANSWER_TOKENS,
    STOP_SEQUENCES,
    LLMClient,
    LLMConfig,
    LLMError,
    OffTrack,
    build_messages,
    generate_answer,
    parse_reply,
    stream_answer,
)
from rag.config import Settings
from rag.engine import Engine
from rag.events import Delta, Done

pytestmark = pytest.mark.llm_server

QUESTION = "2027年度长三角地区主要领导座谈会在哪里召开？"
PASSAGES = [
    "会议确定,2027年度长三角地区主要领导座谈会在安徽省召开。",
    "本报讯 5月20日至21日,长三角地区主要领导座谈会在上海举行。上海市委书记陈吉宁,上海市委副书记、"
    "市长龚正;江苏省委书记信长星,江苏省委副书记、省长刘小涛出席会议。",
    "共建上海(长三角)国际科技创新中心,促进科技创新策源功能新提升。",
]


def make_client(server: LlamaServer, **overrides: object) -> LLMClient:
    """A client without stop sequences or early abandon (the protocol tests need the model's
    tokens; the generation-limit tests below set them)."""
    config: dict[str, object] = {
        "base_url": server.base_url,
        "model": server.model,
        "timeout_s": 30.0,
        "stop": (),
        "abandon_after": 0,
    }
    config.update(overrides)
    return LLMClient(LLMConfig(**config))  # type: ignore[arg-type]


def fresh_passages() -> list[str]:
    """PASSAGES behind a unique first line: llama.cpp reuses the KV cache of the longest prompt
    prefix it saw last, so a repeated prompt skips most of its evaluation and answers at once."""
    return [f"（编号 {uuid.uuid4().hex}）" + PASSAGES[0], *PASSAGES[1:]]


def client_messages(passages: list[str]) -> list[dict[str, str]]:
    return build_messages(QUESTION, "zh", passages, None)


def timed(deltas: Iterator[str]) -> list[tuple[float, str]]:
    return [(time.monotonic(), delta) for delta in deltas]


@pytest.fixture
def client(llama_server: LlamaServer) -> Iterator[LLMClient]:
    with make_client(llama_server, max_tokens=64) as llm:
        yield llm


def engine_on(server: LlamaServer, bundled: Engine, embedder: object, timeout_s: float = 30.0) -> Engine:
    """An engine over the bundled index (read only) whose answerer asks `server`."""
    settings = Settings(
        index_dir=bundled.index_dir,
        cache_dir=bundled.settings.cache_dir,
        llm_base_url=server.base_url,
        llm_model=server.model,
        llm_timeout_s=timeout_s,
    )
    return Engine(settings, index_dir=bundled.index_dir, embedder=embedder)  # type: ignore[arg-type]


# --- answers ------------------------------------------------------------------------------------


def test_non_streaming_answer(client: LLMClient) -> None:
    reply = generate_answer(client, QUESTION, "zh", PASSAGES, None)

    assert reply.text.strip()
    assert set(reply.cited) <= {1, 2, 3}  # whatever the model wrote, only real passages stay cited


def test_streaming_answer_arrives_token_by_token(client: LLMClient) -> None:
    passages = fresh_passages()
    started = time.monotonic()
    arrivals = timed(stream_answer(client, QUESTION, "zh", passages, None))
    whole = client.complete(client_messages(passages))

    assert len(arrivals) >= 10 and all(delta for _, delta in arrivals)
    # Incremental: the pieces arrive one by one, not as one buffered body. (No bound on how
    # early the first one comes: on a loaded machine prompt reading takes most of the time.)
    first, last = arrivals[0][0] - started, arrivals[-1][0] - started
    assert last > first
    # Not compared piece for piece with the plain completion: llama.cpp reuses the KV cache of
    # the shared prompt prefix, and a reused cache shifts the logits enough that even greedy
    # decoding of a 270M model can part ways (seen in CI). Both must be well-formed replies.
    streamed = "".join(delta for _, delta in arrivals)
    assert parse_reply(streamed, len(passages)).text.strip()
    assert parse_reply(whole, len(passages)).text.strip()


def test_raw_stream_has_role_chunk_finish_chunk_and_done(llama_server: LlamaServer) -> None:
    """Pins the protocol facts listed at the top of this module."""
    body = {"model": MODEL_ALIAS, "messages": client_messages(PASSAGES), "max_tokens": 8, "stream": True}
    body["stream_options"] = {"include_usage": True}
    with httpx.stream("POST", f"{llama_server.base_url}/chat/completions", json=body, timeout=30) as response:
        assert response.headers["content-type"].startswith("text/event-stream")
        lines = [line for line in response.iter_lines() if line]

    assert lines[-1] == "data: [DONE]"
    events = [httpx.Response(200, content=line.removeprefix("data: ")).json() for line in lines[:-1]]
    deltas = [event["choices"][0]["delta"] for event in events]
    finishes = [event["choices"][0]["finish_reason"] for event in events]
    assert deltas[0] == {"role": "assistant"}  # no "content" key at all
    assert deltas[-1] == {} and finishes[-1] == "length" and set(finishes[:-1]) == {None}
    assert all("content" in delta for delta in deltas[1:-1])
    assert not any("usage" in event and event["usage"] for event in events)  # include_usage ignored


# --- errors -------------------------------------------------------------------------------------


def test_unknown_model_is_answered_by_the_loaded_model(llama_server: LlamaServer) -> None:
    """llama_cpp.server falls back to its default model for any name: a misspelt RAG_LLM_MODEL
    is not an error there (Ollama and OpenAI answer 404, which the client reports)."""
    models = httpx.get(f"{llama_server.base_url}/models", timeout=5).json()
    assert [model["id"] for model in models["data"]] == [MODEL_ALIAS]

    with make_client(llama_server, model="no-such-model", max_tokens=16) as client:
        reply = generate_answer(client, QUESTION, "zh", PASSAGES, None)
    assert reply.text.strip()


def test_prompt_over_the_context_window_is_a_clear_error(client: LLMClient) -> None:
    too_long = ["长三角一体化发展。" * 1500]
    with pytest.raises(LLMError, match="HTTP 400: This model's maximum context length is 4096 tokens"):
        client.complete(build_messages(QUESTION, "zh", too_long, None))


def test_streamed_prompt_over_the_context_window_is_an_error(client: LLMClient) -> None:
    # llama_cpp.server ends this stream at once without `data: [DONE]`: not an empty answer.
    too_long = ["长三角一体化发展。" * 1500]
    with pytest.raises(LLMError, match=r"without `data: \[DONE\]` after 0 characters.*context window"):
        list(stream_answer(client, QUESTION, "zh", too_long, None))


def test_server_killed_mid_stream_raises_llm_error(own_llama_server: LlamaServer) -> None:
    received: list[str] = []
    with make_client(own_llama_server, max_tokens=400) as client:
        with pytest.raises(LLMError, match=r"127\.0\.0\.1") as caught:
            for delta in stream_answer(client, QUESTION, "zh", fresh_passages(), None):
                received.append(delta)
                if len(received) == 3:
                    own_llama_server.kill()
    assert len(received) >= 3
    assert isinstance(caught.value.__cause__, httpx.HTTPError)  # translated, not leaked


def test_answer_falls_back_when_the_server_dies_mid_stream(
    own_llama_server: LlamaServer, bundled_engine: Engine, embedder: object
) -> None:
    engine = engine_on(own_llama_server, bundled_engine, embedder)
    events = []
    for event in engine.stream(QUESTION):
        events.append(event)
        if isinstance(event, Delta):
            own_llama_server.kill()
    done, deltas = events[-1], [event for event in events if isinstance(event, Delta)]

    assert isinstance(done, Done) and len(deltas) >= 1
    answer = done.answer
    assert answer.answerer == "extractive (fallback)" and answer.notice.startswith("LLM unavailable")
    assert answer.found and "安徽" in answer.answer and answer.citations
    assert answer.timings_ms["llm"] > 0


def test_slow_first_token_beyond_the_timeout_raises(llama_server: LlamaServer) -> None:
    # A fresh ~600-token prompt takes the 270M model ~1 s to read on 2 threads: far over 50 ms.
    with make_client(llama_server, timeout_s=0.05, max_tokens=8) as client:
        with pytest.raises(LLMError, match="within 0.05 s"):
            list(stream_answer(client, QUESTION, "zh", fresh_passages(), None))
        with pytest.raises(LLMError, match="within 0.05 s"):
            generate_answer(client, QUESTION, "zh", fresh_passages(), None)

    # The abandoned requests leave the server usable for the next one.
    with make_client(llama_server, max_tokens=8) as client:
        assert generate_answer(client, QUESTION, "zh", PASSAGES, None).text.strip()


def test_answer_falls_back_when_the_first_token_is_late(
    llama_server: LlamaServer, bundled_engine: Engine, embedder: object
) -> None:
    engine = engine_on(llama_server, bundled_engine, embedder, timeout_s=0.05)
    answer = engine.answer("2027年度的座谈会在哪个省召开？")

    assert answer.answerer == "extractive (fallback)" and "within 0.05 s" in answer.notice
    assert answer.found and "安徽" in answer.answer


# --- generation limits --------------------------------------------------------------------------


def test_generation_is_capped_and_stopped_at_the_prompt_markup(llama_server: LlamaServer) -> None:
    with make_client(llama_server, max_tokens=MAX_ANSWER_TOKENS, stop=STOP_SEQUENCES) as client:
        deltas = list(client.stream(client_messages(fresh_passages())))
    text = "".join(deltas)

    assert 0 < len(deltas) <= MAX_ANSWER_TOKENS  # each event is one token on llama.cpp
    assert "<passage" not in text and "</passage>" not in text and "\nQuestion:" not in text


def test_an_uncited_reply_is_abandoned_and_the_server_stops_generating(llama_server: LlamaServer) -> None:
    """Gemma 270M does not cite within 5 tokens; closing the stream ends the generation there,
    instead of 400 tokens that nobody reads, and the server answers the next request."""
    log_before = llama_server.log_path.read_text(errors="replace")
    with make_client(llama_server, max_tokens=400, abandon_after=5) as client:
        with pytest.raises(OffTrack, match="5 tokens without citing"):
            list(stream_answer(client, QUESTION, "zh", fresh_passages(), None))
    deadline = time.monotonic() + 10
    while (
        "Disconnected from client" not in llama_server.log_path.read_text(errors="replace")[len(log_before) :]
    ):
        assert time.monotonic() < deadline, llama_server.log_tail()
        time.sleep(0.1)
    with make_client(llama_server, max_tokens=8) as client:
        assert generate_answer(client, QUESTION, "zh", PASSAGES, None).text.strip()


def test_real_answers_reach_the_user_checked_or_replaced(
    llama_server: LlamaServer, bundled_engine: Engine, embedder: object
) -> None:
    """Whatever the small model writes, what the answerer returns was checked sentence by
    sentence, or is the extractive answer with the reason, and the LLM's time is recorded."""
    engine = engine_on(llama_server, bundled_engine, embedder)
    for question in (QUESTION, "江苏省委书记是谁？", "Which province hosts the 2027 meeting?"):
        answer = engine.answer(question)
        assert answer.answerer in ("llm+checked", "extractive (fallback)"), answer
        assert answer.timings_ms["llm"] > 0
        if answer.answerer == "llm+checked":
            assert answer.grounding["supported"] + answer.grounding["recited"] >= 1
        else:
            assert answer.notice and answer.found
