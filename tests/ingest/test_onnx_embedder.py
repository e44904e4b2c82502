"""The ONNX backend: agreement with torch, the one-time export (reused, rebuilt when damaged,
built once by concurrent processes), backend choice and its errors, and a query path without
torch."""

from __future__ import annotations

import json
import logging
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest

from ingest.e5_model import model_id
from ingest.embedder import Embedder, load_embedder
from ingest.errors import BadInput, ModelUnavailable
from ingest.onnx_embedder import (
    MANIFEST,
    OnnxEmbedder,
    check_probe,
    ensure_onnx_export,
    export_dir,
    is_current,
    read_encoder_config,
)
from ingest.torch_embedder import SentenceTransformerEmbedder

ROOT = Path(__file__).resolve().parents[2]
REPORT = ROOT / "ingest" / "corpus" / "000_a507548b56e5d456.txt"
QUERIES = [
    "2027年度长三角地区主要领导座谈会在哪里召开？",
    "江苏省委书记是谁？",
    "Which province hosts the 2027 meeting?",
    "What did the meeting approve about air pollution?",
    "长三角 GDP 增长 5.2%，ＡＢＣ１２３ and “quotes”",
]


def _cosines(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=1)  # unit rows on both sides


def test_onnx_and_torch_agree_on_queries_and_passages(
    embedder: OnnxEmbedder, torch_embedder: SentenceTransformerEmbedder
) -> None:
    assert embedder.model_id == torch_embedder.model_id, "an index built with one is read by the other"
    assert embedder.dimension == torch_embedder.dimension == 384
    report = REPORT.read_text(encoding="utf-8")
    # sentences of the report (Chinese; two length-sorted batches of 32) and English ones
    sentences = [s for s in report.replace("\n", "").split("。") if s.strip()][:40]
    passages = sentences + QUERIES[2:]
    assert len(passages) > 32
    passage_cosines = _cosines(embedder.embed_passages(passages), torch_embedder.embed_passages(passages))
    query_cosines = _cosines(embedder.embed_queries(QUERIES), torch_embedder.embed_queries(QUERIES))
    assert passage_cosines.min() >= 0.999, passage_cosines.min()
    assert query_cosines.min() >= 0.999, query_cosines
    # the whole report, past the 512-token limit: both truncate alike (alone, so that it does not
    # pad a batch of short sentences to 512 tokens)
    assert _cosines(embedder.embed_passages([report]), torch_embedder.embed_passages([report]))[0] >= 0.999


def test_one_embedder_serves_several_threads(embedder: OnnxEmbedder) -> None:
    expected = [embedder.embed_queries([q]) for q in QUERIES]
    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(lambda q: embedder.embed_queries([q]), QUERIES * 4))
    for row, vectors in enumerate(results):
        np.testing.assert_allclose(vectors, expected[row % len(QUERIES)], atol=1e-6)


def test_a_lone_question_runs_on_more_threads_and_gets_the_same_row(
    e5_model_dir: Path, onnx_model_path: Path
) -> None:
    one_thread = OnnxEmbedder(e5_model_dir, onnx_model_path, threads=1, lone_threads=2)
    alone = [one_thread.embed_query_alone(query) for query in QUERIES]

    lone_session = one_thread._lone_session
    assert lone_session is not None and lone_session is not one_thread.session
    assert lone_session.get_session_options().intra_op_num_threads == 2
    assert one_thread.session.get_session_options().intra_op_num_threads == 1
    for query, row in zip(QUERIES, alone, strict=True):
        assert np.array_equal(row, one_thread.embed_queries([query])), query  # bit for bit


def test_set_threads_are_used_for_lone_questions_too(e5_model_dir: Path, onnx_model_path: Path) -> None:
    embedder = OnnxEmbedder(e5_model_dir, onnx_model_path, threads=1)
    embedder.embed_query_alone(QUERIES[0])
    assert embedder.lone_threads == 1 and embedder._lone_session is None  # no second session


def test_a_verified_export_is_reused(e5_model_dir: Path, cache_root: Path, onnx_model_path: Path) -> None:
    directory = onnx_model_path.parent
    assert directory == export_dir(e5_model_dir, cache_root) and is_current(directory, e5_model_dir)
    manifest = json.loads((directory / MANIFEST).read_text())
    assert manifest["cosine"] >= 0.999 and set(manifest["files"]) == {"model.onnx", "model.onnx.data"}
    mtime = onnx_model_path.stat().st_mtime_ns
    messages: list[str] = []
    assert ensure_onnx_export(e5_model_dir, cache_root, progress=messages.append) == onnx_model_path
    assert messages == [], "a later call exports nothing"
    assert onnx_model_path.stat().st_mtime_ns == mtime


