"""Stop an LLM answer at its first sentence when the groundedness check would drop that sentence.

When a reply's first sentence is invented, nothing after it was kept: `python -m
bench.llm_first_sentence` on 80 report questions with Gemma 3 270M let every reply run to its
end; 19 of the 20 it could check had their first sentence dropped (it mostly copies the prompt's
worked example, "新博物馆共有8个展厅[2]。"), and none of those 19 had a later sentence kept. Waiting
for a second sentence would have stopped none of them: it never completed before the reply
ended. So the first sentence is judged as soon as it is complete (the next one has begun), by
the check every sentence gets in the end (`grounding.check`: the facts first, e5 only when some
passage holds them), and a sentence that check would drop stops the stream, which stops the
server's generation; the extractive answer is shown. A sentence another passage supports is
re-cited in the end, so it does not stop the reply.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from rag.answering.grounding import Claim, Status, Verdict, first_claim
from rag.answering.llm import Abandoned, parse_reply, renumber


class Unsupported(Abandoned):
    """The reply's first sentence is not supported by the retrieved passages; it was stopped."""


@dataclass
class FirstSentenceCheck:
    """A `stream_answer` watch: checks the reply's first sentence once it is complete.

    judge: the check of one sentence, whose markers number the retrieved passages.
    numbers: the retrieved passage each passage sent to the model is (1-based, in order).
    """

    judge: Callable[[Claim], Verdict]
    numbers: Sequence[int]
    verdict: Verdict | None = field(default=None, init=False)  # once the first sentence was judged
    check_ms: float = field(default=0.0, init=False)

    def __call__(self, text: str) -> None:
        if self.verdict is not None:
            return
        claim = first_claim(renumber(parse_reply(text, len(self.numbers)), self.numbers).text)
        if claim is None:
            return
        started = time.perf_counter()
        self.verdict = self.judge(claim)
        self.check_ms = (time.perf_counter() - started) * 1000.0
        if self.verdict.status is Status.DROPPED:
            raise Unsupported(
                f"the LLM's first sentence was not supported by the retrieved passages ({self.verdict.why})"
            )

    def counts(self) -> dict[str, int]:
        """The check's sentence counts for what was judged (empty when nothing was)."""
        if self.verdict is None:
            return {}
        return {status.value: int(self.verdict.status is status) for status in Status}
