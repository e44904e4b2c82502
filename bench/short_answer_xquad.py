"""Short-answer extraction and the English glossary measured on XQuAD (Chinese paragraphs).

Usage: python bench/short_answer_xquad.py /path/to/xquad [--show N]

The directory holds xquad.zh.json and xquad.en.json (SQuAD format, parallel by question id).
Each question, Chinese and English alike, is given the sentence of its Chinese gold paragraph
that holds the gold answer (sentences split after 。！？); the short answer extracted from it is
compared with the Chinese gold answer: exact match and character F1 after dropping spaces and
punctuation, and coverage (how often there is a short answer at all), per question type.

The glossary table asks, for each English question, whether its Chinese terms occur in the gold
paragraph and in a random other one, and how a plain term-overlap ranking (idf-weighted terms
found as substrings) ranks the gold paragraph among all of them.
"""

from __future__ import annotations

import argparse
import json
import math
import random
import re
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path

_UNTYPED = {"WHAT", "WHY", "YESNO", "OTHER"}


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    context_index: int
    sentence: str
    answer: str


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _sentence_at(context: str, position: int) -> str:
    """The sentence of `context` around `position`, split after 。！？."""
    start = 0
    for match in re.finditer(r"[。！？]", context):
        if match.end() > position:
            return context[start : match.end()]
        start = match.end()
    return context[start:]


