"""The fast-tokenizers `tokenizer.json` for the bundled model, built from the bundle's
SentencePiece vocabulary and normalization map (what XLM-R's tokenizer does, without the
sentencepiece model file)."""

from __future__ import annotations

import io
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from ingest.e5_bundle import Bundle

if TYPE_CHECKING:
    from tokenizers import Tokenizer


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


def special_tokens(bundle: Bundle) -> dict[str, str]:
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
