"""Off-topic (unanswerable) questions in bulk: a benchmark's questions, asked of another corpus.

The labelled set has 34 off-topic questions; a question about the Super Bowl or chloroplasts
asked of the bundled report is off-topic too, and XQuAD has 1,190 of them in each language.
Every answer the report set's index gives them is a false one, so `rag eval` over this file
reads as the off-topic false-answer rate with a thousand questions behind it:

    python -m eval.off_topic ../shared/benchmarks/xquad/xquad.zh.json \\
        --questions ../shared/benchmarks/xquad/xquad.en.json --out off_topic.jsonl
    rag eval --dataset off_topic.jsonl        # over the bundled report's index

Each question keeps its paragraph's split (`eval.near_miss.split_of`: a hash of the text), so
a rule can be tuned on the dev half and reported on the test half.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter
from pathlib import Path

from eval.near_miss import split_of
from eval.squad import load_squad


def off_topic_items(corpus: Path, parallel: list[Path]) -> list[dict[str, object]]:
    """The corpus file's questions, then each parallel file's, labelled unanswerable."""
    items: list[dict[str, object]] = []
    for questions in [None, *parallel]:
        benchmark = load_squad(corpus, questions)
        text_of = {passage.id: passage.text for passage in benchmark.passages}
        for question in benchmark.questions:
            items.append(
                {
                    "id": f"{question.id}:{question.language}:off",
                    "language": question.language,
                    "question": question.question,
                    "answers": [],
                    "evidence": "",
                    "answerable": False,
                    "type": "",
                    "paragraph": question.gold_passage_id,
                    "category": "off_topic",
                    "split": split_of(text_of[question.gold_passage_id]),
                }
            )
    return items


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.off_topic", description=__doc__.split("\n\n")[0])
    parser.add_argument("corpus", type=Path, help="SQuAD-format file (e.g. xquad.zh.json)")
    parser.add_argument(
        "--questions", type=Path, action="append", default=[],
        help="a parallel file (same paragraphs) whose questions to add to the corpus file's (repeatable)",
    )  # fmt: skip
    parser.add_argument("--out", type=Path, required=True, help="JSONL file to write")
    args = parser.parse_args(argv)
    from ingest.errors import RagError

    try:
        items = off_topic_items(args.corpus, args.questions)
    except RagError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    temporary = args.out.with_name(args.out.name + ".tmp")
    temporary.write_text("".join(json.dumps(item, ensure_ascii=False) + "\n" for item in items), encoding="utf-8")
    temporary.replace(args.out)
    by_language = Counter(str(item["language"]) for item in items)
    print(f"off-topic questions: {dict(by_language)}; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
