"""`rag eval` end to end with the real model: the report set and a tiny SQuAD-format benchmark.

Goes through `run_eval` with arguments parsed by the real `rag` parser, so the flags, the
JSON, the HTML file and the threshold gate are checked together.
"""

import json
import re
from pathlib import Path

import pytest

from eval.dataset import DEFAULT_PATH
from eval.runner import run_eval
from eval.thresholds import check
from ingest.embedder import Embedder
from rag.config import Settings
from rag.edges.cli import build_parser, eval_arguments
from rag.engine import Engine


def _settings(root: Path) -> Settings:
    # Explicit, so the caller's RAG_* environment (an LLM, another cache) cannot leak in.
    return Settings(index_dir=root / "index", cache_dir=root / "cache", llm_base_url="", llm_model="")


def _mixed_dataset(path: Path) -> Path:
    """The bundled set interleaved zh, en, zh, en, ... with unanswerable items near the front."""
    items = [
        json.loads(line) for line in DEFAULT_PATH.read_text(encoding="utf-8").splitlines() if line.strip()
    ]
    picked = []
    for language in ("zh", "en"):
        own = [item for item in items if item["language"] == language]
        picked.append(
            [item for item in own if not item["answerable"]][:2]
            + [item for item in own if item["answerable"]][:6]
        )
    interleaved = [item for pair in zip(*picked, strict=True) for item in pair]
    path.write_text(
        "".join(json.dumps(item, ensure_ascii=False) + "\n" for item in interleaved), encoding="utf-8"
    )
    return path


@pytest.fixture(scope="module")
def report_run(tmp_path_factory: pytest.TempPathFactory, embedder: Embedder) -> dict:
    root = tmp_path_factory.mktemp("eval-cli")
    settings = _settings(root)
    engine = Engine(settings, index_dir=settings.index_dir, embedder=embedder)
    engine.ingest()
    out, html = root / "out" / "eval.json", root / "out" / "eval.html"
    args = build_parser().parse_args(
        [
            "eval",
            "--limit",
            "12",
            "--dataset",
            str(_mixed_dataset(root / "mixed.jsonl")),
            "--out",
            str(out),
            "--html",
            str(html),
            "--check",
            "--index",
            str(settings.index_dir),
        ]
    )
    status = run_eval(engine, **eval_arguments(args))
    return {"status": status, "result": json.loads(out.read_text(encoding="utf-8")), "html": html}


def test_report_json_has_metrics_per_language(report_run):
    result = report_run["result"]
    assert result["dataset"] == "report"
    assert list(result["metrics"]) == ["hybrid"]
    # per language, and per frozen split (dev tunes, test reports) with its languages
    assert {"all", "zh", "en"} <= set(result["metrics"]["hybrid"])
    splits = {item["split"] for item in result["items"]}
    assert {key for key in result["metrics"]["hybrid"] if key not in ("all", "zh", "en")} == splits | {
        f"{split}:{language}" for split in splits for language in {i["language"] for i in result["items"] if i["split"] == split}
    }
    overall = result["metrics"]["hybrid"]["all"]
    assert overall["questions"] == 12  # --limit
    assert overall["answerable"] == 8
    for name in ("hit@1", "hit@5", "mrr", "ndcg@10", "accuracy", "refusal_recall", "latency_p50_ms"):
        assert 0 <= overall[name] <= (1 if "latency" not in name else 60_000), name
    assert [item["language"] for item in result["items"][:4]] == ["zh", "en", "zh", "en"]
    assert result["failures"] == [item for item in result["items"] if not item["passed"]]


def test_check_exit_status_follows_the_thresholds(report_run):
    problems = check("report", report_run["result"]["metrics"]["hybrid"]["all"])
    assert report_run["status"] == (1 if problems else 0)


def test_html_report_is_written_and_self_contained(report_run):
    page = report_run["html"].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    assert page.count('<article class="q ') == 12
    assert "<svg " in page
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page)
    assert "http://" not in page and "https://" not in page


def _squad(paragraphs: list[tuple[str, list[tuple[str, str, str]]]]) -> dict:
    """SQuAD v1.1 JSON with one article from (context, [(qid, question, answer)]) pairs."""
    return {
        "version": "1.1",
        "data": [
            {
                "title": "Tiny",
                "paragraphs": [
                    {
                        "context": context,
                        "qas": [
                            {
                                "id": qid,
                                "question": question,
                                "answers": [{"answer_start": context.find(answer), "text": answer}],
                            }
                            for qid, question, answer in qas
                        ],
                    }
                    for context, qas in paragraphs
                ],
            }
        ],
    }


ZH_BENCH = _squad(
    [
        (
            "2026年度长三角地区主要领导座谈会在上海举行。",
            [("q1", "2026年度长三角座谈会在哪个城市举行？", "上海")],
        ),
        ("大熊猫主要生活在四川的竹林里，以竹子为食。", [("q2", "大熊猫主要吃什么？", "竹子")]),
        ("长江是中国最长的河流，全长约六千三百公里。", [("q3", "中国最长的河流是哪条？", "长江")]),
    ]
)
EN_BENCH = _squad(
    [
        (
            "The 2026 Yangtze River Delta symposium was held in Shanghai.",
            [("q1", "Which city hosted the 2026 Yangtze River Delta symposium?", "Shanghai")],
        ),
        (
            "Giant pandas live mostly in the bamboo forests of Sichuan and eat bamboo.",
            [("q2", "What do giant pandas mainly eat?", "bamboo")],
        ),
        (
            "The Yangtze is the longest river in China, about 6,300 km long.",
            [("q3", "What is the longest river in China?", "Yangtze")],
        ),
    ]
)


def test_squad_benchmark_with_parallel_english_questions(tmp_path, embedder, capsys):
    corpus, questions = tmp_path / "tiny.zh.json", tmp_path / "tiny.en.json"
    corpus.write_text(json.dumps(ZH_BENCH, ensure_ascii=False), encoding="utf-8")
    questions.write_text(json.dumps(EN_BENCH), encoding="utf-8")
    settings = _settings(tmp_path)
    engine = Engine(settings, index_dir=settings.index_dir, embedder=embedder)

    def run(*extra: str) -> dict:
        out = tmp_path / "squad.json"
        args = build_parser().parse_args(["eval", "--squad", str(corpus), *extra, "--out", str(out)])
        assert run_eval(engine, **eval_arguments(args)) == 0
        return json.loads(out.read_text(encoding="utf-8"))

    english = run("--questions", str(questions))
    assert english["dataset"] == "tiny.zh<-tiny.en"
    assert set(english["metrics"]["hybrid"]) == {"all", "en"}
    assert [item["id"] for item in english["items"]] == ["q1", "q2", "q3"]
    # English questions are judged against the Chinese passages and answers.
    assert english["items"][0]["expected"] == ["上海"]
    assert english["metrics"]["hybrid"]["all"]["hit@1"] == 1.0
    assert "indexed 3 passages" in capsys.readouterr().err
    # The benchmark index lives in the cache, not in the main index, and is reused.
    assert list((tmp_path / "cache" / "benchmarks").iterdir())[0].name.startswith("tiny.zh-")
    assert not (tmp_path / "index").exists()

    chinese = run()
    assert "indexed" not in capsys.readouterr().err
    assert chinese["dataset"] == "tiny.zh"
    assert set(chinese["metrics"]["hybrid"]) == {"all", "zh"}
    assert chinese["metrics"]["hybrid"]["zh"]["hit@1"] == 1.0
    assert chinese["metrics"]["hybrid"]["zh"]["accuracy"] == 1.0
