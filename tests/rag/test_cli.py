"""The `rag` command line, run in-process (`rag.edges.cli.main`) over the session's bundled index.

Each command builds its own Engine and so loads the model again (a few seconds): the tests
use few invocations and check several behaviours in each, through --jsonl where they can. They
ask in Chinese except once: the first English question in a process parses the CC-CEDICT
glossary (seconds), and English answering is covered in-process by test_answers_report.py.
"""

import io
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ingest.index import CURRENT_FILE
from ingest.records import text_at
from rag.edges.cli import MAX_TOP_K, main
from rag.engine import Engine

REPORT = Path(__file__).resolve().parents[2] / "ingest" / "corpus" / "000_a507548b56e5d456.txt"
HOSTS_2027 = "2027年度长三角地区主要领导座谈会在安徽省召开"
HIT_FIELDS = {"rank", "score", "text", "doc_id", "source", "chunk_id", "spans"}
ANSWER_FIELDS = {"question", "answer", "short_answer", "found", "citations", "language", "timings_ms"}
CITATION_FIELDS = {"n", "doc_id", "source", "chunk_id", "text", "sentence", "spans", "score"}


@pytest.fixture(scope="module")
def source_text() -> str:
    return REPORT.read_bytes().decode("utf-8")


@pytest.fixture
def cli_env(monkeypatch: pytest.MonkeyPatch, bundled_engine: Engine, cache_root: Path) -> Engine:
    """Point the CLI at the shared index and model cache, with no LLM configured."""
    monkeypatch.setenv("RAG_INDEX_DIR", str(bundled_engine.index_dir))
    monkeypatch.setenv("RAG_CACHE_DIR", str(cache_root))
    monkeypatch.setenv("RAG_LLM_BASE_URL", "")
    monkeypatch.setenv("RAG_LLM_MODEL", "")
    return bundled_engine


def json_lines(out: str) -> list[dict]:
    return [json.loads(line) for line in out.splitlines()]


def check_answer(data: dict, source: str) -> None:
    assert ANSWER_FIELDS <= data.keys()
    for citation in data["citations"]:
        assert CITATION_FIELDS <= citation.keys()
        assert text_at(source, [tuple(span) for span in citation["spans"]]) == citation["sentence"]
        assert f"[{citation['n']}]" in data["answer"]


