"""The embedding model on onnxruntime: a one-time, verified ONNX export and the embedder over it.

Measured on 2 CPUs (bench/onnx_lever.py, multilingual-e5-small, 1 thread): a query embeds in
14 ms on onnxruntime fp32 against 35 ms on torch, with identical XQuAD hit@5 and cosine 1.000
to torch's vectors; the query path also never imports torch (a shorter start, a smaller
process). sentence-transformers' own ONNX backend needs `optimum-onnx`, which cannot be
installed beside transformers 5, so the export is done here with `torch.onnx.export`, and the
tokenizer, prompts, truncation and pooling are read from the model's sentence-transformers
files. Every export is checked against the torch model before it is used.
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ingest.build_cache import build_into, build_lock
from ingest.errors import ModelUnavailable

log = logging.getLogger(__name__)

MANIFEST = "manifest.json"  # written last: an export without it is never used
MODEL_FILE = "model.onnx"
FORMAT_VERSION = 1  # bump when the export changes; old exports are then rebuilt
OPSET = 17
MIN_COSINE = 0.999
POOLINGS = ("mean", "cls")
# Embedded by the export and by the torch model, as queries and as passages: Chinese, English,
# mixed, and one text past the 512-token limit (truncation must agree too).
CHECK_TEXTS = (
    "会议确定,2027年度长三角地区主要领导座谈会在安徽省召开。",
    "Which province hosts the 2027 meeting of the Yangtze River Delta leaders?",
    "长三角 GDP 增长 5.2%，ＡＢＣ１２３ and “quotes”…",
    "推动G60科创走廊、沿沪宁产业创新带建设走深走实。" * 40,
)
_INSTALL = "pip install onnxruntime onnx"


@dataclass(frozen=True)
class EncoderConfig:
    """What a sentence-transformers directory says about turning text into one vector."""

    transformer_dir: Path  # config.json, weights, tokenizer.json
    max_length: int
    lower_case: bool
    pooling: str  # one of POOLINGS
    query_prompt: str
    passage_prompt: str
    pad_token: str | None
    dimension: int | None


def _json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        raise ModelUnavailable(f"Cannot read {path} ({exc}).") from exc


def _pooling(config: dict[str, Any]) -> tuple[str, bool]:
    """(mode, include_prompt) from a Pooling config, old (`pooling_mode_*_tokens`) or new."""
    mode = config.get("pooling_mode")
    if mode is None:
        legacy = {
            "cls": "pooling_mode_cls_token",
            "max": "pooling_mode_max_tokens",
            "mean": "pooling_mode_mean_tokens",
            "mean_sqrt_len_tokens": "pooling_mode_mean_sqrt_len_tokens",
            "weightedmean": "pooling_mode_weightedmean_tokens",
            "lasttoken": "pooling_mode_lasttoken",
        }
        active = [name for name, key in legacy.items() if config.get(key)]
        mode = active or ["mean"]  # sentence-transformers' default
    if isinstance(mode, list | tuple):
        mode = "+".join(mode)
    return str(mode), bool(config.get("include_prompt", True))


def _unsupported(reason: str) -> ModelUnavailable:
    return ModelUnavailable(f"{reason} Set RAG_EMBED_BACKEND=torch for this model.")


def read_encoder_config(model_dir: Path) -> EncoderConfig:
    """Read a sentence-transformers directory; raise ModelUnavailable, saying why, when it is not
    a Transformer -> Pooling (mean or cls) [-> Normalize] model with a tokenizer.json."""
    from ingest.torch_embedder import prompt_names

    model_dir = Path(model_dir)
    modules = _json(model_dir / "modules.json")
    if not isinstance(modules, list):
        raise _unsupported(f"{model_dir} is not a local sentence-transformers directory (no modules.json).")
    kinds = [str(module.get("type", "")).rsplit(".", 1)[-1] for module in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or any(kind != "Normalize" for kind in kinds[2:]):
        raise _unsupported(f"{model_dir} has modules {kinds}; ONNX supports Transformer, Pooling[, Normalize].")
    transformer_dir = model_dir / modules[0].get("path", "")
    pooling_config = _json(model_dir / modules[1].get("path", "") / "config.json") or {}
    mode, include_prompt = _pooling(pooling_config)
    if mode not in POOLINGS:
        raise _unsupported(f"{model_dir} pools with {mode!r}; ONNX supports {', '.join(POOLINGS)}.")
    if not include_prompt:
        raise _unsupported(f"{model_dir} excludes the prompt from pooling, which ONNX does not support.")
    if not (transformer_dir / "tokenizer.json").is_file():
        raise _unsupported(f"{transformer_dir} has no tokenizer.json, which ONNX needs.")
    sbert = _json(transformer_dir / "sentence_bert_config.json") or {}
    tokenizer_config = _json(transformer_dir / "tokenizer_config.json") or {}
    prompts = (_json(model_dir / "config_sentence_transformers.json") or {}).get("prompts") or {}
    query, passage = prompt_names(prompts)
    pad = tokenizer_config.get("pad_token")
    dimension = pooling_config.get("word_embedding_dimension") or pooling_config.get("embedding_dimension")
    return EncoderConfig(
        transformer_dir=transformer_dir,
        max_length=int(sbert.get("max_seq_length") or min(tokenizer_config.get("model_max_length", 512), 512)),
        lower_case=bool(sbert.get("do_lower_case", False)),
        pooling=mode,
        query_prompt=prompts[query] if query else "",
        passage_prompt=prompts[passage] if passage else "",
        pad_token=pad.get("content") if isinstance(pad, dict) else pad,
        dimension=int(dimension) if dimension else None,
    )


# --------------------------------------------------------------------------- the embedder


class OnnxEmbedder:
    """A sentence-transformers model's transformer on onnxruntime; tokenizer (the `tokenizers`
    library), prompts, truncation, pooling and L2 normalization as the model's own files say.

    Imports neither torch nor transformers. Safe to share between threads: after __init__
    nothing is mutated, onnxruntime's `run` is thread-safe, and the tokenizer's padding and
    truncation are set once here (changing them per call is what makes `tokenizers` raise
    "Already borrowed" under threads).
    """

    def __init__(
        self,
        model_dir: Path,
        onnx_path: Path,
        model_id: str | None = None,
        batch_size: int = 32,
        threads: int | None = None,
        lone_threads: int | None = None,
    ) -> None:
        """threads: intra-op threads of a call (default ingest.cpus.embedding_threads); a set
        count is used for lone questions too. lone_threads: for a question embedded alone
        (`embed_query_alone`; default ingest.cpus.lone_query_threads)."""
        from tokenizers import Tokenizer

        from ingest.cpus import embedding_threads, lone_query_threads

        self.model_id = model_id or str(model_dir)
        self.batch_size = batch_size
        self.config = read_encoder_config(Path(model_dir))
        self.tokenizer = Tokenizer.from_file(str(self.config.transformer_dir / "tokenizer.json"))
        self.tokenizer.enable_truncation(self.config.max_length)
        pad = self.config.pad_token
        pad_id = self.tokenizer.token_to_id(pad) if pad else None
        self.tokenizer.enable_padding(pad_id=pad_id or 0, pad_token=pad or "[PAD]")  # to the longest in a batch

        self._onnx_path = Path(onnx_path)
        self.threads = threads or embedding_threads()  # the count torch would use
        self.session = self._session(self.threads)
        # A question embedded while nothing else is in flight may take every core (2 threads:
        # 5.8 against 9.1 ms a query here, bit-identical rows); under load the one-thread session
        # leaves the other core to the answers' Python (32 clients: 119 against 100 answers/s
        # when every call took 2). Built on first use: ~85 MB, the weights file is mapped once.
        default_lone = self.threads if threads else lone_query_threads()
        self.lone_threads = max(self.threads, lone_threads or default_lone)
        self._lone_session: Any = None
        self._lone_lock = threading.Lock()
        self._inputs = {node.name for node in self.session.get_inputs()}
        width = self.session.get_outputs()[0].shape[-1]
        self.dimension = int(self.config.dimension or (width if isinstance(width, int) else self._probe()))

    def _session(self, threads: int) -> Any:
        ort = _onnxruntime()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.log_severity_level = 3  # errors only: no optimizer notes on the user's terminal
        try:
            return ort.InferenceSession(str(self._onnx_path), options, providers=["CPUExecutionProvider"])
        except Exception as exc:  # onnxruntime raises its own Fail / InvalidProtobuf / NoSuchFile
            raise ModelUnavailable(
                f"Cannot load the ONNX embedding model {self._onnx_path} ({type(exc).__name__}: {exc}). "
                f"Delete {self._onnx_path.parent} to have it exported again, or set RAG_EMBED_BACKEND=torch."
            ) from exc

    def _probe(self) -> int:
        return int(self._run(["probe"]).shape[1])

    def _lone(self) -> Any:
        if self.lone_threads <= self.threads:
            return self.session
        if self._lone_session is None:
            with self._lone_lock:
                if self._lone_session is None:
                    self._lone_session = self._session(self.lone_threads)
        return self._lone_session

    def _run(self, texts: list[str], session: Any = None) -> np.ndarray:
        """One batch: token ids -> hidden states -> pooled, unit-length rows."""
        encodings = self.tokenizer.encode_batch(texts)
        ids = np.array([e.ids for e in encodings], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encodings], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask}
        if "token_type_ids" in self._inputs:
            feed["token_type_ids"] = np.zeros_like(ids)
        hidden = (session or self.session).run(None, feed)[0]
        if self.config.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            weights = mask[..., None].astype(np.float32)
            pooled = (hidden * weights).sum(axis=1) / np.maximum(weights.sum(axis=1), 1e-9)
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)

    def _encode(self, texts: list[str], prompt: str, progress: bool, session: Any = None) -> np.ndarray:
        from tqdm import tqdm

        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        if self.config.lower_case:
            texts = [text.lower() for text in texts]
        # Longest first, as sentence-transformers does: batches of similar lengths pad less.
        order = np.argsort([-len(text) for text in texts], kind="stable")
        starts = range(0, len(texts), self.batch_size)
        for start in tqdm(starts, desc="Batches", disable=not progress):
            rows = order[start : start + self.batch_size]
            out[rows] = self._run([prompt + texts[row] for row in rows], session)
        return out

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search questions (with the model's query prompt, if it has one)."""
        return self._encode(list(texts), self.config.query_prompt, progress=False)

    def embed_query_alone(self, text: str) -> np.ndarray:
        """One question while no other answer is in flight: the same row as `embed_queries`
        gives it, on every core (see `lone_threads`)."""
        return self._encode([text], self.config.query_prompt, progress=False, session=self._lone())

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embed passages to index (with the model's passage or document prompt, if any)."""
        return self._encode(list(texts), self.config.passage_prompt, progress=progress)


def _onnxruntime() -> Any:
    try:
        import onnxruntime
    except ImportError as exc:
        raise ModelUnavailable(
            f"The ONNX embedding backend needs onnxruntime: {_INSTALL} (or set RAG_EMBED_BACKEND=torch)."
        ) from exc
    return onnxruntime


# --------------------------------------------------------------------------- the export


def export_dir(model_dir: Path, cache_root: Path) -> Path:
    """Where the export of `model_dir` lives: named for the directory and a hash of its path."""
    resolved = Path(model_dir).expanduser().resolve()
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:10]
    return Path(cache_root) / "onnx" / f"{resolved.name}-{digest}"


