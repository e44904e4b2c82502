"""Questions over HTTP: /ask, /ask/stream (SSE), /search, health, docs, logs, CORS."""

import json
import logging
import os

import pytest
from api_helpers import API_KEY, EN_QUESTION, ZH_QUESTION, api_settings, serve_client
from fastapi.responses import PlainTextResponse
from fastapi.testclient import TestClient

from rag.edges.api.app import create_app
from rag.engine import Engine


def parse_sse(text: str) -> list[tuple[str, object]]:
    """(event, data) pairs of a text/event-stream body."""
    events = []
    for block in text.split("\n\n"):
        if not block.strip():
            continue
        fields = dict(line.split(": ", 1) for line in block.splitlines() if not line.startswith(":"))
        events.append((fields.get("event", "message"), json.loads(fields["data"])))
    return events


def without_timings(answer: dict) -> dict:
    return {key: value for key, value in answer.items() if key != "timings_ms"}


def test_ask_answers_a_chinese_question_with_a_citation_into_the_report(
    client: TestClient, engine: Engine
) -> None:
    response = client.post("/ask", json={"question": ZH_QUESTION})

    assert response.status_code == 200
    answer = response.json()
    assert answer["found"] is True
    assert answer["short_answer"] == "上海"
    assert answer["answer"].startswith("上海 [1]")
    assert answer["language"] == "zh"
    assert answer["answerer"] == "extractive"
    citation = answer["citations"][0]
    assert citation["n"] == 1
    assert citation["doc_id"] in {doc["doc_id"] for doc in engine.documents()}
    # the offsets point at the cited sentence in the report's text
    text = engine.index.documents[citation["doc_id"]].text
    assert "".join(text[start:end] for start, end in citation["spans"]) == citation["sentence"]
    assert "上海" in citation["sentence"]
    assert set(answer["timings_ms"]) >= {"total"}


def test_ask_answers_in_english_for_an_english_question(client: TestClient) -> None:
    question = "Where was the 2026 Yangtze River Delta leaders' symposium held?"
    answer = client.post("/ask", json={"question": question, "top_k": 3}).json()

    assert answer["language"] == "en"
    assert answer["question"] == question
    assert answer["found"] is True and answer["short_answer"] == "上海"
    assert "Shanghai" in answer["answer"]
    assert "上海" in answer["citations"][0]["sentence"]


def test_the_english_which_city_question_is_answered_with_shanghai(client: TestClient) -> None:
    answer = client.post("/ask", json={"question": EN_QUESTION, "top_k": 3}).json()

    assert answer["found"] is True and answer["short_answer"] == "上海"


def test_ask_uses_history_for_a_follow_up(client: TestClient) -> None:
    body = {"question": "那2027年呢？", "history": [{"question": ZH_QUESTION, "answer": "上海 [1]"}]}

    answer = client.post("/ask", json=body).json()

    assert "2027" in answer["retrieval_query"]
    assert "座谈会" in answer["retrieval_query"]


def test_the_response_carries_a_request_id_and_honours_a_given_one(client: TestClient) -> None:
    generated = client.get("/healthz").headers["X-Request-ID"]
    given = client.get("/healthz", headers={"X-Request-ID": "trace-123"}).headers["X-Request-ID"]
    unsafe = client.get("/healthz", headers={"X-Request-ID": "bad id\twith spaces"}).headers["X-Request-ID"]

    assert len(generated) == 32
    assert given == "trace-123"
    assert unsafe != "bad id\twith spaces"


def test_stream_sends_citations_then_deltas_then_done_equal_to_ask(client: TestClient) -> None:
    with client.stream("POST", "/ask/stream", json={"question": ZH_QUESTION}) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        events = parse_sse(response.read().decode("utf-8"))
    asked = client.post("/ask", json={"question": ZH_QUESTION}).json()

    kinds = [kind for kind, _ in events]
    assert kinds[0] == "citations"
    assert kinds[-1] == "done"
    assert set(kinds[1:-1]) == {"delta"}
    done = events[-1][1]
    assert isinstance(done, dict)
    assert "".join(data["text"] for kind, data in events if kind == "delta") == done["answer"]  # type: ignore[index]
    assert events[0][1] == done["citations"]
    assert without_timings(done) == without_timings(asked)


