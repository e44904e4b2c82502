"""The HTML report rendered from a small hand-made result: values, charts, escaping, filters."""

import math
import re
import shutil
from datetime import datetime

import pytest

from eval.html_charts import hit_curve, latency_bins
from eval.html_report import render

NAN = float("nan")


def _metrics(questions, accuracy, hit5, recall=NAN):
    return {
        "questions": questions,
        "answerable": questions,
        "hit@1": 0.5,
        "hit@5": hit5,
        "mrr": 0.625,
        "ndcg@10": 0.7,
        "accuracy": accuracy,
        "short_em": 0.25,
        "short_f1": 0.4,
        "citation_precision": 0.8,
        "citation_hit": 0.9,
        "refusal_precision": NAN,
        "refusal_recall": recall,
        "median_answer_chars": 42.0,
        "latency_p50_ms": 31.25,
        "latency_p95_ms": 77.5,
        "stages_ms": {"embed_query": {"p50": 20.0, "p95": 30.0}, "total": {"p50": 31.25, "p95": 77.5}},
    }


def _item(item_id, language, rank, passed, question, total, answerable=True, kind="where"):
    return {
        "id": item_id,
        "language": language,
        "type": kind,
        "question": question,
        "expected": ["上海"] if answerable else [],
        "answerable": answerable,
        "passed": passed,
        "rank": rank,
        "answer": "上海 [1]" if passed else "报告未提及。",
        "short_answer": "上海" if passed else None,
        "found": passed,
        "contains": passed,
        "exact": passed,
        "f1": 1.0 if passed else 0.0,
        "citation_precision": 1.0 if passed else None,
        "citation_hit": passed,
        "citations": [
            {
                "n": 1,
                "source": "report.txt",
                "sentence": "座谈会在上海举行",
                "spans": [[16, 24]],
                "text": "座谈会在上海举行。",
            }
        ]
        if passed
        else [],
        "timings_ms": {"embed_query": total * 0.8, "answer": total * 0.2, "total": total},
    }


RESULT = {
    "dataset": "report",
    "settings": {"top_k": 5, "chunking": {"max_tokens": 160}},
    "metrics": {
        "hybrid": {
            "all": _metrics(4, 0.75, 0.875),
            "zh": _metrics(3, 0.6667, 1.0),
            "en": _metrics(1, 0.0, 0.5, recall=0.0),
        }
    },
    "failures": [],
    "items": [
        _item("zh-1", "zh", 1, True, "会议在哪里举行？", 30.0),
        _item("zh-2", "zh", 3, True, "主持人是谁？", 32.0, kind="who"),
        _item("zh-3", "zh", None, False, "GDP 是多少？", 34.0, answerable=False, kind="how_many"),
        _item("en-1", "en", None, False, "Is <script>alert('x')</script> & co in the report?", 400.0),
    ],
}


@pytest.fixture(scope="module")
def page() -> str:
    return render(RESULT, generated=datetime(2026, 1, 2, 3, 4))


def test_header_names_dataset_date_and_settings(page):
    assert "<title>Eval report: report</title>" in page
    assert "2026-01-02 03:04" in page
    assert "<b>top_k</b> 5" in page
    assert "<b>chunking.max_tokens</b> 160" in page
    assert "2 / 4" in page  # passed questions card


def test_metrics_table_has_a_row_per_mode_and_language_with_values(page):
    table = re.search(r'<table class="metrics">.*?</table>', page, re.S).group(0)
    rows = re.findall(r"<tr class=\"lang-(\w+)\">(.*?)</tr>", table, re.S)
    assert [language for language, _ in rows] == ["all", "zh", "en"]
    cells = {
        language: re.findall(r"<span>([^<]*)</span></td>|<td class=\"num\">([^<]*)</td>", row)
        for language, row in rows
    }
    flat = {language: [a or b for a, b in found] for language, found in cells.items()}
    # n, hit@1, hit@5, MRR, nDCG@10, accuracy, short EM/F1, citation P/hit, refusal P/R,
    # false answers/refusals (not in this result), chars, p50, p95
    assert flat["all"] == [
        "4",
        "0.500",
        "0.875",
        "0.625",
        "0.700",
        "0.750",
        "0.250",
        "0.400",
        "0.800",
        "0.900",
        "–",
        "–",
        "–",
        "–",
        "42",
        "31.2",
        "77.5",
    ]
    assert flat["zh"][5] == "0.667"
    assert flat["en"][11] == "0.000"  # refusal recall measured as zero is not "not measured"
    for heading in (
        "hit@1",
        "MRR",
        "nDCG@10",
        "short EM",
        "citation precision",
        "refusal recall",
        "latency p95 ms",
    ):
        assert f"<th>{heading}</th>" in table


def test_hit_curve_per_language_from_answerable_ranks():
    curves = hit_curve(RESULT["items"])
    # zh-3 is unanswerable: left out; answerable ranks are all [1, 3, None], zh [1, 3], en [None].
    assert list(curves) == ["all", "zh", "en"]
    assert curves["all"][:3] == [1 / 3, 1 / 3, 2 / 3]
    assert curves["all"][9] == 2 / 3
    assert curves["zh"][0] == 0.5 and curves["zh"][2] == 1.0
    assert curves["en"] == [0.0] * 10


