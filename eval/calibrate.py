"""Calibrate the refusal decision on the labelled set: answerable vs unanswerable questions.

Fits a small logistic model over the answerer's evidence features (best sentence similarity
and term coverage, top passage similarity and coverage), picks the probability threshold with
the lowest cost (false refusals + 2 x false answers), prints the trade-off, estimates it
out-of-sample by 5-fold cross-validation, and writes rag/answering/calibration.json.

    python -m eval.calibrate [--index DIR] [--dataset FILE] [--write]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from eval.dataset import load_items
from rag.answering.answerer import CALIBRATION_FILE, FEATURES
from rag.config import Settings
from rag.engine import Engine

L2 = 0.1


def fit_logistic(x: np.ndarray, y: np.ndarray, steps: int = 4000, rate: float = 0.5) -> tuple[np.ndarray, float]:
    """Weights and bias by gradient descent on L2-regularized log-loss, classes re-weighted."""
    weights = np.zeros(x.shape[1])
    bias = 0.0
    positives = max(1.0, float(y.sum()))
    negatives = max(1.0, float(len(y) - y.sum()))
    sample_weight = np.where(y == 1, len(y) / (2 * positives), len(y) / (2 * negatives))
    for _ in range(steps):
        p = 1 / (1 + np.exp(-(x @ weights + bias)))
        error = (p - y) * sample_weight
        weights -= rate * (x.T @ error / len(y) + L2 * weights)
        bias -= rate * float(error.mean())
    return weights, bias


def trade_off(probabilities: np.ndarray, y: np.ndarray, threshold: float) -> tuple[int, int]:
    """(false refusals, false answers) at `threshold`."""
    found = probabilities >= threshold
    return int(((y == 1) & ~found).sum()), int(((y == 0) & found).sum())


FALSE_ANSWER_COST = 1.5  # a confident wrong claim costs more than a missed answer


def best_threshold(probabilities: np.ndarray, y: np.ndarray) -> float:
    candidates = np.unique(np.concatenate([[0.5], probabilities]))

    def cost(t: float) -> float:
        false_refusals, false_answers = trade_off(probabilities, y, t)
        return false_refusals + FALSE_ANSWER_COST * false_answers

    # Ties go to the lower threshold: a false refusal hides an answer the report has.
    return float(min(candidates, key=lambda t: (cost(t), t)))


def collect(engine: Engine, dataset: Path | None, language: str, split: str = "dev") -> tuple[np.ndarray, np.ndarray]:
    """Features and labels of the `split` questions the refusal model decides: those whose
    constraints some sentence meets (the others are refused before the model is asked)."""
    items = [item for item in load_items(dataset) if item.language == language and (item.split or split) == split]
    rows, labels = [], []
    for item in items:
        evidence = engine.evidence(item.question)
        if evidence.unmet or not evidence.ranked:
            continue
        rows.append([evidence.features[name] for name in FEATURES])
        labels.append(1 if item.answerable else 0)
    return np.array(rows, dtype=np.float64), np.array(labels, dtype=np.float64)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path)
    parser.add_argument("--dataset", type=Path)
    parser.add_argument("--write", action="store_true", help=f"write {CALIBRATION_FILE}")
    parser.add_argument("--split", default="dev", help="fit on this split of the set (the test split is for reporting)")
    args = parser.parse_args()
    engine = Engine(Settings(), index_dir=args.index)
    engine.ensure_index()
    languages = {language: calibrate(*collect(engine, args.dataset, language, args.split), language) for language in ("zh", "en")}
    calibration = {"languages": languages, "command": "python -m eval.calibrate --write"}
    if args.write:
        CALIBRATION_FILE.write_text(json.dumps(calibration, indent=1) + "\n", encoding="utf-8")
        print(f"wrote {CALIBRATION_FILE}")


def calibrate(x_raw: np.ndarray, y: np.ndarray, language: str) -> dict[str, object]:
    """Fit, pick the threshold, print the trade-off; the model in raw feature units."""
    mean, std = x_raw.mean(axis=0), x_raw.std(axis=0) + 1e-9
    x = (x_raw - mean) / std
    folds = np.arange(len(y)) % 5
    held_out = np.zeros(len(y))
    for fold in range(5):
        train, test = folds != fold, folds == fold
        w, b = fit_logistic(x[train], y[train])
        t = best_threshold(_sigmoid(x[train] @ w + b), y[train])
        held_out[test] = _sigmoid(x[test] @ w + b) >= t
    cv_false_refusals = int(((y == 1) & (held_out == 0)).sum())
    cv_false_answers = int(((y == 0) & (held_out == 1)).sum())

    weights, bias = fit_logistic(x, y)
    probabilities = _sigmoid(x @ weights + bias)
    threshold = best_threshold(probabilities, y)
    false_refusals, false_answers = trade_off(probabilities, y, threshold)
    print(f"[{language}] {int(y.sum())} answerable, {int(len(y) - y.sum())} unanswerable questions")
    print("threshold  false_refusals  false_answers")
    for t in sorted({0.3, 0.4, 0.5, 0.6, 0.7, round(threshold, 3)}):
        fr, fa = trade_off(probabilities, y, t)
        mark = "  <- chosen" if abs(t - round(threshold, 3)) < 1e-9 else ""
        print(f"{t:9.3f}  {fr:14d}  {fa:13d}{mark}")
    print(f"5-fold cross-validated: {cv_false_refusals} false refusals, {cv_false_answers} false answers\n")
    # Fold the standardization into the weights so the answerer applies them to raw features.
    raw_weights = weights / std
    raw_bias = bias - float((weights * mean / std).sum())
    return {
        "weights": {name: round(float(w), 6) for name, w in zip(FEATURES, raw_weights, strict=True)},
        "bias": round(raw_bias, 6),
        "threshold": round(threshold, 6),
        "measured": {
            "questions": len(y),
            "answerable": int(y.sum()),
            "false_refusals": false_refusals,
            "false_answers": false_answers,
            "cv_false_refusals": cv_false_refusals,
            "cv_false_answers": cv_false_answers,
        },
    }


def _sigmoid(z: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-z))


if __name__ == "__main__":
    main()
