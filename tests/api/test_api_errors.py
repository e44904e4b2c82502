"""Bad input gets a clear 4xx JSON error `{"error": {"type", "message"}}`, never a 500."""

import time
from pathlib import Path
from typing import Any

import pytest
from api_helpers import ZH_QUESTION, api_settings, serve_client
from fastapi.testclient import TestClient

from ingest.embedder import Embedder
from rag.edges.api.app import create_app
from rag.engine import Engine


def error_of(response: Any, status: int) -> dict[str, str]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    error = response.json()["error"]
    assert set(error) == {"type", "message"}
    return error


@pytest.mark.parametrize(
    ("body", "field", "words"),
    [
        ({"question": ""}, "question", "at least 1"),
        ({"question": " \t\n\u3000 "}, "question", "empty"),
        ({"question": "问" * 2001}, "question", "2000"),
        ({"question": 42}, "question", "string"),
        ({"question": ["a"]}, "question", "string"),
        ({"question": ZH_QUESTION, "top_k": 0}, "top_k", "greater than or equal to 1"),
        ({"question": ZH_QUESTION, "top_k": 51}, "top_k", "less than or equal to 50"),
        ({"question": ZH_QUESTION, "top_k": "5"}, "top_k", "integer"),
        ({"question": ZH_QUESTION, "top_k": 2.5}, "top_k", "integer"),
        ({"question": ZH_QUESTION, "history": "earlier"}, "history", "list"),
        ({"question": ZH_QUESTION, "history": [{"answer": "上海"}]}, "history.0.question", "required"),
        ({"question": ZH_QUESTION, "use_llm": "yes"}, "use_llm", "boolean"),
        ({"question": ZH_QUESTION, "topk": 3}, "topk", "not permitted"),
        ({}, "question", "required"),
    ],
)
def test_invalid_fields_are_422_naming_the_field(
    client: TestClient, body: dict, field: str, words: str
) -> None:
    error = error_of(client.post("/ask", json=body), 422)

    assert error["type"] == "validation_error"
    assert error["message"].startswith(f"{field}: ")
    assert words in error["message"]


def test_a_question_of_exactly_the_limit_is_accepted(client: TestClient) -> None:
    assert client.post("/ask", json={"question": "长三角" + "问" * 1997, "top_k": 50}).status_code == 200


def test_invalid_json_is_400(client: TestClient) -> None:
    response = client.post(
        "/ask", content=b'{"question": "unterminated', headers={"content-type": "application/json"}
    )

    error = error_of(response, 400)
    assert error["type"] == "invalid_json"


def test_a_body_that_is_not_utf8_is_400(client: TestClient) -> None:
    gbk = '{"question": "座谈会在哪里召开"}'.encode("gbk")

    error = error_of(client.post("/ask", content=gbk, headers={"content-type": "application/json"}), 400)

    assert error["type"] in {"invalid_body", "invalid_json"}
    assert "UTF-8" in error["message"] or "JSON" in error["message"]


def test_a_lone_surrogate_is_422_not_a_crash(client: TestClient) -> None:
    body = b'{"question": "\\ud800 where?"}'

    error = error_of(client.post("/ask", content=body, headers={"content-type": "application/json"}), 422)

    assert "unicode" in error["message"]


@pytest.mark.parametrize("body", [b"", b"[]", b'"question"', b"null"])
def test_a_missing_or_non_object_body_is_422(client: TestClient, body: bytes) -> None:
    error = error_of(client.post("/ask", content=body, headers={"content-type": "application/json"}), 422)

    assert error["type"] == "validation_error"


@pytest.mark.parametrize(
    ("params", "words"),
    [
        ({"q": "   "}, "empty"),
        ({}, "required"),
        ({"q": "长三角", "k": 0}, "greater than or equal to 1"),
        ({"q": "长三角", "k": "many"}, "integer"),
        ({"q": "长三角", "mode": "semantic"}, "'hybrid', 'dense' or 'lexical'"),
    ],
)
def test_search_rejects_bad_parameters(client: TestClient, params: dict, words: str) -> None:
    error = error_of(client.get("/search", params=params), 422)

    assert words in error["message"]


@pytest.mark.parametrize(
    ("messages", "status", "words"),
    [
        ([], 422, "at least 1"),
        ([{"role": "assistant", "content": "hello"}], 400, "last message must come from the user"),
        ([{"role": "user", "content": "  "}], 400, "empty"),
        ([{"role": "user", "content": "问" * 2001}], 400, "2000"),
        ([{"role": "wizard", "content": "hi"}], 422, "role"),
        ([{"role": "user", "content": 7}], 422, "content"),
    ],
)
def test_chat_rejects_bad_conversations(client: TestClient, messages: list, status: int, words: str) -> None:
    response = client.post("/v1/chat/completions", json={"model": "report-rag", "messages": messages})

    assert words in error_of(response, status)["message"]


def test_unknown_routes_and_methods_are_json(client: TestClient) -> None:
    assert error_of(client.get("/no/such/route"), 404)["type"] == "not_found"
    assert error_of(client.get("/ask"), 405)["type"] == "method_not_allowed"
    wrong_method = client.put("/documents")
    assert error_of(wrong_method, 405)["type"] == "method_not_allowed"
    assert wrong_method.headers["Allow"] == "GET, POST"  # both routes of the path, not the first


def test_unknown_document_id_is_404_only_with_write_access(client: TestClient) -> None:
    # without RAG_API_KEY writes are off, so the id is never looked up
    error = error_of(client.delete("/documents/no-such-doc"), 403)

    assert "RAG_API_KEY" in error["message"]


def test_questions_before_the_index_exists_get_503_with_the_fix(tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "empty"
    engine = Engine(api_settings(index_dir), index_dir=index_dir, embedder=embedder)
    app = create_app(engine, api_settings(index_dir), build_index=False)

    with serve_client(app, ready=False) as client:
        for _ in range(500):  # the loader thread has started: wait for its verdict
            if "no index" in client.get("/readyz").json()["reason"]:
                break
            time.sleep(0.01)
        response = client.post("/ask", json={"question": ZH_QUESTION})

    error = error_of(response, 503)
    assert error["type"] == "not_ready"
    assert "rag ingest" in error["message"]
    assert response.headers["Retry-After"]
