"""Every `rag` subcommand honours --json: its stdout parses as JSON (one object, or one per line).

`serve` runs until stopped, so only its --help is checked here (the API tests serve the app).
"""

import io
import json
from pathlib import Path

import pytest

from eval.dataset import DEFAULT_PATH
from rag.edges.cli import main
from rag.engine import Engine

ZH_QUESTION = "2027年度长三角地区主要领导座谈会在哪里召开？"


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, bundled_engine: Engine, cache_root: Path) -> Engine:
    monkeypatch.setenv("RAG_INDEX_DIR", str(bundled_engine.index_dir))
    monkeypatch.setenv("RAG_CACHE_DIR", str(cache_root))
    monkeypatch.setenv("RAG_LLM_BASE_URL", "")
    monkeypatch.setenv("RAG_LLM_MODEL", "")
    return bundled_engine


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> list[dict]:
    assert main([*argv, "--json"]) == 0
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_each_subcommand_prints_json(
    cli_env: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    [ingested] = run_json(capsys, "ingest")
    assert ingested["changed"] is False and ingested["documents"] == 1

    [searched] = run_json(capsys, "search", ZH_QUESTION, "--k", "2")
    assert len(searched["hits"]) == 2 and searched["mode"] == "hybrid"

    [asked] = run_json(capsys, "ask", ZH_QUESTION)
    assert asked["short_answer"] == "安徽省" and asked["found"] is True

    monkeypatch.setattr("sys.stdin", io.StringIO(f"{ZH_QUESTION}\n那2026年呢？\n\n"))
    first, follow_up = run_json(capsys, "chat")
    assert first["short_answer"] == "安徽省"
    assert follow_up["question"] == "那2026年呢？" and "上海" in follow_up["answer"]

    [listed] = run_json(capsys, "documents")
    assert [doc["source"] for doc in listed["documents"]] == ["000_a507548b56e5d456.txt"]

    dataset = tmp_path / "two.jsonl"
    dataset.write_text("".join(DEFAULT_PATH.read_text(encoding="utf-8").splitlines(keepends=True)[:2]), encoding="utf-8")
    [evaluated] = run_json(capsys, "eval", "--dataset", str(dataset))
    assert evaluated["dataset"] == "report" and evaluated["metrics"]["hybrid"]["all"]["questions"] == 2


def test_serve_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit:
        main(["serve", "--help"])
    assert exit.value.code == 0 and "--json" in capsys.readouterr().out
