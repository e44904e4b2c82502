"""Grid-search the sentence-selection weights on the report set's dev split (never on test).

    python -m eval.tune_sentences [--index DIR]

Prints accuracy, false-answer and false-refusal rates per language for each setting of the
English coverage weight and the answer-type bonus; the chosen values live in
`rag.answering.answerer.SentenceWeights`.
"""

from __future__ import annotations

import argparse
import itertools
from dataclasses import replace
from pathlib import Path

from eval.runner import report_cases, run_cases, summarize
from rag.answering.answerer import SentenceWeights
from rag.config import Settings
from rag.engine import Engine

EN_COVERAGE = (0.15, 0.3, 0.5)
ANSWER_TYPE = (0.0, 0.03)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--index", type=Path)
    args = parser.parse_args()
    engine = Engine(Settings(), index_dir=args.index)
    engine.ensure_index()
    cases = [case for case in report_cases(engine) if case.split == "dev"]
    base = SentenceWeights()
    print("en_coverage  answer_type  zh(acc, false answers, false refusals)  en(...)")
    for en_coverage, answer_type in itertools.product(EN_COVERAGE, ANSWER_TYPE):
        weights = replace(base, coverage={**base.coverage, "en": en_coverage}, answer_type=answer_type)
        tuned = Engine(engine.settings, index_dir=engine.index_dir, embedder=engine.embedder, sentence_weights=weights)
        metrics = summarize(run_cases(tuned, cases, progress=False))
        cells = [
            f"{metrics[lang]['accuracy']:.3f} {metrics[lang]['false_answer_rate']:.3f} {metrics[lang]['false_refusal_rate']:.3f}"
            for lang in ("zh", "en")
        ]
        print(f"{en_coverage:11.2f}  {answer_type:11.2f}  {cells[0]:>38}  {cells[1]}", flush=True)


if __name__ == "__main__":
    main()