def test_page_draws_svg_charts_and_stage_table(page):
    assert page.count("<svg ") == 2
    assert "<polyline" in page
    assert "zh hit@3 = 1.000" in page  # a point's tooltip
    assert '<rect class="bar"' in page
    assert re.search(r"<th class=\"row-head\">embed_query</th>", page)
    assert '<tr class="total">' in page


def test_latency_bins_count_every_value_once():
    totals = [float(ms) for ms in range(10, 30)] + [500.0]  # p95 = 29 ms
    bins, overflow = latency_bins(totals, bins=10)
    assert overflow == 1  # 500 ms is beyond 1.5 x p95: an overflow bar, not the scale
    assert sum(n for _, _, n in bins) == 20
    assert bins[0][0] <= 10.0 and 29.0 < bins[-1][1] <= 50.0
    widths = {round(high - low, 9) for low, high, _ in bins}
    assert len(widths) == 1
    assert latency_bins([], bins=10) == ([], 0)
    single, none_over = latency_bins([7.0])
    assert none_over == 0 and sum(n for _, _, n in single) == 1


def test_question_text_is_escaped(page):
    assert "<script>alert(" not in page
    assert "Is &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; &amp; co in the report?" in page
    # The only <script> is the page's own filter code.
    assert page.count("<script>") == 1


def test_every_question_with_answer_citation_and_verdict(page):
    cards = re.findall(
        r'<article class="q (pass|fail)" data-lang="(\w+)" data-result="(\w+)" data-type="(\w*)"', page
    )
    assert cards == [
        ("pass", "zh", "pass", "where"),
        ("pass", "zh", "pass", "who"),
        ("fail", "zh", "fail", "how_many"),
        ("fail", "en", "fail", "where"),
    ]
    assert '<span class="expected">上海</span>' in page
    assert "座谈会在上海举行" in page and "report.txt 16–24" in page
    assert "unanswerable" in page and "gold not in top 10" in page


def test_filter_controls(page):
    assert '<select id="f-lang"' in page and '<option value="en">en</option>' in page
    assert '<select id="f-result"' in page and '<option value="fail">failed</option>' in page
    assert '<select id="f-type"' in page and '<option value="how_many">how_many</option>' in page
    assert '<input type="search" id="f-text"' in page
    assert "4 of 4" in page


def test_self_contained(page):
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:)?//", page)
    assert "@import" not in page and "url(" not in page


def test_empty_result_renders():
    page = render({"dataset": "empty", "metrics": {}, "items": []}, generated=datetime(2026, 1, 1))
    assert "No metrics." in page and "No questions." in page and "No timings." in page


def test_nan_from_json_shows_as_not_measured():
    assert math.isnan(RESULT["metrics"]["hybrid"]["all"]["refusal_precision"])
    page = render(
        {"dataset": "d", "metrics": {"dense": {"all": {"questions": 0, "accuracy": None}}}, "items": []}
    )
    assert '<td class="num">–</td>' in page


@pytest.mark.skipif(shutil.which("chromium") is None, reason="needs Debian's chromium (make browser)")
def test_filters_work_in_a_browser(page, tmp_path):
    sync_api = pytest.importorskip("playwright.sync_api")
    path = tmp_path / "report.html"
    path.write_text(page, encoding="utf-8")
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=shutil.which("chromium"), args=["--no-sandbox"])
        try:
            tab = browser.new_page()
            tab.goto(path.as_uri())

            def visible() -> list[str]:
                return tab.eval_on_selector_all(
                    "#questions .q:not([hidden]) .qid", "nodes => nodes.map(n => n.textContent)"
                )

            assert visible() == ["zh-1", "zh-2", "zh-3", "en-1"]
            tab.select_option("#f-result", "fail")
            assert visible() == ["zh-3", "en-1"]
            tab.select_option("#f-lang", "zh")
            assert visible() == ["zh-3"]
            assert tab.text_content("#f-count") == "1 of 4"
            tab.select_option("#f-result", "")
            tab.select_option("#f-lang", "")
            tab.select_option("#f-type", "who")
            assert visible() == ["zh-2"]
            tab.select_option("#f-type", "")
            tab.fill("#f-text", "SCRIPT")
            assert visible() == ["en-1"]
        finally:
            browser.close()


def test_ablation_rows_per_mode_and_items_from_the_last_mode():
    result = {
        **RESULT,
        "metrics": {"dense": RESULT["metrics"]["hybrid"], "hybrid": RESULT["metrics"]["hybrid"]},
    }
    page = render(result, generated=datetime(2026, 1, 1))
    modes = re.findall(r'<tr class="lang-\w+"><th class="row-head">(\w+)</th>', page)
    assert modes == ["dense"] * 3 + ["hybrid"] * 3
    assert "modes: dense, hybrid" in page
    assert "Questions (hybrid run)" in page
