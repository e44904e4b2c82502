"""The CI gate: metrics against the minimums in a thresholds file."""

import json

import pytest

from eval.thresholds import THRESHOLDS_PATH, check, load_thresholds


@pytest.fixture
def thresholds(tmp_path):
    path = tmp_path / "thresholds.json"
    path.write_text(
        json.dumps({"_comment": "x", "report": {"accuracy": 0.75, "hit@5": 0.9}}), encoding="utf-8"
    )
    return path


def test_above_thresholds_passes(thresholds):
    assert check("report", {"accuracy": 0.8, "hit@5": 0.9}, thresholds) == []


def test_each_metric_below_its_threshold_is_reported(thresholds):
    problems = check("report", {"accuracy": 0.71, "hit@5": 0.85}, thresholds)
    assert problems == [f"accuracy 0.710 < 0.75 ({thresholds})", f"hit@5 0.850 < 0.9 ({thresholds})"]
    assert check("report", {"accuracy": 0.71, "hit@5": 0.95}, thresholds) == [
        f"accuracy 0.710 < 0.75 ({thresholds})"
    ]


def test_missing_or_nan_metric_fails(thresholds):
    problems = check("report", {"accuracy": float("nan")}, thresholds)
    assert problems == [
        f"accuracy not measured, needs >= 0.75 ({thresholds})",
        f"hit@5 not measured, needs >= 0.9 ({thresholds})",
    ]


def test_unknown_dataset_has_no_checks(thresholds):
    assert check("xquad.zh", {"accuracy": 0.0}, thresholds) == []
    assert "_comment" not in load_thresholds(thresholds)


def test_bundled_thresholds_cover_the_report_set():
    limits = load_thresholds()["report"]
    assert set(limits) >= {"accuracy", "hit@5", "false_answer_rate"}
    assert all(0 < (value["max"] if isinstance(value, dict) else value) <= 1 for value in limits.values())
    good = {"accuracy": 1.0, "hit@5": 1.0, "false_answer_rate": 0.0, "false_refusal_rate": 0.0}
    assert check("report", good) == []
    problems = check("report", {**good, "accuracy": 0.0, "false_answer_rate": 1.0})
    assert problems == [
        f"accuracy 0.000 < {limits['accuracy']:g} (eval/thresholds.json)",
        f"false_answer_rate 1.000 > {limits['false_answer_rate']['max']:g} (eval/thresholds.json)",
    ]
    assert THRESHOLDS_PATH.name == "thresholds.json"
