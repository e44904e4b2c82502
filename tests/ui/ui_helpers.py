"""Helpers for the chat page tests (fixtures are in conftest.py): settings and a live server."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from support import test_settings

from rag.config import Settings

API_KEY = "ui-test-key"


def page_settings(index_dir: Path, data_dir: Path, **overrides: Any) -> Settings:
    """The test settings, plus where the page writes feedback and finds the eval report."""
    values: dict[str, Any] = {
        "max_upload_bytes": 1_000_000,
        "feedback_path": data_dir / "feedback" / "feedback.jsonl",
        "eval_report_path": data_dir / "eval-report.html",
    }
    return test_settings(index_dir, **{**values, **overrides})


@dataclass(frozen=True)
class LivePage:
    url: str
    settings: Settings
