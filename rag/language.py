"""Which language a question is asked in: "zh" or "en".

The answerer replies in the question's language, so a mixed question ("2027年 which province")
must go to the language of its frame, not of the names or years it quotes.
"""

from __future__ import annotations

import re

from ingest.text import CJK_CHAR

_LATIN_WORD = re.compile(r"[A-Za-z]+(?:'[A-Za-z]+)?")
# Quoted titles keep their own language ("《The Art of War》的作者是谁" is a Chinese question).
_QUOTED = re.compile(r"《[^》]*》|“[^”]*”|「[^」]*」|\"[^\"]*\"")

# Words that only an English sentence frame brings: one of them makes the question English,
# however many Chinese names or terms it quotes ("Who is 信长星?").
_ENGLISH_FRAME = frozenset(
    """
    who whom whose what which where when why how is are was were do does did can could will would
    should has have had the of in on at to for from by with and or a an it its this that these those
    there many much
    """.split()
)

# A Latin word weighs as much as two CJK characters, about the length of a Chinese word.
_CHARS_PER_WORD = 2


def detect_language(text: str) -> str:
    """ "zh" or "en": the language of the question's frame.

    English as soon as an English function or question word appears outside quotes; otherwise
    by share, CJK characters against Latin words (each counted as two characters). Text with
    neither script (digits, punctuation, empty) is "zh", the language of the reports.
    """
    frame = _QUOTED.sub(" ", text)
    if not CJK_CHAR.search(frame) and not _LATIN_WORD.search(frame):
        frame = text  # all of it is quoted: the quote is the question
    words = [word.lower() for word in _LATIN_WORD.findall(frame)]
    if any(word in _ENGLISH_FRAME for word in words):
        return "en"
    cjk = len(CJK_CHAR.findall(frame))
    if not words:
        return "zh"
    return "zh" if cjk >= _CHARS_PER_WORD * len(words) else "en"
