"""The CI gate: metrics that must not fall below the minimums written in `eval/thresholds.json`."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

THRESHOLDS_PATH = Path(__file__).resolve().parent / "thresholds.json"


def load_thresholds(path: Path = THRESHOLDS_PATH) -> dict[str, dict[str, Any]]:
    """{dataset name: {metric: minimum or {"max": maximum}}}; keys starting with '_' are comments."""
    data = json.loads(path.read_text(encoding="utf-8"))
    return {name: dict(minimums) for name, minimums in data.items() if not name.startswith("_")}


def check(dataset: str, metrics: dict[str, Any], path: Path = THRESHOLDS_PATH) -> list[str]:
    """One message per metric of `dataset` below its minimum; [] when all pass or none is set.

    metrics: one row of the runner's summary (e.g. `metrics["hybrid"]["all"]`). A metric that
    is missing or nan fails: "not measured" must not pass a gate.
    """
    minimums = load_thresholds(path).get(dataset, {})
    where = _display(path)
    problems = []
    for name, bound in minimums.items():
        value = metrics.get(name)
        # A rate that must stay low (false answers) is written {"max": x}; others are minimums.
        maximum = bound.get("max") if isinstance(bound, dict) else None
        wanted = f"<= {maximum:g}" if maximum is not None else f">= {bound:g}"
        if not isinstance(value, int | float) or math.isnan(value):
            problems.append(f"{name} not measured, needs {wanted} ({where})")
        elif maximum is not None and value > maximum:
            problems.append(f"{name} {value:.3f} > {maximum:g} ({where})")
        elif maximum is None and value < bound:
            problems.append(f"{name} {value:.3f} < {bound:g} ({where})")
    return problems


def _display(path: Path) -> str:
    """The path relative to the repository when it is the bundled file, so messages read the same anywhere."""
    try:
        return str(path.resolve().relative_to(THRESHOLDS_PATH.parent.parent))
    except ValueError:
        return str(path)
