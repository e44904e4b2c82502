"""The refusal calibration: one model per question language, and no silent stand-in."""

import pytest

from ingest.errors import ModelUnavailable
from rag.answering.answerer import Calibration


def test_each_language_the_detector_returns_has_its_own_model() -> None:
    calibration = Calibration.load()

    assert set(calibration.models) == {"zh", "en"}
    assert calibration.model("en") is not calibration.model("zh")


def test_a_language_without_a_model_is_an_error_that_says_how_to_calibrate() -> None:
    with pytest.raises(ModelUnavailable, match=r"'fr'.*python -m eval.calibrate --write"):
        Calibration.load().model("fr")