def _source(model_dir: Path) -> dict[str, list[int]]:
    """Size and mtime of every file of the model directory (stat calls only): an export made from
    other files than these is stale."""
    model_dir = Path(model_dir).expanduser().resolve()
    files = {}
    for path in sorted(model_dir.rglob("*")):
        relative = path.relative_to(model_dir)
        if path.is_file() and not any(part.startswith(".") for part in relative.parts):
            stat = path.stat()
            files[relative.as_posix()] = [stat.st_size, stat.st_mtime_ns]
    return files


def _sizes(directory: Path) -> dict[str, int]:
    return {p.name: p.stat().st_size for p in sorted(directory.iterdir()) if p.is_file() and p.name != MANIFEST}


def is_current(directory: Path, model_dir: Path) -> bool:
    """True when `directory` holds a complete, verified export of `model_dir` as it is now.

    Cheap (stat calls only): the manifest lists the export's files with their sizes, so one
    that a crash, a full disk or a hand edit truncated does not pass."""
    try:
        manifest = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))
        sizes = _sizes(directory)
        return (
            manifest.get("format") == FORMAT_VERSION
            and manifest.get("source") == _source(model_dir)
            and all(sizes.get(name) == size for name, size in manifest["files"].items())
        )
    except (OSError, ValueError, AttributeError, KeyError, TypeError):
        return False


