"""Run labelled questions through the engine and measure retrieval, answers, refusals, latency.

One code path for both kinds of set: the report set (gold = the passage holding the evidence
text) and SQuAD-format benchmarks (gold = the question's paragraph, ingested as one document).
"""

from __future__ import annotations

import hashlib
import json
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.dataset import load_items
from eval.metrics import (
    COLUMNS,
    best_char_f1,
    contains_answer,
    exact_match,
    hit_at_k,
    median,
    mrr,
    ndcg_at_k,
    percentile,
    refusal_precision_recall,
)
from eval.squad import load_squad
from ingest.records import Chunk
from rag.engine import Engine
from rag.records import Answer

RETRIEVAL_DEPTH = 10


@dataclass(frozen=True)
class Case:
    id: str
    language: str
    question: str
    answers: tuple[str, ...]
    answerable: bool
    is_gold: Callable[[Chunk], bool]
    type: str = ""
    category: str = ""  # eval.dataset.CATEGORIES: which kind of unanswerable question, if any
    split: str = ""  # "dev" (tune on it) or "test" (report on it); "" for sets without one


@dataclass
class Outcome:
    case: Case
    rank: int | None  # 1-based rank of the first gold passage in the top RETRIEVAL_DEPTH
    relevance: list[bool]
    gold_total: int  # gold passages in the whole index (the ideal ranking for nDCG)
    answer: Answer
    contains: bool
    exact: bool
    f1: float
    citation_precision: float | None
    citation_hit: bool
    timings_ms: dict[str, float] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        if not self.case.answerable:
            return not self.answer.found
        return self.contains and self.answer.found

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.case.id,
            "language": self.case.language,
            "type": self.case.type,
            "question": self.case.question,
            "expected": list(self.case.answers),
            "answerable": self.case.answerable,
            "category": self.case.category,
            "split": self.case.split,
            "passed": self.passed,
            "rank": self.rank,
            "answer": self.answer.answer,
            "short_answer": self.answer.short_answer,
            "found": self.answer.found,
            "partial": self.answer.partial,
            "contains": self.contains,
            "exact": self.exact,
            "f1": round(self.f1, 4),
            "citation_precision": self.citation_precision,
            "citation_hit": self.citation_hit,
            "citations": [c.as_dict() for c in self.answer.citations],
            "timings_ms": {k: round(v, 2) for k, v in self.timings_ms.items()},
        }


def report_cases(engine: Engine, dataset: Path | None = None) -> list[Case]:
    """The labelled report set, gold passages located by the evidence's character offsets."""
    items = load_items(dataset)
    documents = engine.index.documents
    cases = []
    for item in items:
        spans = [
            (doc_id, start, start + len(item.evidence))
            for doc_id, doc in documents.items()
            for start in _occurrences(doc.text, item.evidence)
        ] if item.evidence else []
        cases.append(
            Case(
                id=item.id,
                language=item.language,
                question=item.question,
                answers=tuple(item.answers),
                answerable=item.answerable,
                is_gold=_holds_any(spans),
                type=item.type,
                category=item.category,
                split=item.split,
            )
        )
    return cases


def _occurrences(text: str, needle: str) -> list[int]:
    found, start = [], text.find(needle)
    while start >= 0:
        found.append(start)
        start = text.find(needle, start + 1)
    return found


def _holds_any(evidence: list[tuple[str, int, int]]) -> Callable[[Chunk], bool]:
    """A chunk holds the evidence when it covers at least half of one occurrence of it
    (evidence may straddle a chunk boundary; overlap makes that rare)."""

    def is_gold(chunk: Chunk) -> bool:
        for doc_id, start, end in evidence:
            if doc_id != chunk.doc_id:
                continue
            covered = sum(max(0, min(end, b) - max(start, a)) for a, b in chunk.spans)
            if covered * 2 >= end - start:
                return True
        return False

    return is_gold


def squad_cases(benchmark_questions: Sequence[Any], doc_id_of: dict[str, str]) -> list[Case]:
    return [
        Case(
            id=q.id,
            language=q.language,
            question=q.question,
            answers=tuple(q.answers),
            answerable=True,
            is_gold=(lambda gold: lambda chunk: chunk.doc_id == gold)(doc_id_of[q.gold_passage_id]),
        )
        for q in benchmark_questions
    ]


