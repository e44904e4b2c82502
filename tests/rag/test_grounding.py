"""The groundedness check (rag.answering.grounding): sentences split with their markers as pure
functions; then LLM answers crafted on the fake server, with valid markers and invented facts,
through the real answerer over the bundled report and the real e5 model."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import numpy as np
import pytest
from fake_openai import FakeOpenAI

from ingest.embedder import Embedder
from rag.answering.answerer import EXCERPT_CHARS, llm_passages
from rag.answering.grounding import Claim, Grounding, Status, Verdict, check, first_claim, split_claims
from rag.config import Settings
from rag.engine import Engine
from rag.events import Citations, Delta, Done
from rag.records import Answer

WHERE_2027 = "2027年度长三角地区主要领导座谈会在哪里召开？"
JIANGSU_SECRETARY = "江苏省委书记是谁？"
# Asked without the year, the side events' sentence is offered too: a passage that does not
# say where the next symposium is.
NEXT_HOST = "下一届座谈会在哪里召开？"
SIDE_EVENTS = "并行召开了长三角一体化发展联席会议"


@pytest.mark.parametrize(
    ("answer", "claims"),
    [
        (
            "安徽省[1]。会议确定在安徽省召开。[2]",
            [Claim("安徽省。", (1,)), Claim("会议确定在安徽省召开。", (2,), True)],
        ),
        (
            "GDP grew 5.2% [1][3]. Jobs rose [2].\n\nNothing else.",
            [
                Claim("GDP grew 5.2%.", (1, 3)),
                Claim("Jobs rose.", (2,), True),
                Claim("Nothing else.", (), True),
            ],
        ),
        ("[1] 会议在上海举行。", [Claim("会议在上海举行。", (1,), True)]),
        ("在哪里召开？[1]", [Claim("在哪里召开？", (1,), True)]),
    ],
)
def test_split_claims(answer: str, claims: list[Claim]) -> None:
    assert split_claims(answer) == claims


@pytest.mark.parametrize(
    ("partial", "claim"),
    [
        ("安徽省[1]。", None),  # the markers after it may still come
        ("安徽省。[1", None),  # a marker still being written
        ("安徽省。[1][2]会议", Claim("安徽省。", (1, 2))),
        ("GDP grew 5.", None),  # "5." may be "5.2%"
        ("GDP grew 5.2% [1]. Jobs", Claim("GDP grew 5.2%.", (1,))),
        ("在哪里召开？安徽", Claim("在哪里召开？", ())),
    ],
)
def test_first_claim_waits_until_the_second_sentence_begins(partial: str, claim: Claim | None) -> None:
    assert first_claim(partial) == claim


# --- the check on its own, with the real e5 model ---------------------------------------------

PASSAGE = "本报讯 会议确定,2027年度长三角地区主要领导座谈会在安徽省召开。会议指出,要推动高层次协同开放。"


def check_one(
    claims: list[Claim], engine: Engine, embedder: Embedder, known: tuple[Verdict, ...] = ()
) -> tuple[Grounding, list[str]]:
    """`check` over PASSAGE (with the engine's dictionary), and the claim texts it had e5 encode."""
    encoded: list[str] = []

    def embed(texts: list[str]) -> np.ndarray:
        encoded.extend(texts)
        return embedder.embed_queries(texts)

    sentences = ["本报讯 会议确定,2027年度长三角地区主要领导座谈会在安徽省召开。", "会议指出,要推动高层次协同开放。"]
    vectors = [embedder.embed_passages(sentences)]
    grounding = check(claims, [PASSAGE], vectors, embed, "zh", engine.glossary, known=known)
    return grounding, encoded


def test_a_sentence_quoting_its_passage_is_supported_without_e5(bundled_engine: Engine, embedder: Embedder) -> None:
    quoted = Claim("2027年度长三角地区主要领导座谈会在安徽省召开。", (1,))
    reworded = Claim("2027年度长三角地区领导座谈会在安徽省举行。", (1,))  # 82% of its bigrams
    grounding, encoded = check_one([quoted, reworded], bundled_engine, embedder)

    assert [v.status for v in grounding.verdicts] == [Status.SUPPORTED, Status.SUPPORTED]
    assert encoded == [reworded.text]  # only the reworded one asks e5


def test_a_known_verdict_is_not_checked_again(bundled_engine: Engine, embedder: Embedder) -> None:
    reworded = Claim("2027年度长三角地区领导座谈会在安徽省举行。", (1,))
    invented = Claim("2027年度座谈会在浙江省召开。", (1,))
    already = Verdict(reworded, Status.SUPPORTED, (1,))
    grounding, encoded = check_one([reworded, invented], bundled_engine, embedder, known=(already,))

    assert grounding.verdicts[0] is already and grounding.verdicts[1].status is Status.DROPPED
    assert encoded == []  # the known one was not encoded again, the invented one fails on its facts


# --- through the answerer, on the fake server ---------------------------------------------------


@pytest.fixture
def fake() -> Iterator[FakeOpenAI]:
    with FakeOpenAI("good") as server:
        yield server


def engine_on(fake: FakeOpenAI, bundled: Engine, embedder: Embedder, verify: bool = True) -> Engine:
    settings = Settings(
        index_dir=bundled.index_dir,
        cache_dir=bundled.settings.cache_dir,
        llm_base_url=fake.base_url,
        llm_model=fake.model,
        llm_verify=verify,
    )
    return Engine(settings, index_dir=bundled.index_dir, embedder=embedder)


def passage_number(engine: Engine, question: str, holding: str) -> int:
    """The number the LLM is shown for the retrieved passage holding `holding` (it is shown
    excerpts of a few passages, numbered 1..)."""
    evidence = engine.evidence(question)
    numbers, _ = llm_passages(evidence)
    hits = evidence.retrieval.hits
    return next(n for n, number in enumerate(numbers, 1) if holding in hits[number - 1].chunk.text)


def ask(engine: Engine, fake: FakeOpenAI, question: str, reply: str) -> Answer:
    fake.reply = reply
    return engine.answer(question)


@pytest.fixture
def engine(fake: FakeOpenAI, bundled_engine: Engine, embedder: Embedder) -> Engine:
    return engine_on(fake, bundled_engine, embedder)


def test_a_supported_answer_is_kept_as_written(engine: Engine, fake: FakeOpenAI) -> None:
    n = passage_number(engine, WHERE_2027, "2027年度长三角地区主要领导座谈会在安徽省召开")
    answer = ask(engine, fake, WHERE_2027, f"2027年度长三角地区主要领导座谈会在安徽省召开[{n}]。")

    assert answer.answerer == "llm+checked" and answer.grounding == {
        "supported": 1,
        "recited": 0,
        "dropped": 0,
    }
    assert answer.answer == "2027年度长三角地区主要领导座谈会在安徽省召开[1]。"
    assert "安徽省召开" in answer.citations[0].text and answer.timings_ms["grounding"] > 0


@pytest.mark.parametrize(
    ("invented", "why"),
    [
        ("2025年度长三角地区主要领导座谈会在安徽省召开[{n}]。", "lacks 2025"),  # wrong year
        ("2027年度长三角地区主要领导座谈会在浙江省召开[{n}]。", "lacks 浙江省"),  # wrong province
        ("会议确定,2027年度座谈会共有12个议题[{n}]。", "lacks 12"),  # a number not in the passage
    ],
)
def test_an_invented_fact_is_dropped(engine: Engine, fake: FakeOpenAI, invented: str, why: str) -> None:
    n = passage_number(engine, WHERE_2027, "2027年度长三角地区主要领导座谈会在安徽省召开")
    true = f"会议确定,2027年度长三角地区主要领导座谈会在安徽省召开[{n}]。"
    answer = ask(engine, fake, WHERE_2027, true + invented.format(n=n))

    assert answer.answerer == "llm+checked" and answer.grounding == {
        "supported": 1,
        "recited": 0,
        "dropped": 1,
    }
    assert answer.answer == "会议确定,2027年度长三角地区主要领导座谈会在安徽省召开[1]。"

    # the check itself, on the answerer the engine holds
    dropped = engine._loaded()._ground(true + invented.format(n=n), engine.evidence(WHERE_2027)).verdicts[1]
    assert why in dropped.why


def test_a_title_given_to_the_wrong_person_is_dropped(engine: Engine, fake: FakeOpenAI) -> None:
    n = passage_number(engine, JIANGSU_SECRETARY, "江苏省委书记信长星")
    # The passage names 刘小涛 too, as 江苏省委副书记、省长: every word is there, the fact is not.
    answer = ask(engine, fake, JIANGSU_SECRETARY, f"江苏省委书记是信长星[{n}]。刘小涛也是江苏省委书记[{n}]。")

    assert answer.grounding == {"supported": 1, "recited": 0, "dropped": 1}
    assert "信长星" in answer.answer and "刘小涛" not in answer.answer


def test_a_sentence_citing_the_wrong_passage_is_recited(engine: Engine, fake: FakeOpenAI) -> None:
    right = passage_number(engine, NEXT_HOST, "会议确定,2027年度长三角地区主要领导座谈会在安徽省召开")
    wrong = passage_number(engine, NEXT_HOST, SIDE_EVENTS)
    answer = ask(
        engine, fake, NEXT_HOST, f"会议确定,2027年度长三角地区主要领导座谈会在安徽省召开[{wrong}]。"
    )

    assert answer.answerer == "llm+checked" and answer.grounding == {
        "supported": 0,
        "recited": 1,
        "dropped": 0,
    }
    assert answer.answer.endswith("召开[1]。") and len(answer.citations) == 1
    assert "安徽省召开" in answer.citations[0].text and SIDE_EVENTS not in answer.citations[0].text
    assert right != wrong


def test_nothing_supported_falls_back_to_the_extractive_answer(engine: Engine, fake: FakeOpenAI) -> None:
    # One sentence: judged when the reply ends (longer replies are judged at their first sentence,
    # below).
    n = passage_number(engine, WHERE_2027, "安徽省召开")
    answer = ask(engine, fake, WHERE_2027, f"2027年度座谈会在浙江省召开[{n}]。")

    assert answer.answerer == "extractive (fallback)"
    assert answer.grounding == {"supported": 0, "recited": 0, "dropped": 1}
    assert "check dropped all 1 sentences" in answer.notice
    assert "安徽" in answer.answer and "浙江" not in answer.answer
    assert answer.timings_ms["llm"] > 0  # what the LLM cost is recorded on a fallback too


def test_with_the_check_off_the_invented_fact_reaches_the_user(
    fake: FakeOpenAI, bundled_engine: Engine, embedder: Embedder
) -> None:
    engine = engine_on(fake, bundled_engine, embedder, verify=False)
    n = passage_number(engine, WHERE_2027, "安徽省召开")
    answer = ask(engine, fake, WHERE_2027, f"2027年度座谈会在浙江省召开[{n}]。")

    assert answer.answerer == "llm" and answer.grounding == {} and "浙江" in answer.answer


def test_stream_sends_the_tokens_then_the_checked_answer(engine: Engine, fake: FakeOpenAI) -> None:
    n = passage_number(engine, WHERE_2027, "2027年度长三角地区主要领导座谈会在安徽省召开")
    fake.reply = f"2027年度长三角地区主要领导座谈会在安徽省召开[{n}]。2025年度座谈会在浙江省召开[{n}]。"
    first, *deltas, last = engine.stream(WHERE_2027)

    assert isinstance(first, Citations) and isinstance(last, Done)
    assert all(isinstance(delta, Delta) for delta in deltas)
    assert "".join(delta.text for delta in deltas) == fake.reply  # streamed as written
    done = last.answer
    assert done.answer == "2027年度长三角地区主要领导座谈会在安徽省召开[1]。"  # the corrected final answer
    assert done.grounding == {"supported": 1, "recited": 0, "dropped": 1} and done.answerer == "llm+checked"


def test_a_stream_without_done_falls_back_with_a_notice(engine: Engine, fake: FakeOpenAI) -> None:
    fake.behaviour = "no_done"
    fake.reply = (
        f"2027年度长三角地区主要领导座谈会在安徽省召开[{passage_number(engine, WHERE_2027, '安徽省召开')}]。"
    )
    answer = engine.answer(WHERE_2027)

    assert answer.answerer == "extractive (fallback)" and "[DONE]" in answer.notice
    assert answer.notice.startswith("LLM unavailable") and answer.timings_ms["llm"] > 0


def test_the_openai_stream_ends_with_the_checked_answer(engine: Engine, fake: FakeOpenAI) -> None:
    from fastapi.testclient import TestClient

    from rag.edges.api.app import create_app

    n = passage_number(engine, WHERE_2027, "2027年度长三角地区主要领导座谈会在安徽省召开")
    fake.reply = f"2027年度长三角地区主要领导座谈会在安徽省召开[{n}]。2025年度座谈会在浙江省召开[{n}]。"
    body = {"model": "report", "messages": [{"role": "user", "content": WHERE_2027}], "stream": True}
    with TestClient(create_app(engine, engine.settings)) as client:
        while client.get("/readyz").status_code != 200:  # the engine is already loaded: moments
            time.sleep(0.05)
        response = client.post("/v1/chat/completions", json=body)
    assert response.status_code == 200, response.text
    lines = response.text.splitlines()
    chunks = [json.loads(line[5:]) for line in lines if line.startswith("data: {")]

    contents = [c["choices"][0]["delta"].get("content", "") for c in chunks]
    assert "".join(contents).startswith(fake.reply)  # the tokens as the model wrote them
    checked = next(c for c in chunks if "checked" in c)
    assert checked["checked"]["answer"] == "2027年度长三角地区主要领导座谈会在安徽省召开[1]。"
    assert checked["checked"]["grounding"] == {"supported": 1, "recited": 0, "dropped": 1}
    assert checked["choices"][0]["delta"]["content"] == "\n\n核对后的回答：\n" + checked["checked"]["answer"]


# --- the first sentence, judged while the reply streams ------------------------------------------

# Long enough that the fake server is still sending it when the client hangs up.
TAIL = "会议确定,2027年度长三角地区主要领导座谈会在安徽省召开[{n}]。" * 20


def test_an_invented_first_sentence_stops_the_generation(engine: Engine, fake: FakeOpenAI) -> None:
    n = passage_number(engine, WHERE_2027, "安徽省召开")
    first = f"2027年度座谈会在浙江省召开[{n}]。"
    fake.chunk_delay_s = 0.005
    answer = ask(engine, fake, WHERE_2027, first + TAIL.format(n=n))

    assert answer.answerer == "extractive (fallback)" and "安徽" in answer.answer
    assert "first sentence was not supported" in answer.notice and "lacks 浙江" in answer.notice
    assert answer.grounding == {"supported": 0, "recited": 0, "dropped": 1}
    assert answer.timings_ms["llm"] > 0 and answer.timings_ms["grounding"] > 0
    time.sleep(0.3)  # the server notices the closed connection at its next write
    (stream,) = fake.streams
    assert not stream.completed and stream.chunks_sent < stream.chunks_planned // 2


def test_the_stream_shows_the_first_sentence_then_the_fallback(engine: Engine, fake: FakeOpenAI) -> None:
    n = passage_number(engine, WHERE_2027, "安徽省召开")
    first = f"2027年度座谈会在浙江省召开[{n}]。"
    fake.reply = first + TAIL.format(n=n)
    citations, *deltas, done = engine.stream(WHERE_2027)

    assert isinstance(citations, Citations) and isinstance(done, Done)
    streamed = "".join(delta.text for delta in deltas)
    # Token by token up to the first sentence, and at most two 4-character chunks after it: the
    # chunk that completes it (the next sentence begins) and none further.
    assert streamed.startswith(first) and len(streamed) <= len(first) + 8
    assert done.answer.answerer == "extractive (fallback)" and "浙江" not in done.answer.answer
    assert "first sentence was not supported" in done.answer.notice


def test_a_supported_first_sentence_lets_the_reply_finish(engine: Engine, fake: FakeOpenAI) -> None:
    n = passage_number(engine, WHERE_2027, "安徽省召开")
    answer = ask(engine, fake, WHERE_2027, TAIL.format(n=n) + f"2025年度座谈会在浙江省召开[{n}]。")

    assert fake.streams[0].settled().completed
    assert answer.answerer == "llm+checked" and answer.grounding["dropped"] == 1
    assert "浙江" not in answer.answer and answer.grounding["supported"] >= 1


def test_a_first_sentence_citing_the_wrong_passage_is_recited_not_stopped(engine: Engine, fake: FakeOpenAI) -> None:
    wrong = passage_number(engine, NEXT_HOST, SIDE_EVENTS)
    answer = ask(
        engine, fake, NEXT_HOST, f"会议确定,2027年度长三角地区主要领导座谈会在安徽省召开[{wrong}]。会议在安徽召开[{wrong}]。"
    )

    assert fake.streams[0].settled().completed
    assert answer.answerer == "llm+checked" and answer.grounding["recited"] >= 1


def test_with_the_check_off_an_invented_first_sentence_is_not_stopped(
    fake: FakeOpenAI, bundled_engine: Engine, embedder: Embedder
) -> None:
    engine = engine_on(fake, bundled_engine, embedder, verify=False)
    n = passage_number(engine, WHERE_2027, "安徽省召开")
    answer = ask(engine, fake, WHERE_2027, f"2027年度座谈会在浙江省召开[{n}]。" + TAIL.format(n=n))

    assert fake.streams[0].settled().completed and answer.answerer == "llm" and "浙江" in answer.answer


def test_llm_passages_are_excerpts_numbered_for_the_retrieved_passages(engine: Engine) -> None:
    evidence = engine.evidence(WHERE_2027)
    numbers, excerpts = llm_passages(evidence, limit=3)
    hits = evidence.retrieval.hits

    assert 1 <= len(numbers) <= 3 and len(set(numbers)) == len(numbers)
    for number, excerpt in zip(numbers, excerpts, strict=True):
        assert excerpt in hits[number - 1].chunk.text and len(excerpt) <= EXCERPT_CHARS
    assert "安徽省召开" in excerpts[0]  # the best candidate's passage first