def test_search_ranks_passages_in_each_mode(client: TestClient) -> None:
    for mode in ("hybrid", "dense", "lexical"):
        response = client.get("/search", params={"q": "长三角 大气污染防治", "k": 3, "mode": mode})

        assert response.status_code == 200
        result = response.json()
        assert result["mode"] == mode
        assert [hit["rank"] for hit in result["hits"]] == [1, 2, 3]
        assert all(hit["text"] and hit["doc_id"] for hit in result["hits"])
        scores = [hit["score"] for hit in result["hits"]]
        assert scores == sorted(scores, reverse=True)


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["status"] == "ready"


def test_documents_can_be_listed_without_a_key(client: TestClient) -> None:
    documents = client.get("/documents").json()["documents"]

    assert len(documents) == 1
    assert documents[0]["source"].endswith(".txt")
    assert documents[0]["chunks"] > 0


def test_openapi_docs_have_chinese_and_english_examples(client: TestClient) -> None:
    assert "swagger" in client.get("/docs").text.lower()
    schema = client.get("/openapi.json").json()

    examples = schema["paths"]["/ask"]["post"]["requestBody"]["content"]["application/json"]["examples"]
    questions = [example["value"]["question"] for example in examples.values()]
    assert any("座谈会" in question for question in questions)
    assert any("symposium" in question for question in questions)
    assert "/" not in schema["paths"]  # left free for the chat page


def test_the_api_keeps_working_with_a_page_mounted_at_the_root(engine: Engine) -> None:
    app = create_app(engine, api_settings(engine.index_dir))
    app.mount("/", PlainTextResponse("the chat page"))  # as ui.app.mount_ui does, after the API

    with serve_client(app) as client:
        assert client.get("/").text == "the chat page"
        assert client.get("/healthz").json() == {"status": "ok"}
        assert client.post("/ask", json={"question": ZH_QUESTION}).json()["short_answer"] == "上海"


def test_each_request_is_one_json_log_line_without_secrets(
    client: TestClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="rag.api.access"):
        response = client.post(
            "/ask", json={"question": ZH_QUESTION}, headers={"Authorization": f"Bearer {API_KEY}"}
        )

    lines = [json.loads(record.getMessage()) for record in caplog.records if record.name == "rag.api.access"]
    assert len(lines) == 1
    line = lines[0]
    assert line["request_id"] == response.headers["X-Request-ID"]
    assert (line["method"], line["route"], line["status"], line["answerer"]) == (
        "POST",
        "/ask",
        200,
        "extractive",
    )
    assert line["latency_ms"] > 0
    assert line["pid"] == int(response.headers["X-Server-Pid"]) == os.getpid()  # the app runs in this process
    assert API_KEY not in caplog.text


def test_cors_follows_the_configured_origins(client_with, client: TestClient) -> None:  # noqa: ANN001
    preflight = {"Origin": "http://example.org", "Access-Control-Request-Method": "POST"}
    assert "access-control-allow-origin" not in client.options("/ask", headers=preflight).headers

    with client_with(cors_origins="http://example.org") as cors_client:
        allowed = cors_client.options("/ask", headers=preflight)
        simple = cors_client.get("/healthz", headers={"Origin": "http://example.org"})
        other = cors_client.get("/healthz", headers={"Origin": "http://evil.example"})

    assert allowed.headers["access-control-allow-origin"] == "http://example.org"
    assert simple.headers["access-control-allow-origin"] == "http://example.org"
    assert "access-control-allow-origin" not in other.headers