def prepare_squad_engine(engine: Engine, corpus: Path, questions: Path | None) -> tuple[Engine, list[Case]]:
    """An engine over the benchmark's paragraphs (one document each), cached between runs."""
    benchmark = load_squad(corpus, questions)
    digest = hashlib.sha256(corpus.read_bytes()).hexdigest()[:12]
    workdir = engine.settings.cache_dir / "benchmarks" / f"{corpus.stem}-{digest}"
    passages_dir = workdir / "passages"
    passages_dir.mkdir(parents=True, exist_ok=True)
    names = {}
    for number, passage in enumerate(benchmark.passages):
        name = f"p{number:05d}.txt"
        names[passage.id] = name
        path = passages_dir / name
        if not path.exists() or path.read_text(encoding="utf-8") != passage.text:
            path.write_text(passage.text, encoding="utf-8")
    bench_engine = Engine(engine.settings, index_dir=workdir / "index", embedder=engine.embedder)
    report = bench_engine.ingest([passages_dir], prune=True, progress=True)
    if report.changed:
        print(f"indexed {report.documents} passages into {workdir / 'index'} in {report.seconds:.0f} s", file=sys.stderr)
    doc_id_of = {}
    by_source = {doc.source: doc_id for doc_id, doc in bench_engine.index.documents.items()}
    for passage_id, name in names.items():
        doc_id_of[passage_id] = by_source[name]
    return bench_engine, squad_cases(benchmark.questions, doc_id_of)


def run_cases(
    engine: Engine, cases: Sequence[Case], mode: str = "hybrid", top_k: int = 5, progress: bool = True
) -> list[Outcome]:
    from tqdm import tqdm

    outcomes = []
    chunks = engine.index.chunks
    chunk_of = {chunk.id: chunk for chunk in chunks}
    for case in tqdm(cases, desc=f"eval ({mode})", disable=not progress, file=sys.stderr):
        retrieval = engine.search(case.question, k=RETRIEVAL_DEPTH, mode=mode)
        relevance = [case.is_gold(hit.chunk) for hit in retrieval.hits]
        gold_total = sum(1 for chunk in chunks if case.is_gold(chunk))
        rank = next((i for i, relevant in enumerate(relevance, start=1) if relevant), None)
        answer = engine.answer(case.question, top_k=top_k, mode=mode)
        cited_gold = [case.is_gold(chunk_of[c.chunk_id]) for c in answer.citations]
        outcomes.append(
            Outcome(
                case=case,
                rank=rank,
                relevance=relevance,
                gold_total=gold_total,
                answer=answer,
                contains=bool(case.answers) and contains_answer(answer.answer, list(case.answers)),
                exact=bool(case.answers and answer.short_answer) and exact_match(answer.short_answer or "", list(case.answers)),
                f1=best_char_f1(answer.short_answer or "", list(case.answers)) if case.answers else 0.0,
                citation_precision=(sum(cited_gold) / len(cited_gold)) if cited_gold else None,
                citation_hit=any(cited_gold),
                timings_ms=dict(answer.timings_ms),
            )
        )
    return outcomes


def summarize(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    """All metrics, overall and per language; for a set with a frozen split, also per split
    ("test", "test:zh", ...): tuning reads "dev", reports read "test"."""
    groups: dict[str, list[Outcome]] = {"all": list(outcomes)}
    for outcome in outcomes:
        groups.setdefault(outcome.case.language, []).append(outcome)
    for outcome in outcomes:
        if outcome.case.split:
            groups.setdefault(outcome.case.split, []).append(outcome)
            groups.setdefault(f"{outcome.case.split}:{outcome.case.language}", []).append(outcome)
    return {name: _metrics(group) for name, group in groups.items()}


def false_answers_by_category(outcomes: Sequence[Outcome]) -> dict[str, dict[str, float]]:
    """Share of unanswerable questions that got an answer, per category and language."""
    table: dict[str, dict[str, list[bool]]] = {}
    for outcome in outcomes:
        if outcome.case.answerable:
            continue
        row = table.setdefault(outcome.case.category or "unanswerable", {})
        for column in (outcome.case.language, "all"):
            row.setdefault(column, []).append(outcome.answer.found)
    return {category: {column: _share(flags) for column, flags in row.items()} for category, row in sorted(table.items())}


def format_categories(table: dict[str, dict[str, float]]) -> str:
    """False-answer rate per category: rows are categories, columns languages."""
    columns = ["zh", "en", "all"]
    lines = [["false answers", *columns]]
    for category, row in table.items():
        lines.append([category, *("-" if c not in row else f"{row[c]:.3f}" for c in columns)])
    widths = [max(len(line[i]) for line in lines) for i in range(len(columns) + 1)]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)) for line in lines)


