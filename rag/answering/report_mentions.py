"""Whether the report mentions something anywhere, without scanning the whole report per question.

The answerer asks, for every constraint of every question, whether any indexed text meets it
("杭州" nowhere in the report: refuse). That was `met(c, corpus_text)` over all chunk text joined:
at 100k chunks 72% of a question's time went to `corpus_text.replace(" ", "")` alone (136 ms
median per question, bench.store_scale), and a pinyin name was spelled out against every
character of the corpus. `ReportMentions` answers the same questions from an index built once
per loaded corpus:

* every character -> the chunk rows holding it, and the set of character bigrams present: a form
  is looked for only in the chunks holding its rarest characters, and a form with a bigram the
  report never has is absent at once;
* the province abbreviations standing in a run (沪苏浙皖);
* the report's CJK characters by pinyin reading, so a pinyin name is spelled out character by
  character, keeping only spellings whose prefixes the report holds.

The answers are exactly those of `met` / `mentioned` over the joined text (tests check them on
the bundled report): each kind of constraint is met in the joined text only inside one chunk's
text (no form spans the newline between two chunks, no run or name crosses it), and every
candidate is checked with the same `met` on that chunk's text.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from ingest.text import CJK_CHAR
from rag.answering.constraints import Constraint, Kind, mentioned, met, title_met, titles_in
from rag.answering.provinces import ABBREVIATION_RUN

# Kinds whose every meeting holds one of the constraint's forms literally (ENTITY also has
# abbreviations and pinyin names, handled apart). Others are checked on the joined text.
_LITERAL_KINDS = frozenset({Kind.ROLE, Kind.YEAR, Kind.ORDINAL, Kind.ATTRIBUTE, Kind.ACT})
# A candidate list above this is narrowed by intersecting with the next rarest character's rows.
_NARROW_ABOVE = 64
_MAX_INTERSECTED = 3
_BLOCK = 20_000  # chunks per numpy block when building


class ReportMentions:
    """Presence of text in a corpus of chunk texts, as if they were joined with newlines."""

    def __init__(self, texts: Iterable[str]) -> None:
        """texts: each chunk's `embedding_text()` (what the report-wide check read)."""
        # Spaces never count (`met` drops them: "第 33 届" meets 第33), so they go at once.
        self._texts = [text.replace(" ", "") for text in texts]
        pairs, bigrams, runs = [], [], set()
        # Built with numpy a block of chunks at a time: a Python loop over every character took
        # 7 s at 100k chunks; the blocks bound the temporary arrays.
        for start in range(0, len(self._texts), _BLOCK):
            block = self._texts[start : start + _BLOCK]
            codes = np.frombuffer("".join(block).encode("utf-32-le", "surrogatepass"), dtype=np.uint32).astype(np.int64)
            rows = np.repeat(np.arange(start, start + len(block), dtype=np.int64), [len(text) for text in block])
            pairs.append(_distinct((codes << 32) | rows))  # (character, row), each once
            same = rows[:-1] == rows[1:]  # bigrams within one chunk only
            bigrams.append(_distinct(((codes[:-1] << 21) | codes[1:])[same]))
            runs.update(ABBREVIATION_RUN.findall("\n".join(block)))
        # Sorted (character, row) keys: each character's rows are one ascending slice.
        keys = np.sort(np.concatenate(pairs)) if pairs else np.empty(0, np.int64)
        chars, all_rows = keys >> 32, (keys & 0xFFFFFFFF).astype(np.int32)
        bounds = [0, *(np.flatnonzero(np.diff(chars)) + 1).tolist(), len(keys)]
        self._rows = {chr(int(chars[a])): all_rows[a:b] for a, b in zip(bounds, bounds[1:], strict=False) if b > a}
        self._bigrams = frozenset(np.concatenate(bigrams).tolist()) if bigrams else frozenset()
        # Every abbreviation run, one a line: an entity's abbreviation is met in a run of the
        # report exactly when it is met in this text.
        self._runs = "\n".join(sorted(runs))
        self._by_reading: dict[str, list[str]] | None = None
        self._joined: str | None = None

    def _has_bigrams(self, form: str) -> bool:
        """Every bigram of `form` stands somewhere in the report (within one chunk)."""
        return all(((ord(a) << 21) | ord(b)) in self._bigrams for a, b in zip(form, form[1:], strict=False))

    def shares_bigram(self, form: str) -> bool:
        """Some bigram of `form` stands somewhere in the report (a dictionary rendering that
        relates to it: 领导人 -> 领导)."""
        return any(((ord(a) << 21) | ord(b)) in self._bigrams for a, b in zip(form, form[1:], strict=False))

    def contains(self, form: str) -> bool:
        """`form in "\\n".join(texts).replace(" ", "")`."""
        if not form:
            return True
        if " " in form:
            return False
        if "\n" in form:
            return form in self._joined_text()
        if len(form) == 1:
            return form in self._rows
        if not self._has_bigrams(form):
            return False
        return any(form in self._texts[row] for row in self._candidates(form).tolist())

    def met(self, constraint: Constraint) -> bool:
        """`met(constraint, joined text)`: does anything in the report meet it."""
        return self._anywhere(constraint, met)

    def mentioned(self, constraint: Constraint) -> bool:
        """`mentioned(constraint, joined text)`: does the report name it at all."""
        return self._anywhere(constraint, mentioned)

    # --- internals -----------------------------------------------------------------------
    def _anywhere(self, constraint: Constraint, check: Callable[[Constraint, str], bool]) -> bool:
        if constraint.kind in _LITERAL_KINDS:
            return self._literal(constraint, check)
        if constraint.kind is Kind.ENTITY:
            return (
                any(form and self.contains(form) for form in constraint.forms)
                or check(constraint, self._runs)
                or (constraint.pinyin_name and self._spells(constraint.surface))
            )
        if constraint.kind is Kind.TITLED and not constraint.pinyin_name:
            return self._titled(constraint)
        # Not asked report-wide today (lists, speakers, kinds of place), or a title's holder in
        # pinyin, whose spellings are not known until read: the joined text.
        return check(constraint, self._joined_text())

    def _titled(self, constraint: Constraint) -> bool:
        """`met` of a title over the chunks naming its holder (or, with none, the title): what
        bears it out or contradicts it stands where they do."""
        contradicts = False
        seen: set[int] = set()
        for form in constraint.holder or constraint.forms:
            if len(form) < 2 or not self._has_bigrams(form):
                continue
            for row in self._candidates(form).tolist():
                if row in seen or form not in self._texts[row]:
                    continue
                seen.add(row)
                bears_out, against = titles_in(constraint, self._texts[row])
                if bears_out:
                    return True
                contradicts |= against
        return title_met(False, contradicts)

    def _literal(self, constraint: Constraint, check: Callable[[Constraint, str], bool]) -> bool:
        """`check` over the chunks holding one of the forms: a role, year, ordinal or
        attribute is met only where one of its forms stands."""
        if any(not form or "\n" in form for form in constraint.forms):
            return check(constraint, self._joined_text())  # met everywhere, or across chunks
        seen: set[int] = set()
        for form in constraint.forms:
            if " " in form or not self._has_bigrams(form):
                continue  # not in the report: no chunk to check
            rows = self._rows.get(form, np.empty(0, np.int32)) if len(form) == 1 else self._candidates(form)
            for row in rows.tolist():
                text = self._texts[row]
                # a row is settled once checked: `check` reads every form in it
                if row in seen or form not in text:
                    continue
                seen.add(row)
                if check(constraint, text):
                    return True
        return False

    def _candidates(self, form: str) -> np.ndarray:
        """Rows holding every one of the rarest characters of `form` (all present, as its
        bigrams are)."""
        postings = sorted((self._rows[char] for char in set(form)), key=len)
        found = postings[0]
        for other in postings[1:_MAX_INTERSECTED]:
            if len(found) <= _NARROW_ABOVE:
                break
            found = np.intersect1d(found, other, assume_unique=True)
        return found

    def _joined_text(self) -> str:
        if self._joined is None:
            self._joined = "\n".join(self._texts)
        return self._joined

    def _spells(self, english_name: str) -> bool:
        """Whether `names_in_text(english_name, joined text)` finds anything: some run of two or
        more report characters whose readings spell the name's words, in Chinese or Western
        order. Spellings are built a character at a time and kept only while the report holds
        them, so the search stays within what the report writes."""
        from rag.retrieval.glossary import _syllables_of

        words = _syllables_of(english_name)
        if not words:
            return False
        orders = [words] if len(words) == 1 else [words, [*words[1:], words[0]]]
        return any(self._spelled(order, 0, 0, "") for order in orders)

    def _spelled(self, words: list[str], word: int, done: int, prefix: str) -> bool:
        if word == len(words):
            return len(prefix) >= 2
        if done == len(words[word]):
            return self._spelled(words, word + 1, 0, prefix)
        target = words[word]
        for reading, chars in self._readings().items():
            if not target.startswith(reading, done):
                continue
            for char in chars:
                spelled = prefix + char
                if len(spelled) >= 2 and not self.contains(spelled):
                    continue
                if self._spelled(words, word, done + len(reading), spelled):
                    return True
        return False

    def _readings(self) -> dict[str, list[str]]:
        """pinyin reading -> the report's CJK characters read so (built on the first name)."""
        if self._by_reading is None:
            from rag.retrieval.glossary import _readings

            by_reading: dict[str, list[str]] = {}
            for char in sorted(self._rows):
                if CJK_CHAR.match(char):
                    for reading in dict.fromkeys(_readings(char)):
                        if reading:
                            by_reading.setdefault(reading, []).append(char)
            self._by_reading = by_reading
        return self._by_reading


def _distinct(keys: np.ndarray) -> np.ndarray:
    """The distinct values of `keys`, sorted (numpy's `unique` took its hash path here, 8x slower)."""
    keys = np.sort(keys)
    return keys[np.concatenate(([True], keys[1:] != keys[:-1]))] if len(keys) else keys