def test_help_exits_0_without_loading_the_heavy_libraries(tmp_path: Path) -> None:
    rag = Path(sys.executable).with_name("rag")
    result = subprocess.run([str(rag), "--help"], capture_output=True, text=True, cwd=tmp_path, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "usage: rag" in result.stdout and "ask" in result.stdout and "search" in result.stdout

    probe = (
        "import sys\nfrom rag.edges.cli import main\ntry:\n    main(['--help'])\nexcept SystemExit as exit:\n"
        "    assert exit.code == 0\n"
        "print([m for m in ('torch', 'faiss', 'sentence_transformers', 'jieba', 'bm25s', 'gradio') if m in sys.modules])"
    )
    result = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_ask_json(cli_env: Engine, capsys: pytest.CaptureFixture[str], source_text: str) -> None:
    question = "2027年度长三角地区主要领导座谈会在哪个省召开？"
    assert main(["ask", "--json", question]) == 0
    out = capsys.readouterr().out
    assert out.count("\n") == 1  # one JSON object, one line
    data = json.loads(out)
    check_answer(data, source_text)
    assert data["question"] == question
    assert data["found"] is True and data["language"] == "zh"
    assert "安徽" in data["short_answer"]
    assert any(HOSTS_2027 in citation["sentence"] for citation in data["citations"])
    assert data["citations"][0]["source"] == REPORT.name


def test_search_json(cli_env: Engine, capsys: pytest.CaptureFixture[str], source_text: str) -> None:
    query = "2027年度长三角地区主要领导座谈会在哪里召开？"
    assert main(["search", "--json", "--k", "3", query]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["query"] == query
    hits = data["hits"]
    assert [hit["rank"] for hit in hits] == [1, 2, 3]
    assert all(HIT_FIELDS <= hit.keys() for hit in hits)
    assert HOSTS_2027 in hits[0]["text"]
    scores = [hit["score"] for hit in hits]
    assert all(isinstance(score, float) for score in scores) and scores == sorted(scores, reverse=True)
    for hit in hits:
        assert hit["source"] == REPORT.name
        assert hit["chunk_id"].startswith(hit["doc_id"])
        assert all(len(span) == 2 and span[0] < span[1] for span in hit["spans"])
        assert text_at(source_text, [tuple(span) for span in hit["spans"]]) == hit["text"]


def test_ask_jsonl_file_answers_each_line_in_order(
    cli_env: Engine, capsys: pytest.CaptureFixture[str], tmp_path: Path, source_text: str
) -> None:
    questions = tmp_path / "questions.jsonl"
    questions.write_text(
        "江苏省委书记是谁？\n"
        "\n"
        + json.dumps({"id": "q2", "question": "2027年度座谈会在哪个省召开？"}, ensure_ascii=False)
        + "\n杭州亚运会是哪一年举办的？\n"
        + json.dumps({"question": "   "})
        + "\n",
        encoding="utf-8",
    )
    assert main(["ask", "--jsonl", str(questions)]) == 0
    first, second, third, fourth = json_lines(capsys.readouterr().out)

    for answer in (first, second, third):
        check_answer(answer, source_text)
    assert first["question"] == "江苏省委书记是谁？" and first["short_answer"] == "信长星"
    assert second["question"] == "2027年度座谈会在哪个省召开？" and "安徽" in second["short_answer"]
    assert (
        third["found"] is False and third["answer"] == "报告中没有找到相关内容。" and third["citations"] == []
    )
    assert fourth["question"] == "   " and "empty" in fourth["error"]  # a bad line does not stop the rest


def test_ask_jsonl_from_stdin(
    cli_env: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        sys,
        "stdin",
        io.StringIO("举办的是第几届长三角一体化发展高层论坛？\nWho is the Party secretary of Jiangsu?\n"),
    )
    assert main(["ask", "--jsonl", "-"]) == 0
    answers = json_lines(capsys.readouterr().out)
    assert [a["short_answer"] for a in answers] == ["第八届", "信长星"]
    assert [a["language"] for a in answers] == ["zh", "en"]


def test_documents_json(cli_env: Engine, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["documents", "--json"]) == 0
    [document] = json.loads(capsys.readouterr().out)["documents"]
    index = cli_env.index
    assert document["source"] == REPORT.name
    assert document["doc_id"] == index.chunks[0].doc_id
    assert document["chunks"] == len(index.chunks)
    assert document["content_hash"] == index.documents[document["doc_id"]].content_hash


def test_ingest_json_on_a_current_index_reports_no_change(
    cli_env: Engine, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    index_dir = Path(shutil.copytree(cli_env.index_dir, tmp_path / "index"))
    live = (index_dir / CURRENT_FILE).read_text()

    assert main(["ingest", "--json", "--index", str(index_dir)]) == 0

    report = json.loads(capsys.readouterr().out)
    assert report["changed"] is False and report["embedded_chunks"] == 0
    assert report["unchanged"] == [cli_env.index.chunks[0].doc_id]
    assert report["index_dir"] == str(index_dir)
    assert (index_dir / CURRENT_FILE).read_text() == live


def test_search_without_an_index_is_one_line_saying_to_ingest(
    cli_env: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("RAG_INDEX_DIR", str(tmp_path / "empty"))
    assert main(["search", "which province hosts 2027?"]) == 1
    captured = capsys.readouterr()
    assert captured.out == ""
    lines = captured.err.strip().splitlines()
    assert len(lines) == 1, captured.err
    assert re.match(r"error: no index in .*empty.*`rag ingest", lines[0]), lines[0]


def test_input_errors_need_no_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["ask"]) == 1
    assert capsys.readouterr().err.startswith("error: give a question")
    assert main(["ask", "--jsonl", str(tmp_path / "missing.txt")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("error: no such file") and err.count("\n") == 1


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["search", "--k", "0", "安徽"], f"must be between 1 and {MAX_TOP_K}"),
        (["search", "--k", str(MAX_TOP_K + 1), "安徽"], f"must be between 1 and {MAX_TOP_K}"),
        (["search", "--k", "three", "安徽"], "not a whole number"),
        (["ask", "--top-k", "-1", "安徽"], "must be between"),
        (["search", "--mode", "sparse", "安徽"], "invalid choice"),
    ],
)
def test_bad_arguments_are_argparse_errors(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit:
        main(argv)
    assert exit.value.code == 2
    assert message in capsys.readouterr().err
