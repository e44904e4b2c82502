"""Retrieval, answer and refusal metrics: pure functions over plain lists and strings.

Empty input convention: a mean or ratio over nothing (no questions, no predicted refusals, no
values) is ``nan``, not 0.0, so a report cannot mistake "not measured" for "scored zero".
Ranks are 1-based positions of the gold passage in a ranked list; ``None`` means not retrieved.
"""

from __future__ import annotations

import math
import string
import unicodedata
from collections import Counter
from collections.abc import Sequence

NAN = float("nan")


def _mean(values: Sequence[float]) -> float:
    return sum(values) / len(values) if values else NAN


def _check_k(k: int) -> None:
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")


def hit_at_k(ranks: Sequence[int | None], k: int) -> float:
    """Fraction of questions whose gold passage is ranked within the top `k` (nan if no ranks)."""
    _check_k(k)
    return _mean([1.0 if rank is not None and rank <= k else 0.0 for rank in ranks])


def mrr(ranks: Sequence[int | None]) -> float:
    """Mean reciprocal rank; a question whose gold passage was not retrieved counts 0 (nan if no ranks)."""
    return _mean([1.0 / rank if rank is not None else 0.0 for rank in ranks])


def _dcg(relevance: Sequence[bool | int], k: int) -> float:
    # Position i (0-based) is discounted by log2(i + 2): rank 1 -> 1, rank 2 -> 1/log2(3), ...
    return sum(1.0 / math.log2(i + 2) for i, relevant in enumerate(relevance[:k]) if relevant)


def ndcg_at_k(
    relevance_lists: Sequence[Sequence[bool | int]],
    k: int,
    num_relevant: Sequence[int] | None = None,
) -> float:
    """Mean nDCG@k over ranked lists of binary relevance (nan if there are no lists).

    The ideal DCG puts all relevant items first. Their count is `num_relevant[i]` when given
    (pass it when a relevant item may be missing from the list), else the relevant items
    found in the list. A list with no relevant items scores 0.0: the question was missed.
    """
    _check_k(k)
    if num_relevant is not None and len(num_relevant) != len(relevance_lists):
        raise ValueError(
            f"num_relevant has {len(num_relevant)} entries for {len(relevance_lists)} ranked lists; give one per list"
        )
    scores: list[float] = []
    for i, relevance in enumerate(relevance_lists):
        count = num_relevant[i] if num_relevant is not None else sum(1 for relevant in relevance if relevant)
        ideal = _dcg([True] * count, k)
        scores.append(_dcg(relevance, k) / ideal if ideal > 0 else 0.0)
    return _mean(scores)


def normalize(text: str) -> str:
    """NFKC (full-width letters and digits become ASCII), lowercase, drop whitespace and punctuation."""
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(
        char
        for char in text
        if not char.isspace()
        and char not in string.punctuation
        and not unicodedata.category(char).startswith("P")
    )


def char_f1(prediction: str, gold: str) -> float:
    """Character-level F1 of the normalized strings (bag of characters, as SQuAD does with tokens).

    Two strings that normalize to nothing score 1.0; one empty side against a non-empty one scores 0.0.
    """
    predicted, expected = normalize(prediction), normalize(gold)
    if not predicted or not expected:
        return 1.0 if predicted == expected else 0.0
    overlap = sum((Counter(predicted) & Counter(expected)).values())
    if overlap == 0:
        return 0.0
    precision = overlap / len(predicted)
    recall = overlap / len(expected)
    return 2 * precision * recall / (precision + recall)


def best_char_f1(prediction: str, golds: Sequence[str]) -> float:
    """The highest `char_f1` against any accepted answer; 0.0 when there are none."""
    return max((char_f1(prediction, gold) for gold in golds), default=0.0)


def exact_match(prediction: str, golds: Sequence[str]) -> bool:
    """Whether the normalized prediction equals some normalized accepted answer."""
    predicted = normalize(prediction)
    return any(predicted == normalize(gold) for gold in golds)


def contains_answer(text: str, golds: Sequence[str]) -> bool:
    """Whether some accepted answer occurs in `text`, both normalized.

    An answer that normalizes to nothing (only punctuation) is skipped, since "" is in every text.
    """
    haystack = normalize(text)
    return any(needle in haystack for needle in map(normalize, golds) if needle)


def refusal_precision_recall(
    predicted_refused: Sequence[bool], unanswerable: Sequence[bool]
) -> tuple[float, float]:
    """(precision, recall) of refusals against the unanswerable questions.

    Precision: share of refusals that were on unanswerable questions (nan if none refused).
    Recall: share of unanswerable questions refused (nan if none is unanswerable).
    """
    if len(predicted_refused) != len(unanswerable):
        raise ValueError(
            f"{len(predicted_refused)} refusal flags for {len(unanswerable)} questions; give one flag per question"
        )
    correct = sum(
        1 for refused, gold in zip(predicted_refused, unanswerable, strict=True) if refused and gold
    )
    refused_count = sum(1 for refused in predicted_refused if refused)
    unanswerable_count = sum(1 for gold in unanswerable if gold)
    precision = correct / refused_count if refused_count else NAN
    recall = correct / unanswerable_count if unanswerable_count else NAN
    return precision, recall


def percentile(values: Sequence[float], q: float) -> float:
    """The q-th percentile (0-100), interpolating linearly between ranks as numpy does (nan if empty)."""
    if not 0 <= q <= 100:
        raise ValueError(f"q must be between 0 and 100, got {q}")
    if not values:
        return NAN
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float:
    """The 50th percentile (nan if empty)."""
    return percentile(values, 50)


# The metric columns of every report (the text table of `rag eval`, the HTML report), in order:
# (key in the metrics dict, heading, format). "rate" is a share in 0..1, shown with three decimals
# (and a bar in HTML); anything else is a format string.
COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("hit@1", "hit@1", "rate"),
    ("hit@5", "hit@5", "rate"),
    ("mrr", "MRR", "rate"),
    ("ndcg@10", "nDCG@10", "rate"),
    ("accuracy", "accuracy", "rate"),
    ("short_em", "short EM", "rate"),
    ("short_f1", "short F1", "rate"),
    ("citation_precision", "citation precision", "rate"),
    ("citation_hit", "citation hit", "rate"),
    ("refusal_precision", "refusal precision", "rate"),
    ("refusal_recall", "refusal recall", "rate"),
    ("false_answer_rate", "false answers", "rate"),
    ("false_refusal_rate", "false refusals", "rate"),
    ("median_answer_chars", "median answer chars", "{:.0f}"),
    ("latency_p50_ms", "latency p50 ms", "{:.1f}"),
    ("latency_p95_ms", "latency p95 ms", "{:.1f}"),
)