def _metrics(outcomes: Sequence[Outcome]) -> dict[str, Any]:
    answerable = [o for o in outcomes if o.case.answerable]
    ranks = [o.rank for o in answerable]
    cited = [o.citation_precision for o in answerable if o.citation_precision is not None]
    refused = [not o.answer.found for o in outcomes]
    unanswerable = [not o.case.answerable for o in outcomes]
    precision, recall = refusal_precision_recall(refused, unanswerable)
    totals = [o.timings_ms.get("total", 0.0) for o in outcomes]
    stages = sorted({stage for o in outcomes for stage in o.timings_ms})
    return {
        "questions": len(outcomes),
        "answerable": len(answerable),
        "hit@1": hit_at_k(ranks, 1),
        "hit@5": hit_at_k(ranks, 5),
        "mrr": mrr(ranks),
        "ndcg@10": ndcg_at_k([o.relevance for o in answerable], 10, [o.gold_total for o in answerable]),
        "accuracy": _share([o.contains and o.answer.found for o in answerable]),
        "short_em": _share([o.exact for o in answerable]),
        "short_f1": _mean([o.f1 for o in answerable]),
        "citation_precision": _mean(cited),
        "citation_hit": _share([o.citation_hit for o in answerable]),
        "false_refusals": sum(1 for o in answerable if not o.answer.found),
        "false_refusal_rate": _share([not o.answer.found for o in answerable]),
        "false_answer_rate": _share([o.answer.found for o in outcomes if not o.case.answerable]),
        "refusal_precision": precision,
        "refusal_recall": recall,
        "median_answer_chars": median([float(len(o.answer.answer)) for o in outcomes]),
        "latency_p50_ms": percentile(totals, 50),
        "latency_p95_ms": percentile(totals, 95),
        "stages_ms": {
            stage: {
                "p50": percentile([o.timings_ms[stage] for o in outcomes if stage in o.timings_ms], 50),
                "p95": percentile([o.timings_ms[stage] for o in outcomes if stage in o.timings_ms], 95),
            }
            for stage in stages
        },
    }


def _share(flags: Sequence[bool]) -> float:
    return sum(flags) / len(flags) if flags else float("nan")


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else float("nan")


TABLE_COLUMNS = tuple((key, "{:.3f}" if fmt == "rate" else fmt) for key, _, fmt in COLUMNS)


def format_table(rows: dict[str, dict[str, Any]]) -> str:
    """A plain-text table: one row per (run, language), one column per metric."""
    header = ["run", "n"] + [name for name, _ in TABLE_COLUMNS]
    lines = [header]
    for label, metrics in rows.items():
        line = [label, str(metrics["questions"])]
        for name, fmt in TABLE_COLUMNS:
            value = metrics.get(name)
            line.append("-" if value is None or value != value else fmt.format(value))
        lines.append(line)
    widths = [max(len(row[i]) for row in lines) for i in range(len(header))]
    return "\n".join("  ".join(cell.rjust(width) for cell, width in zip(row, widths, strict=True)) for row in lines)


def run_eval(
    engine: Engine,
    *,
    dataset: Path | None = None,
    squad: Path | None = None,
    questions: Path | None = None,
    ablation: bool = False,
    out: Path | None = None,
    html: Path | None = None,
    limit: int | None = None,
    check: bool = False,
    as_json: bool = False,
) -> int:
    """`rag eval`: the report set (`dataset`, default the bundled one) or a SQuAD benchmark
    (`squad`, with its questions from the parallel file `questions`), optionally as an ablation.

    Prints the metrics table (or, `as_json`, the whole result); writes it to `out` (JSON) and
    `html`; returns 1 when `check` finds a metric below eval/thresholds.json, else 0."""
    if squad:
        engine, cases = prepare_squad_engine(engine, squad, questions)
        name = squad.stem if not questions else f"{squad.stem}<-{questions.stem}"
    else:
        if not engine.has_index():
            engine.ensure_index(progress=True)
        cases = report_cases(engine, dataset)
        name = "report"
    if limit:
        cases = cases[: limit]
    modes = ("dense", "lexical", "hybrid") if ablation else ("hybrid",)
    runs: dict[str, list[Outcome]] = {mode: run_cases(engine, cases, mode=mode) for mode in modes}
    rows: dict[str, dict[str, Any]] = {}
    summaries = {}
    for mode, outcomes in runs.items():
        summary = summarize(outcomes)
        summaries[mode] = summary
        for language, metrics in summary.items():
            rows[f"{name}:{mode}:{language}"] = metrics
    final = runs[modes[-1]]
    categories = false_answers_by_category(final)
    if categories:
        print(format_categories(categories))
    result = {
        "dataset": name,
        "settings": {"top_k": engine.settings.top_k, "chunking": engine.settings.chunking.as_dict()},
        "metrics": summaries,
        "false_answers_by_category": categories,
        "failures": [o.as_dict() for o in final if not o.passed],
        "items": [o.as_dict() for o in final],
    }
    print(json.dumps(result, ensure_ascii=False) if as_json else format_table(rows))
    if out:
        _write(out, json.dumps(result, ensure_ascii=False, indent=1))
    if html:
        from eval.html_report import render

        _write(html, render(result))
        print(f"HTML report: {html}", file=sys.stderr)
    if check:
        from eval.thresholds import check as below_thresholds

        problems = below_thresholds(name, summaries[modes[-1]]["all"])
        for problem in problems:
            print(f"below threshold: {problem}", file=sys.stderr)
        return 1 if problems else 0
    return 0


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile("w", encoding="utf-8", dir=path.parent, delete=False, suffix=".tmp") as handle:
        handle.write(text)
    Path(handle.name).replace(path)