def export_onnx(model_dir: Path, target: Path) -> None:
    """Export the transformer of a sentence-transformers directory (token ids, attention mask ->
    last hidden state) to the ONNX file `target` (graph) and `target`.data (weights), batch and
    token axes dynamic."""
    import onnx
    import torch
    from tokenizers import Tokenizer
    from transformers import AutoModel
    from transformers.utils import logging as hf_logging

    config = read_encoder_config(Path(model_dir))
    bars = hf_logging.is_progress_bar_enabled()
    hf_logging.disable_progress_bar()  # a "Loading weights" bar for a one-second local load
    try:
        # eager attention: the one measured to export to a graph that matches torch (cosine 1.0)
        model = AutoModel.from_pretrained(
            str(config.transformer_dir), dtype=torch.float32, attn_implementation="eager"
        ).eval()
    finally:
        if bars:
            hf_logging.enable_progress_bar()

    class Encoder(torch.nn.Module):
        def __init__(self, model: torch.nn.Module) -> None:
            super().__init__()
            self.model = model

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            return self.model(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    sample = Tokenizer.from_file(str(config.transformer_dir / "tokenizer.json")).encode("query: 样例 sample")
    ids = torch.tensor([sample.ids], dtype=torch.long)
    axes = {0: "batch", 1: "tokens"}
    # The tracer warns about shape checks it freezes; the export is verified against torch instead.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            Encoder(model).eval(),  # a new Module starts in training mode (dropout on): eval() it
            (ids, torch.ones_like(ids)),
            str(target),
            input_names=["input_ids", "attention_mask"],
            output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
            opset_version=OPSET,
            dynamo=False,  # the dynamo exporter needs onnxscript, which the project does not install
        )
    del model  # before the graph is loaded back: one model's worth of memory at a time
    # Weights in a file of their own, which onnxruntime memory-maps: measured on e5-small, a
    # session then loads in 0.2 s instead of 1.1 s and peaks at 440 MB instead of 875 MB.
    proto = onnx.load(str(target))
    onnx.save_model(
        proto,
        str(target),
        save_as_external_data=True,
        all_tensors_to_one_file=True,
        location=target.name + ".data",
        size_threshold=1024,
    )