def _copy_export(source: Path, cache: Path, model_dir: Path) -> Path:
    """The session's export, copied (not linked: tests damage it) to where `cache` keeps it."""
    target = export_dir(model_dir, cache)
    shutil.copytree(source.parent, target, ignore=shutil.ignore_patterns("model_qint8.onnx"))
    assert is_current(target, model_dir)
    return target


EXPORT_SCRIPT = """
import json, sys, time
from pathlib import Path
from ingest.onnx_embedder import ensure_onnx_export
messages = []
path = ensure_onnx_export(Path(sys.argv[1]), Path(sys.argv[2]), progress=messages.append)
print(json.dumps({"path": str(path), "messages": messages}))
"""


def test_a_truncated_export_is_rebuilt_once_by_concurrent_processes(
    tmp_path: Path, e5_model_dir: Path, onnx_model_path: Path, torch_embedder: SentenceTransformerEmbedder
) -> None:
    target = _copy_export(onnx_model_path, tmp_path, e5_model_dir)
    weights = target / "model.onnx.data"
    weights.write_bytes(weights.read_bytes()[:1_000_000])  # what a full disk or a killed copy leaves
    assert not is_current(target, e5_model_dir)

    command = [sys.executable, "-c", EXPORT_SCRIPT, str(e5_model_dir), str(tmp_path)]
    processes = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    results = [json.loads(p.communicate(timeout=600)[0].strip().splitlines()[-1]) for p in processes]
    assert all(p.returncode == 0 for p in processes)

    assert {r["path"] for r in results} == {str(target / "model.onnx")} and is_current(target, e5_model_dir)
    messages = [m for r in results for m in r["messages"]]
    assert len(messages) == 1 and "one time" in messages[0], "exactly one process exported"
    assert not [p.name for p in tmp_path.joinpath("onnx").iterdir() if ".tmp-" in p.name], "no leftovers"
    rebuilt = OnnxEmbedder(e5_model_dir, target / "model.onnx")
    cosines = _cosines(rebuilt.embed_queries(QUERIES), torch_embedder.embed_queries(QUERIES))
    assert cosines.min() >= 0.999


def test_an_export_damaged_in_place_is_a_clear_error(
    tmp_path: Path, e5_model_dir: Path, onnx_model_path: Path
) -> None:
    target = _copy_export(onnx_model_path, tmp_path, e5_model_dir)
    graph, weights = target / "model.onnx", target / "model.onnx.data"

    original = graph.read_bytes()
    graph.write_bytes(b"\0" * len(original))  # same size: the stat checks cannot see it
    assert is_current(target, e5_model_dir)
    with pytest.raises(ModelUnavailable, match="Delete .* RAG_EMBED_BACKEND=torch"):
        OnnxEmbedder(e5_model_dir, graph)

    graph.write_bytes(original)
    data = bytearray(weights.read_bytes())
    data[-2_000_000:] = np.random.default_rng(0).bytes(2_000_000)  # the last layers' weights
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelUnavailable, match="no longer matches its verified export"):
        check_probe(OnnxEmbedder(e5_model_dir, graph), target)


def _variant(tmp_path: Path, model_dir: Path, pooling: dict | None = None, modules: list | None = None) -> Path:
    """The e5 files (linked, not copied), without prompts, with another pooling or module list."""
    variant = tmp_path / "variant"
    (variant / "1_Pooling").mkdir(parents=True)
    for entry in model_dir.iterdir():
        if entry.is_file() and entry.name not in ("config_sentence_transformers.json", "modules.json"):
            (variant / entry.name).symlink_to(entry)
    config = json.loads((model_dir / "1_Pooling" / "config.json").read_text())
    (variant / "1_Pooling" / "config.json").write_text(json.dumps({**config, **(pooling or {})}))
    listing = json.loads((model_dir / "modules.json").read_text())
    (variant / "modules.json").write_text(json.dumps(modules or listing))
    return variant


