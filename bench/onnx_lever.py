"""The ONNX lever: the e5 encoder on onnxruntime (fp32, and int8 dynamically quantized) vs torch.

sentence-transformers' own ONNX backend (`SentenceTransformer(path, backend="onnx")`,
`export_dynamic_quantized_onnx_model`) needs `optimum-onnx`, whose only release pins
transformers < 4.58, while sentence-transformers 6.2 needs transformers >= 5: the two cannot be
installed together. So this bench does what that backend does by hand: export the local model
directory's transformer with `torch.onnx.export`, quantize with onnxruntime's
`quantize_dynamic` (int8 weights), and pool and normalize as the model's own modules do (mean
pooling, L2). The fp32 export and its encoder are the product's own (`ingest.onnx_embedder`,
the default backend since this bench passed); the int8 file is this bench's experiment, kept
beside the export under RAG_CACHE_DIR/onnx/.

Measured per backend: single-query embedding latency (the questions one by one, backends in
turn so machine load falls on all alike), seconds to embed the paragraphs (batches of 32), and
dense-only XQuAD retrieval (240 Chinese
paragraphs, one vector each; zh and en questions): hit@5. The rule for keeping ONNX as the
default: hit@5 within 0.5 points of torch and lower query latency.

    python -m bench.onnx_lever [--xquad DIR] [--limit N] [--paragraphs N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np

from bench.common import DEFAULT_XQUAD, ms_since, p50_p95, print_table, write_results, xquad_files

MAX_HIT5_DROP = 0.005  # half a point


def quantize(source: Path, target: Path) -> float:
    """int8 weights (onnxruntime's dynamic quantization) of the product's fp32 export; seconds."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    started = time.perf_counter()
    partial = target.with_suffix(".partial")
    quantize_dynamic(str(source), str(partial), weight_type=QuantType.QInt8)
    partial.replace(target)
    return time.perf_counter() - started


def dense_hit5(passage_vectors: np.ndarray, query_vectors: np.ndarray, gold_rows: list[int]) -> float:
    """hit@5 of dense retrieval over one vector per paragraph."""
    top5 = np.argsort(-(query_vectors @ passage_vectors.T), axis=1, kind="stable")[:, :5]
    return float(np.mean([gold in row for row, gold in zip(top5, gold_rows, strict=True)]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--xquad", type=Path, default=DEFAULT_XQUAD, help="XQuAD directory (xquad.zh.json, xquad.en.json)")
    parser.add_argument("--limit", type=int, default=None, help="questions per language for hit@5 (default: all)")
    parser.add_argument("--paragraphs", type=int, default=None, help="search only the first N paragraphs (default: all 240)")
    parser.add_argument("--latency-queries", type=int, default=100, help="questions timed one by one per backend")
    args = parser.parse_args(argv)
    files = xquad_files(args.xquad)
    if not files:
        print(f"XQuAD not found at {args.xquad}: ONNX lever skipped (pass --xquad DIR)")
        return 0
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        print("onnxruntime is not installed: .venv/bin/pip install onnxruntime onnx (ONNX lever skipped)")
        return 0
    import torch

    from eval.squad import load_squad
    from ingest.e5_model import ensure_e5_model, model_id
    from ingest.embedder import load_embedder
    from ingest.onnx_embedder import OnnxEmbedder, ensure_onnx_export, export_dir, is_current
    from rag.config import Settings

    settings = Settings()
    model_dir = ensure_e5_model(settings.cache_dir)
    torch_encoder = load_embedder(None, settings.cache_dir, backend="torch")
    threads = torch.get_num_threads()

    prepared: dict[str, float] = {}
    started = time.perf_counter()
    exported = is_current(export_dir(model_dir, settings.cache_dir), model_dir)
    fp32 = ensure_onnx_export(model_dir, settings.cache_dir, progress=print)  # exported and verified once
    if not exported:
        prepared["export_s"] = round(time.perf_counter() - started, 1)
    int8 = fp32.with_name("model_qint8.onnx")  # in the export's directory: a new export drops it
    if not int8.is_file():
        prepared["quantize_s"] = round(quantize(fp32, int8), 1)
    encoders: dict[str, Any] = {
        "torch": torch_encoder,
        "onnx fp32": OnnxEmbedder(model_dir, fp32, model_id=model_id(), threads=threads),
        "onnx int8": OnnxEmbedder(model_dir, int8, model_id=model_id(), threads=threads),
    }
    weights = fp32.with_name(fp32.name + ".data")  # the fp32 graph keeps its weights beside it
    sizes = {
        "torch": None,
        "onnx fp32": (fp32.stat().st_size + weights.stat().st_size) / 2**20,
        "onnx int8": int8.stat().st_size / 2**20,
    }

    zh, en = files
    benchmark = load_squad(zh)
    corpus = benchmark.passages[: args.paragraphs]
    passages = [p.text for p in corpus]
    row_of = {p.id: row for row, p in enumerate(corpus)}
    question_sets = {
        language: [q for q in questions if q.gold_passage_id in row_of]
        for language, questions in (("zh", benchmark.questions), ("en", load_squad(zh, en).questions))
    }
    if args.limit:
        question_sets = {language: qs[: args.limit] for language, qs in question_sets.items()}

    # Latency: the same questions one at a time, backends in turn.
    probe = [q.question for qs in question_sets.values() for q in qs[: args.latency_queries // 2]]
    latency: dict[str, list[float]] = {name: [] for name in encoders}
    for encoder in encoders.values():
        encoder.embed_queries(probe[:2])  # first-call set-up
    for question in probe:
        for name, encoder in encoders.items():
            started = time.perf_counter()
            encoder.embed_queries([question])
            latency[name].append(ms_since(started))

    quality: dict[str, dict[str, float]] = {name: {} for name in encoders}
    agreement: dict[str, float] = {}
    torch_vectors: dict[str, np.ndarray] = {}
    started = time.perf_counter()
    passages_s: dict[str, float] = {}
    for name, encoder in encoders.items():
        began = time.perf_counter()
        passage_vectors = encoder.embed_passages(passages)
        passages_s[name] = time.perf_counter() - began
        for language, questions in question_sets.items():
            query_vectors = encoder.embed_queries([q.question for q in questions])
            gold = [row_of[q.gold_passage_id] for q in questions]
            quality[name][language] = dense_hit5(passage_vectors, query_vectors, gold)
            if name == "torch":
                torch_vectors[language] = query_vectors
            else:  # how close the ONNX vectors are to torch's, worst question
                cosine = float(np.min(np.sum(query_vectors * torch_vectors[language], axis=1)))
                agreement[name] = min(agreement.get(name, 1.0), cosine)
    quality_s = time.perf_counter() - started

    base = latency["torch"]
    rows = []
    verdicts = {}
    for name in encoders:
        drop = max(quality["torch"][lang] - quality[name][lang] for lang in question_sets)
        faster = p50_p95(latency[name])["p50"] < p50_p95(base)["p50"]
        verdicts[name] = name != "torch" and drop <= MAX_HIT5_DROP and faster
        rows.append(
            {
                "backend": name,
                "model_mb": sizes[name],
                "query_p50_ms": p50_p95(latency[name])["p50"],
                "query_p95_ms": p50_p95(latency[name])["p95"],
                "p50_vs_torch": p50_p95(latency[name])["p50"] / p50_p95(base)["p50"],
                "passages_s": passages_s[name],
                **{f"hit@5 {lang}": quality[name][lang] for lang in question_sets},
                "min_cos_to_torch": agreement.get(name, 1.0),
                "keep": "-" if name == "torch" else ("yes" if verdicts[name] else "no"),
            }
        )
    counts = ", ".join(f"{lang} {len(qs)}" for lang, qs in question_sets.items())
    print_table(
        f"ONNX lever ({threads} thread(s); hit@5: dense over {len(passages)} paragraphs, one vector each; {counts} questions)", rows
    )
    kept = sorted((name for name, keep in verdicts.items() if keep), key=lambda name: p50_p95(latency[name])["p50"])
    verdict = f"keep {kept[0]} (the fastest that met both)" if kept else "keep torch (no ONNX variant met both conditions)"
    print(f"verdict: {verdict}; rule: hit@5 within {MAX_HIT5_DROP * 100:.1f} points on zh and en and a lower p50")
    write_results("onnx_lever", {"rows": rows, "verdict": verdict, "threads": threads, "paragraphs": len(passages), "prepared": prepared, "quality_s": round(quality_s, 1)})
    return 0


if __name__ == "__main__":
    sys.exit(main())