def verify_export(model_dir: Path, onnx_path: Path) -> tuple[float, list[float]]:
    """Embed CHECK_TEXTS as queries and passages with the export and with the torch model.
    Returns the lowest cosine and torch's vector of the first query (the probe that every later
    load repeats); raises ModelUnavailable when they disagree."""
    from ingest.torch_embedder import SentenceTransformerEmbedder

    reference = SentenceTransformerEmbedder(str(model_dir))
    candidate = OnnxEmbedder(model_dir, onnx_path)
    texts = list(CHECK_TEXTS)
    ours = np.vstack([candidate.embed_queries(texts), candidate.embed_passages(texts)])
    theirs = np.vstack([reference.embed_queries(texts), reference.embed_passages(texts)])
    worst = float(np.min(np.sum(ours * theirs, axis=1)))  # both sides are unit rows
    if not worst >= MIN_COSINE:  # NaN (damaged weights) fails too
        raise ModelUnavailable(
            f"The ONNX export of {model_dir} disagrees with the torch model (cosine {worst:.4f} < "
            f"{MIN_COSINE}). Set RAG_EMBED_BACKEND=torch."
        )
    return worst, [float(x) for x in theirs[0]]


def check_probe(embedder: OnnxEmbedder, directory: Path) -> None:
    """Embed the manifest's probe and compare with the vector recorded at export (~10 ms).
    Catches what the size checks cannot: weights damaged in place, an onnxruntime that computes
    differently. Raises ModelUnavailable."""
    probe = json.loads((directory / MANIFEST).read_text(encoding="utf-8"))["probe"]
    cosine = float(embedder.embed_queries([probe["text"]])[0] @ np.asarray(probe["vector"], dtype=np.float32))
    if not cosine >= MIN_COSINE:  # NaN (damaged weights) fails too
        raise ModelUnavailable(
            f"The ONNX embedding model in {directory} no longer matches its verified export (cosine "
            f"{cosine:.4f}). Delete {directory} to have it exported again, or set RAG_EMBED_BACKEND=torch."
        )