def test_cls_pooling_and_no_prompts_follow_the_model_files(
    tmp_path: Path, e5_model_dir: Path, onnx_model_path: Path
) -> None:
    # Same transformer, so the session's export serves the variant: only pooling and prompts differ.
    variant = _variant(tmp_path, e5_model_dir, {"pooling_mode_mean_tokens": False, "pooling_mode_cls_token": True})
    ours = OnnxEmbedder(variant, onnx_model_path)
    reference = SentenceTransformerEmbedder(str(variant))
    for embed in ("embed_queries", "embed_passages"):
        cosines = _cosines(getattr(ours, embed)(QUERIES), getattr(reference, embed)(QUERIES))
        assert cosines.min() >= 0.999, (embed, cosines)


def test_models_onnx_cannot_run_are_refused_with_the_reason(tmp_path: Path, e5_model_dir: Path) -> None:
    max_pooling = _variant(tmp_path / "a", e5_model_dir, {"pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True})
    with pytest.raises(ModelUnavailable, match="pools with 'max'; ONNX supports mean, cls"):
        read_encoder_config(max_pooling)
    listing = json.loads((e5_model_dir / "modules.json").read_text())
    dense = _variant(tmp_path / "b", e5_model_dir, modules=[*listing, {"path": "3", "type": "sentence_transformers.models.Dense"}])
    with pytest.raises(ModelUnavailable, match="Dense"):
        read_encoder_config(dense)
    # explicitly asked for: the error says why and what to do, before any export work
    with pytest.raises(ModelUnavailable, match="pools with 'max'"):
        load_embedder(str(max_pooling), tmp_path / "cache", backend="onnx")
    with pytest.raises(ModelUnavailable, match="needs a local model directory.*RAG_EMBED_BACKEND=torch"):
        load_embedder("example-org/some-model", tmp_path / "cache", backend="onnx")
    assert not (tmp_path / "cache" / "onnx").exists()


def test_backend_choice(cache_root: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    from rag.config import Settings

    monkeypatch.setenv("RAG_EMBED_BACKEND", "torch")
    torch_one = load_embedder(None, cache_root, backend=Settings().embed_backend)
    assert isinstance(torch_one, SentenceTransformerEmbedder) and torch_one.model_id == model_id()
    with pytest.raises(BadInput, match="one of auto, onnx, torch"):
        load_embedder(None, cache_root, backend="gpu")

    monkeypatch.setitem(sys.modules, "onnxruntime", None)  # as if it were not installed
    with pytest.raises(ModelUnavailable, match="pip install onnxruntime onnx"):
        load_embedder(None, cache_root, backend="onnx")
    with caplog.at_level(logging.WARNING, logger="ingest.embedder"):
        fallback: Embedder = load_embedder(None, cache_root, backend="auto")
    assert isinstance(fallback, SentenceTransformerEmbedder)
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1 and "onnxruntime" in warnings[0] and "torch" in warnings[0]


def test_an_invalid_backend_setting_is_a_validation_error(monkeypatch: pytest.MonkeyPatch) -> None:
    from pydantic import ValidationError

    from rag.config import Settings, describe_invalid

    monkeypatch.setenv("RAG_EMBED_BACKEND", " ONNX ")
    assert Settings().embed_backend == "onnx"
    monkeypatch.setenv("RAG_EMBED_BACKEND", "gpu")
    with pytest.raises(ValidationError) as error:
        Settings()
    assert describe_invalid(error.value) == "invalid setting RAG_EMBED_BACKEND='gpu': must be one of auto, onnx, torch"


QUERY_SCRIPT = """
import sys
from pathlib import Path
from rag.config import Settings
from rag.engine import Engine
settings = Settings(index_dir=Path(sys.argv[1]), cache_dir=Path(sys.argv[2]), embed_backend="onnx",
                    llm_base_url="", llm_model="")
engine = Engine(settings)
assert type(engine.embedder.loaded()).__name__ == "OnnxEmbedder"
answer = engine.answer("2027年度座谈会在哪里召开？")
assert "安徽" in answer.answer, answer.answer
print(sorted(m for m in ("torch", "transformers", "sentence_transformers") if m in sys.modules))
"""


def test_the_onnx_query_path_does_not_import_torch(
    bundled_engine, cache_root: Path, onnx_model_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-c", QUERY_SCRIPT, str(bundled_engine.index_dir), str(cache_root)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
