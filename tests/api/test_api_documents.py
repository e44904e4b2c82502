"""Documents over HTTP: auth on writes, an upload that changes answers, delete, readiness."""

import asyncio
import gc
import io
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from api_helpers import API_KEY, ZH_QUESTION, api_settings, copy_index, live_server, serve_client
from fastapi.testclient import TestClient

from ingest.embedder import Embedder
from rag.edges.api.app import create_app
from rag.engine import Engine

AUTH = {"Authorization": f"Bearer {API_KEY}"}
FACT_NAME = "qingshi-2031.md"
FACT = (
    "# 青石镇2031年工作报告\n\n青石镇2031年的吉祥物是一只名叫墨团的蓝色水獭。\n\n该镇当年新修了三座石桥。\n"
)
FACT_QUESTION = "青石镇2031年的吉祥物叫什么名字？"


@pytest.fixture(scope="module")
def writable_engine(
    bundled_index: Path, tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Engine:
    """Its own copy of the bundled index: these tests change it."""
    index_dir = copy_index(bundled_index, tmp_path_factory.mktemp("writable"))
    engine = Engine(api_settings(index_dir), index_dir=index_dir, embedder=embedder)
    engine.warm_up()
    return engine


@pytest.fixture(scope="module")
def writer(writable_engine: Engine) -> Iterator[TestClient]:
    app = create_app(writable_engine, api_settings(writable_engine.index_dir, api_key=API_KEY))
    with serve_client(app) as client:
        yield client


def upload(
    client: TestClient, name: str, data: bytes, headers: dict[str, str] | None = None
) -> httpx.Response:
    return client.post("/documents", files={"file": (name, data)}, headers=headers or {})


def test_writes_are_disabled_without_a_configured_key(client: TestClient) -> None:
    for response in (upload(client, "a.md", b"hello", AUTH), client.delete("/documents/x", headers=AUTH)):
        assert response.status_code == 403
        assert "set RAG_API_KEY" in response.json()["error"]["message"]


@pytest.mark.parametrize(
    "headers", [{}, {"Authorization": "Bearer wrong"}, {"Authorization": f"Basic {API_KEY}"}]
)
def test_a_missing_or_wrong_key_is_401(writer: TestClient, headers: dict[str, str]) -> None:
    for response in (
        upload(writer, "a.md", b"hello", headers),
        writer.delete("/documents/x", headers=headers),
    ):
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "unauthorized"
        assert response.headers["WWW-Authenticate"] == "Bearer"


def test_an_upload_changes_the_answers_and_a_delete_undoes_it(writer: TestClient) -> None:
    before = writer.post("/ask", json={"question": FACT_QUESTION}).json()
    assert "墨团" not in before["answer"]

    added = upload(writer, FACT_NAME, FACT.encode("utf-8"), AUTH)
    assert added.status_code == 201, added.text
    doc_id = added.json()["doc_id"]
    assert added.json()["status"] == "added"
    assert doc_id in {doc["doc_id"] for doc in writer.get("/documents").json()["documents"]}

    answer = writer.post("/ask", json={"question": FACT_QUESTION}).json()
    assert answer["found"] is True
    assert "墨团" in answer["answer"]
    assert answer["citations"][0]["doc_id"] == doc_id
    assert answer["citations"][0]["source"] == FACT_NAME

    again = upload(writer, FACT_NAME, FACT.encode("utf-8"), AUTH)
    assert (again.json()["doc_id"], again.json()["status"]) == (doc_id, "unchanged")

    removed = writer.delete(f"/documents/{doc_id}", headers=AUTH)
    assert removed.status_code == 200
    assert removed.json()["removed"] == doc_id
    assert doc_id not in {doc["doc_id"] for doc in writer.get("/documents").json()["documents"]}
    after = writer.post("/ask", json={"question": FACT_QUESTION}).json()
    assert all(citation["doc_id"] != doc_id for citation in after["citations"])

    gone = writer.delete(f"/documents/{doc_id}", headers=AUTH)
    assert gone.status_code == 404
    assert gone.json()["error"]["type"] == "document_not_found"


def test_a_docx_upload_is_read(writer: TestClient) -> None:
    import docx

    document = docx.Document()
    document.add_heading("白塔村简报", level=1)
    document.add_paragraph("白塔村2032年种下了四千棵银杏树。")
    data = io.BytesIO()
    document.save(data)

    added = upload(writer, "baita.docx", data.getvalue(), AUTH)
    assert added.status_code == 201, added.text
    try:
        answer = writer.post("/ask", json={"question": "白塔村2032年种了多少棵银杏树？"}).json()
        assert "四千" in answer["answer"]
    finally:
        writer.delete(f"/documents/{added.json()['doc_id']}", headers=AUTH)


@pytest.mark.parametrize(
    ("name", "data", "status", "kind"),
    [
        ("tool.exe", b"MZ\x90\x00", 415, "unsupported_file"),
        ("notes", b"plain", 415, "unsupported_file"),
        ("binary.txt", b"\x00\x01\x02\x03" * 64, 400, "bad_input"),
        ("broken.pdf", b"%PDF-1.7 not really", 400, "bad_input"),
        ("broken.docx", b"PK not a zip", 400, "bad_input"),
    ],
)
def test_unreadable_uploads_are_4xx(
    writer: TestClient, name: str, data: bytes, status: int, kind: str
) -> None:
    response = upload(writer, name, data, AUTH)

    assert response.status_code == status, response.text
    assert response.json()["error"]["type"] == kind


def test_an_upload_needs_a_file_field(writer: TestClient) -> None:
    response = writer.post("/documents", data={"name": "x.md"}, headers=AUTH)

    assert response.status_code == 422


def test_questions_keep_being_answered_during_an_upload(writable_engine: Engine) -> None:
    app = create_app(
        writable_engine, api_settings(writable_engine.index_dir, api_key=API_KEY, max_concurrency=4)
    )

    async def run(url: str) -> tuple[list[int], int]:
        async with httpx.AsyncClient(base_url=url, timeout=60) as http:
            files = {"file": ("swap-" + FACT_NAME, FACT.encode("utf-8"))}
            writing = asyncio.create_task(http.post("/documents", files=files, headers=AUTH))
            statuses = []
            while not writing.done():
                statuses.append((await http.post("/ask", json={"question": ZH_QUESTION})).status_code)
            written = await writing
            await http.delete(f"/documents/{written.json()['doc_id']}", headers=AUTH)
            return statuses, written.status_code

    with live_server(app) as url:
        statuses, written = asyncio.run(run(url))

    assert written == 201
    assert statuses and set(statuses) == {200}


def test_a_serving_app_freezes_its_heap_once_loaded_and_again_after_a_write(writable_engine: Engine) -> None:
    app = create_app(
        writable_engine, api_settings(writable_engine.index_dir, api_key=API_KEY), freeze_heap=True
    )
    try:
        with serve_client(app) as client:
            loaded = gc.get_freeze_count()
            files = {"file": (FACT_NAME, FACT.encode("utf-8"))}
            written = client.post("/documents", files=files, headers=AUTH)
            installed = writable_engine._loaded()
            # frozen objects are in no generation: the collector no longer walks this version
            new_version_frozen = not any(tracked is installed for tracked in gc.get_objects())
            answer = client.post("/ask", json={"question": FACT_QUESTION}).json()
            client.delete(f"/documents/{written.json()['doc_id']}", headers=AUTH)
    finally:
        gc.unfreeze()

    assert loaded > 100_000  # the model's, the glossary's and the index's objects
    assert written.status_code == 201 and new_version_frozen
    assert answer["found"] and answer["citations"]  # the new version answers


def test_readiness_is_503_with_the_reason_until_an_index_exists(tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "index"
    engine = Engine(api_settings(index_dir), index_dir=index_dir, embedder=embedder)
    app = create_app(engine, api_settings(index_dir), build_index=False)
    report = tmp_path / "report.md"
    report.write_text(FACT, encoding="utf-8")

    with serve_client(app, ready=False) as client:
        assert client.get("/healthz").status_code == 200
        deadline = time.monotonic() + 30
        while "no index" not in (reason := client.get("/readyz").json()["reason"]):
            assert time.monotonic() < deadline, reason
            time.sleep(0.01)
        not_ready = client.get("/readyz")
        assert not_ready.status_code == 503
        assert "run `rag ingest`" in not_ready.json()["reason"]

        engine.ingest([report])  # what `rag ingest` does

        while client.get("/readyz").status_code != 200:
            assert time.monotonic() < deadline + 60
            time.sleep(0.05)
        answer = client.post("/ask", json={"question": FACT_QUESTION}).json()

    assert "墨团" in answer["answer"]


@pytest.mark.slow
def test_the_first_start_builds_the_bundled_index(tmp_path: Path, embedder: Embedder) -> None:
    index_dir = tmp_path / "index"
    engine = Engine(api_settings(index_dir), index_dir=index_dir, embedder=embedder)

    with serve_client(create_app(engine, api_settings(index_dir)), ready=False) as client:
        reasons = {client.get("/readyz").json()["reason"]}
        deadline = time.monotonic() + 180
        while client.get("/readyz").status_code != 200:
            reasons.add(client.get("/readyz").json()["reason"])
            assert time.monotonic() < deadline
            time.sleep(0.1)
        answer = client.post("/ask", json={"question": ZH_QUESTION}).json()

    assert any("building the index" in reason for reason in reasons)
    assert answer["short_answer"] == "上海"