def build_export(model_dir: Path, target: Path) -> float:
    """Export, verify and atomically move the export of `model_dir` into the directory `target`;
    return the check's cosine. Call with the build lock held."""
    import onnxruntime

    def build(tmp: Path) -> float:
        try:
            export_onnx(model_dir, tmp / MODEL_FILE)
            cosine, probe = verify_export(model_dir, tmp / MODEL_FILE)
        except (ModelUnavailable, OSError):
            raise
        except Exception as exc:  # the exporter and the first run fail in many ways: "not this model"
            raise ModelUnavailable(
                f"Cannot export {model_dir} to ONNX ({type(exc).__name__}: {exc}). Set RAG_EMBED_BACKEND=torch."
            ) from exc
        manifest = {
            "format": FORMAT_VERSION,
            "model_dir": str(Path(model_dir).expanduser().resolve()),
            "opset": OPSET,
            "onnxruntime": onnxruntime.__version__,
            "cosine": round(cosine, 6),
            "files": _sizes(tmp),
            "source": _source(model_dir),
            "probe": {"text": CHECK_TEXTS[0], "vector": probe},
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
        return cosine

    return build_into(target, build)


def ensure_onnx_export(
    model_dir: Path, cache_root: Path, progress: Callable[[str], None] | None = None
) -> Path:
    """The verified ONNX file of `model_dir` under `cache_root`/onnx, exported on first use.

    Later calls only stat files. Concurrent first calls (threads or processes) export once.
    progress: called with one line before an export (it takes ~30 s and ~2 GB of memory);
    without it the line goes to this module's logger.
    """
    _onnxruntime()
    target = export_dir(model_dir, cache_root)
    if is_current(target, model_dir):
        return target / MODEL_FILE
    read_encoder_config(Path(model_dir))  # an unsupported model fails here, before any work
    try:
        with build_lock(target):
            if not is_current(target, model_dir):  # else another process exported it meanwhile
                message = "Exporting the embedding model to ONNX for faster queries (one time, ~30 s)..."
                if progress is not None:
                    progress(message)
                else:
                    log.info(message)
                build_export(Path(model_dir), target)
    except OSError as exc:
        raise ModelUnavailable(
            f"Cannot export the embedding model to {target} ({exc}). It needs ~500 MB of disk: free "
            "space there, set RAG_CACHE_DIR to a writable directory, or set RAG_EMBED_BACKEND=torch."
        ) from exc
    return target / MODEL_FILE


def load_onnx_embedder(
    model_dir: Path, cache_root: Path, model_id: str, progress: Callable[[str], None] | None = None
) -> OnnxEmbedder:
    """The OnnxEmbedder of `model_dir`, exported first if need be. An export that passes the
    size checks but will not load, or embeds the probe differently, is exported again, once."""
    for attempt in (1, 2):
        path = ensure_onnx_export(model_dir, cache_root, progress)
        try:
            embedder = OnnxEmbedder(model_dir, path, model_id=model_id)
            check_probe(embedder, path.parent)
            return embedder
        except (ModelUnavailable, OSError, ValueError, KeyError) as exc:
            if attempt == 2:
                raise ModelUnavailable(str(exc)) from exc
            log.warning("%s Exporting it again.", exc)
            (path.parent / MANIFEST).unlink(missing_ok=True)
    raise AssertionError("unreachable")


__all__ = [
    "OnnxEmbedder",
    "ensure_onnx_export",
    "export_dir",
    "export_onnx",
    "check_probe",
    "is_current",
    "load_onnx_embedder",
    "read_encoder_config",
    "verify_export",
]
