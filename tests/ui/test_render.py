"""The page's HTML, without a browser: markers become links, the cited sentence is marked at
its exact offsets, and text from questions and passages is escaped."""

from ingest.records import Chunk
from rag.records import Answer, Citation, Hit
from ui import render

SOURCE = "标题\n\n会议确定,2027年度座谈会在安徽省召开。下一句。"
PASSAGE_SPANS = ((4, 29),)  # "会议确定,...下一句。"
SENTENCE = "会议确定,2027年度座谈会在安徽省召开。"
SENTENCE_SPANS = ((4, 25),)


def citation(n: int = 1, text: str | None = None, sentence: str = SENTENCE, spans=SENTENCE_SPANS) -> Citation:
    passage = SOURCE[4:29] if text is None else text
    return Citation(
        n=n,
        doc_id="report-1a2b3c4d",
        source="report.txt",
        chunk_id="c1",
        text=passage,
        sentence=sentence,
        spans=spans,
        passage_spans=PASSAGE_SPANS if text is None else ((0, len(passage)),),
        score=0.9,
    )


def answer(**overrides) -> Answer:
    values = {
        "question": "2027年度座谈会在哪里召开？",
        "answer": f"安徽省 [1]\n\n{SENTENCE} [1]",
        "short_answer": "安徽省",
        "found": True,
        "citations": (citation(),),
        "language": "zh",
        "answerer": "extractive",
    }
    return Answer(**{**values, **overrides})


def test_sentence_offsets_map_into_the_passage() -> None:
    assert SOURCE[4:25] == SENTENCE
    assert render.passage_ranges(PASSAGE_SPANS, SENTENCE_SPANS) == [(0, 21)]
    # A passage of two source pieces (a caption cut out between them), sentence across the cut.
    assert render.passage_ranges(((0, 10), (20, 30)), ((5, 10), (20, 24))) == [(5, 14)]
    assert render.passage_ranges(((0, 10),), ((40, 50),)) == []


def test_markers_link_to_their_citation_cards() -> None:
    html = render.answer_html(answer(), turn=2)
    assert html.count('href="#rr-src-2-1"') == 3  # two markers and the sources line
    assert '<p class="rr-short"><strong>安徽省 <a class="rr-cite" href="#rr-src-2-1"' in html
    sources = render.sources_html([("q0", None), ("q1", None), ("2027年度座谈会在哪里召开？", answer())])
    assert 'id="rr-src-2-1"' in sources


def test_a_marker_without_its_citation_stays_text() -> None:
    assert render.link_markers("A [1] B [7]", turn=0, numbers=[1]) == (
        'A <a class="rr-cite" href="#rr-src-0-1" title="来源 / source 1">[1]</a> B [7]'
    )


def test_the_cited_sentence_is_highlighted_with_document_and_position() -> None:
    card = render.citation_card(citation(), turn=0, titles={"report-1a2b3c4d": "长三角报告"})
    assert f'<mark class="rr-mark">{SENTENCE}</mark>下一句。' in card
    assert "长三角报告 (report.txt)" in card
    assert "字符 / chars 4–25" in card


def test_html_in_passages_and_questions_is_escaped() -> None:
    passage = "<script>alert(1)</script><img src=x onerror=alert(2)> ${1+1} {{x}} 安徽省。"
    cited = citation(text=passage, sentence="安徽省。", spans=((len(passage) - 4, len(passage)),))
    card = render.citation_card(cited, turn=0)
    assert "<script>" not in card and "<img" not in card
    assert "&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt; ${1+1} {{x}} " in card
    assert '<mark class="rr-mark">安徽省。</mark>' in card
    question = render.question_html('<b onmouseover="x">hi</b>\nsecond')
    assert question == '<p class="rr-question">&lt;b onmouseover=&quot;x&quot;&gt;hi&lt;/b&gt;<br>second</p>'
    evil = answer(answer="<iframe src=//x> [1]", short_answer=None, notice="<b>n</b>")
    html = render.answer_html(evil, turn=0)
    assert "<iframe" not in html and "&lt;iframe src=//x&gt;" in html and "&lt;b&gt;n&lt;/b&gt;" in html


def test_not_found_says_so_and_lists_related_passages_without_highlight() -> None:
    chunk = Chunk(id="c9", doc_id="d", text="会议期间,领导考察了社区。", spans=((100, 113),), sentences=())
    refusal = answer(
        answer="报告中没有找到相关内容。",
        short_answer=None,
        found=False,
        citations=(),
        related=(Hit(chunk=chunk, source="report.txt", score=0.1, rank=1),),
    )
    message = render.answer_html(refusal, turn=0)
    assert "报告中没有找到相关内容。" in message and "rr-not-found" in message and "rr-cite" not in message
    panel = render.sources_html([("杭州亚运会是哪一年举办的？", refusal)])
    assert "Not in the report" in panel
    assert 'id="rr-rel-0-1"' in panel and "字符 / chars 100–113" in panel and "<mark" not in panel


def test_only_the_newest_turn_is_expanded() -> None:
    panel = render.sources_html([("first", answer()), ("second", answer())])
    assert panel.index("Q2") < panel.index("Q1")  # newest first
    assert panel.count("<details") == 2 and panel.count(" open>") == 1
    assert render.sources_html([]) == render.SOURCES_EMPTY


def test_streaming_text_links_known_markers_and_blank_lines_are_compacted() -> None:
    assert '<a class="rr-cite" href="#rr-src-0-1"' in render.streaming_html("安徽省 [1]\n\n会议", 0, [1])
    half = render.streaming_html("安徽省 [1", 0, [1])  # half a marker is shown as typed
    assert "安徽省 [1" in half and "rr-cite" not in half
    cited = citation(text="甲。\n\n\n乙。", sentence="乙。", spans=((5, 7),))
    assert '<p class="rr-passage">甲。\n<mark class="rr-mark">乙。</mark></p>' in render.citation_card(
        cited, 0
    )


def test_documents_and_header() -> None:
    docs = render.documents_html([{"doc_id": "d", "source": "a<b>.txt", "title": "", "chunks": 3}])
    assert "a&lt;b&gt;.txt" in docs and "3 段 / passages" in docs
    assert "Eval report" not in render.header_html(render.status_html(True, ""), None)
    header = render.header_html(render.status_html(False, "loading <model>"), "/eval-report")
    assert 'href="/eval-report"' in header and "loading &lt;model&gt;" in header


def test_a_partial_refusal_is_marked_and_cites_what_the_report_says() -> None:
    partial = answer(
        question="2027年度座谈会在安徽省的哪座城市召开？",
        answer=f"报告提到了安徽省[1]，但没有说明城市。\n\n{SENTENCE} [1]",
        short_answer=None,
        found=False,
        partial=True,
        missing=("城市",),
    )
    message = render.answer_html(partial, turn=0)
    assert "rr-partial" in message and render.PARTIAL_BADGE in message
    assert 'href="#rr-src-0-1"' in message  # the citation is a link, as in an answer
    panel = render.sources_html([(partial.question, partial)])
    assert render.PARTIAL_BANNER in panel and "<mark" in panel  # the cited sentence, marked
    assert "Not in the report." not in panel
