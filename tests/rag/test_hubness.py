"""The cross-lingual hubness correction (rag.answering.hubness), with the real model and index."""

import numpy as np

from rag.answering.answerer import Answerer, SentenceWeights
from rag.answering.hubness import REFERENCE_QUESTIONS, MeanQuestions, hub_scores
from rag.engine import Engine


def test_hub_scores_are_centred_per_sentence_and_only_for_languages_with_references(
    bundled_engine: Engine,
) -> None:
    retriever = bundled_engine._loaded().retriever
    vectors = retriever.index.sentence_vectors
    means = MeanQuestions(retriever.embedder)
    scores = hub_scores(vectors, means, "en")
    assert scores is not None and scores.shape == (len(vectors),)
    assert abs(float(scores.mean())) < 1e-5  # centred: the refusal model's scale is kept
    assert float(scores.std()) > 0.001  # sentences differ in how close they sit to any question
    assert hub_scores(vectors, means, "zh") is None
    assert hub_scores(np.zeros((0, vectors.shape[1]), dtype=np.float32), means, "en") is None


def test_reference_questions_are_generic_english() -> None:
    questions = REFERENCE_QUESTIONS["en"]
    assert len(questions) >= 50 and len(set(questions)) == len(questions)
    assert all(q.isascii() and q.endswith("?") for q in questions)


def test_english_sentence_choice_is_corrected_for_hubs(bundled_engine: Engine) -> None:
    """The 2026 headline sentence is a hub for English questions: uncorrected, it wins over the
    sentence that names the 2027 host."""
    question = "Which year's symposium will be held in Anhui?"
    retriever = bundled_engine._loaded().retriever
    corrected = Answerer(retriever, bundled_engine.glossary).answer(question, use_llm=False)
    plain = Answerer(
        retriever, bundled_engine.glossary, weights=SentenceWeights(hubness={"en": 0.0})
    ).answer(question, use_llm=False)
    assert corrected.short_answer is not None and "2027" in corrected.short_answer, corrected
    assert "2027" not in (plain.short_answer or ""), plain


def test_a_reloaded_index_reuses_the_mean_questions_of_its_encoder(bundled_engine: Engine) -> None:
    engine = Engine(bundled_engine.settings, index_dir=bundled_engine.index_dir, embedder=bundled_engine.embedder)
    first = engine._loaded()
    mean = first.mean_questions.of("en")
    _, reloaded = engine._install()  # what a write by this or another process leads to
    assert reloaded is not first and reloaded.mean_questions is first.mean_questions
    assert reloaded.mean_questions.of("en") is mean  # not embedded again