def load_items(directory: Path) -> tuple[list[str], list[Item], list[Item]]:
    """Chinese contexts, and the Chinese and English questions with their gold sentence and answer."""
    contexts: list[str] = []
    zh_items: dict[str, Item] = {}
    for article in _load(directory / "xquad.zh.json")["data"]:
        for paragraph in article["paragraphs"]:
            contexts.append(paragraph["context"])
            for qa in paragraph["qas"]:
                answer = qa["answers"][0]
                sentence = _sentence_at(paragraph["context"], answer["answer_start"])
                zh_items[qa["id"]] = Item(
                    qa["id"], qa["question"], len(contexts) - 1, sentence, answer["text"]
                )
    en_items = []
    for article in _load(directory / "xquad.en.json")["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                gold = zh_items[qa["id"]]
                en_items.append(
                    Item(qa["id"], qa["question"], gold.context_index, gold.sentence, gold.answer)
                )
    return contexts, list(zh_items.values()), en_items


def _normalize(text: str) -> str:
    text = unicodedata.normalize("NFKC", text).lower()
    return "".join(
        char for char in text if not (char.isspace() or unicodedata.category(char).startswith("P"))
    )


def exact_match(prediction: str | None, gold: str) -> float:
    return float(prediction is not None and _normalize(prediction) == _normalize(gold))


def char_f1(prediction: str | None, gold: str) -> float:
    if prediction is None:
        return 0.0
    predicted, expected = Counter(_normalize(prediction)), Counter(_normalize(gold))
    common = sum((predicted & expected).values())
    if common == 0:
        return 0.0
    precision, recall = common / sum(predicted.values()), common / sum(expected.values())
    return 2 * precision * recall / (precision + recall)


def evaluate(
    items: list[Item], language: str, glossary, show: int
) -> dict[str, list[tuple[float, float, bool]]]:
    from rag.answering.question_types import classify
    from rag.answering.short_answer import extract_short_answer

    rows: dict[str, list[tuple[float, float, bool]]] = defaultdict(list)
    shown: Counter[str] = Counter()
    for item in items:
        qtype = classify(item.question, language)
        prediction = extract_short_answer(item.question, item.sentence, qtype, language, glossary)
        em, f1 = exact_match(prediction, item.answer), char_f1(prediction, item.answer)
        rows[qtype.name].append((em, f1, prediction is not None))
        if show and prediction is not None and em == 0 and shown[qtype.name] < show:
            shown[qtype.name] += 1
            print(
                f"  [{language} {qtype.name}] {item.question}\n      {item.sentence}\n      gold={item.answer!r} got={prediction!r}"
            )
    return rows


def print_table(language: str, rows: dict[str, list[tuple[float, float, bool]]]) -> None:
    print(f"\n{language}: {'type':14} {'n':>5} {'cover':>6} {'EM':>6} {'F1':>6} {'EM|ans':>7} {'F1|ans':>7}")
    everything = [row for values in rows.values() for row in values]
    # The types that ask for a kind of phrase (a name, a place, a date...): WHAT/WHY/YESNO/OTHER
    # get a short answer only from a title or quote, or never.
    typed = [row for name, values in rows.items() if name not in _UNTYPED for row in values]
    totals = [("TYPED", typed), ("ALL", everything)]
    for name, values in sorted(rows.items(), key=lambda kv: -len(kv[1])) + totals:
        n = len(values)
        answered = [row for row in values if row[2]]
        em = sum(row[0] for row in values) / n
        f1 = sum(row[1] for row in values) / n
        em_answered = sum(row[0] for row in answered) / len(answered) if answered else 0.0
        f1_answered = sum(row[1] for row in answered) / len(answered) if answered else 0.0
        print(
            f"    {name:14} {n:5d} {len(answered) / n:6.3f} {em:6.3f} {f1:6.3f} {em_answered:7.3f} {f1_answered:7.3f}"
        )


def glossary_usefulness(contexts: list[str], items: list[Item], glossary) -> None:
    """Do an English question's Chinese terms occur in its gold paragraph more than elsewhere?"""
    rng = random.Random(0)
    document_frequency: dict[str, int] = {}

    def idf(term: str) -> float:
        if term not in document_frequency:
            document_frequency[term] = sum(term in context for context in contexts)
        return math.log((len(contexts) + 1) / (document_frequency[term] + 0.5))

    any_gold = any_random = share_gold = share_random = terms_total = hit1 = hit5 = 0.0
    started = time.perf_counter()
    for item in items:
        terms = glossary.translate_terms(item.question)
        gold = contexts[item.context_index]
        other = contexts[rng.choice([i for i in range(len(contexts)) if i != item.context_index])]
        any_gold += any(term in gold for term in terms)
        any_random += any(term in other for term in terms)
        if terms:
            share_gold += sum(term in gold for term in terms) / len(terms)
            share_random += sum(term in other for term in terms) / len(terms)
        terms_total += len(terms)
        scores = [sum(idf(term) for term in set(terms) if term in context) for context in contexts]
        ranking = sorted(range(len(contexts)), key=lambda i: -scores[i])
        hit1 += ranking[0] == item.context_index
        hit5 += item.context_index in ranking[:5]
    n = len(items)
    print(
        f"\nglossary over {n} English questions, {len(contexts)} Chinese paragraphs "
        f"({(time.perf_counter() - started) / n * 1000:.1f} ms a question incl. ranking)\n"
        f"    terms a question        {terms_total / n:.1f}\n"
        f"    any term in gold para   {any_gold / n:.3f}   in a random other para {any_random / n:.3f}\n"
        f"    share of terms in gold  {share_gold / n:.3f}   in a random other para {share_random / n:.3f}\n"
        f"    term-overlap ranking    hit@1 {hit1 / n:.3f}   hit@5 {hit5 / n:.3f}"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("xquad_dir", type=Path)
    parser.add_argument("--show", type=int, default=0, help="print up to N misses per question type")
    parser.add_argument("--no-glossary-table", action="store_true")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from rag.language import detect_language
    from rag.retrieval.glossary import Glossary

    contexts, zh_items, en_items = load_items(args.xquad_dir)
    glossary = Glossary.load()
    for language, items in (("zh", zh_items), ("en", en_items)):
        detected = sum(detect_language(item.question) == language for item in items) / len(items)
        started = time.perf_counter()
        rows = evaluate(items, language, glossary, args.show)
        elapsed = (time.perf_counter() - started) / len(items) * 1000
        print_table(language, rows)
        print(f"    language detected as {language}: {detected:.3f}; {elapsed:.1f} ms a question")
    if not args.no_glossary_table:
        glossary_usefulness(contexts, en_items, glossary)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
