"""Each metric against small cases worked by hand."""

import math

import pytest

from eval.metrics import (
    best_char_f1,
    char_f1,
    contains_answer,
    exact_match,
    hit_at_k,
    median,
    mrr,
    ndcg_at_k,
    normalize,
    percentile,
    refusal_precision_recall,
)


def test_hit_at_k_counts_ranks_within_k():
    ranks = [1, 3, None, 2]
    assert hit_at_k(ranks, 1) == 0.25
    assert hit_at_k(ranks, 2) == 0.5
    assert hit_at_k(ranks, 3) == 0.75
    assert hit_at_k(ranks, 10) == 0.75


def test_hit_at_k_rejects_k_below_one():
    with pytest.raises(ValueError, match="k must be at least 1"):
        hit_at_k([1], 0)


def test_mrr_scores_missing_gold_as_zero():
    # (1/1 + 1/4 + 0) / 3 = 1.25 / 3
    assert mrr([1, 4, None]) == pytest.approx(1.25 / 3)


def test_ndcg_worked_example():
    # Ranked list [miss, hit, hit], 2 relevant items, k = 3:
    #   DCG  = 1/log2(3) + 1/log2(4) = 0.63093 + 0.5     = 1.13093
    #   IDCG = 1/log2(2) + 1/log2(3) = 1     + 0.63093 = 1.63093
    #   nDCG = 1.13093 / 1.63093 = 0.69342
    assert ndcg_at_k([[0, 1, 1]], 3) == pytest.approx(0.69342, abs=1e-5)


def test_ndcg_cuts_at_k_and_averages_lists():
    # List 1: hit at rank 1 -> 1.0. List 2: hit at rank 3, cut by k = 2 -> 0.0 (1 relevant item
    # given, so the ideal is still 1 and the list scores 0 rather than being skipped).
    assert ndcg_at_k([[1, 0, 0], [0, 0, 1]], 2, num_relevant=[1, 1]) == 0.5


def test_ndcg_uses_num_relevant_for_the_ideal():
    # One hit at rank 1 but 2 relevant items exist: IDCG = 1 + 1/log2(3) = 1.63093.
    assert ndcg_at_k([[1, 0]], 2, num_relevant=[2]) == pytest.approx(1 / 1.63093, abs=1e-5)


def test_ndcg_list_without_relevant_items_scores_zero():
    assert ndcg_at_k([[0, 0, 0]], 3) == 0.0


def test_normalize_drops_cjk_and_ascii_punctuation_and_spaces():
    assert normalize(" 《长三角》“一网通办”, A-B! ") == "长三角一网通办ab"
    assert normalize("２０２６年") == "2026年"  # full-width digits fold to ASCII


def test_char_f1_partial_overlap():
    # "上海市" vs "上海": overlap 2, precision 2/3, recall 1 -> F1 = 2 * (2/3) / (5/3) = 0.8
    assert char_f1("上海市", "上海") == pytest.approx(0.8)


def test_char_f1_ignores_punctuation_and_case():
    assert char_f1("“安徽省”。", "安徽省") == 1.0
    assert char_f1("Anhui", "anhui") == 1.0


def test_char_f1_disjoint_and_empty():
    assert char_f1("江苏", "浙江") == pytest.approx(0.5)  # shares "江": p = r = 1/2
    assert char_f1("上海", "安徽") == 0.0
    assert char_f1("", "安徽") == 0.0
    assert char_f1("。", "") == 1.0  # both normalize to nothing


def test_best_char_f1_takes_the_best_gold():
    assert best_char_f1("安徽", ["安徽省", "安徽"]) == 1.0
    assert best_char_f1("安徽", []) == 0.0


def test_exact_match_is_normalized():
    assert exact_match(" 第八届。", ["第八届"])
    assert not exact_match("第八届论坛", ["第八届"])
    assert not exact_match("第八届", [])


def test_contains_answer():
    assert contains_answer("2027年度座谈会在安徽省召开。", ["安徽"])
    assert not contains_answer("在上海举行", ["安徽", "Anhui"])
    # An answer of only punctuation must not match every text.
    assert not contains_answer("在上海举行", ["“”"])


def test_refusal_precision_recall():
    # Refused q1, q2; unanswerable q1, q3. Correct refusals: q1.
    # precision = 1/2 (q2 wrongly refused), recall = 1/2 (q3 answered).
    assert refusal_precision_recall([True, True, False, False], [True, False, True, False]) == (0.5, 0.5)
    assert refusal_precision_recall([True, False, False], [True, True, False]) == (1.0, 0.5)


def test_refusal_undefined_ratios_are_nan():
    precision, recall = refusal_precision_recall([False, False], [False, False])
    assert math.isnan(precision) and math.isnan(recall)


def test_refusal_length_mismatch():
    with pytest.raises(ValueError, match="one flag per question"):
        refusal_precision_recall([True], [True, False])


def test_percentile_interpolates_like_numpy():
    values = [4.0, 1.0, 3.0, 2.0]
    assert percentile(values, 0) == 1.0
    assert percentile(values, 100) == 4.0
    assert percentile(values, 50) == 2.5
    # position (4 - 1) * 0.9 = 2.7 -> 3 + 0.7 * (4 - 3)
    assert percentile(values, 90) == pytest.approx(3.7)
    assert median([5.0, 1.0, 3.0]) == 3.0


def test_empty_inputs_are_nan():
    assert math.isnan(hit_at_k([], 5))
    assert math.isnan(mrr([]))
    assert math.isnan(ndcg_at_k([], 5))
    assert math.isnan(percentile([], 50))
    assert math.isnan(median([]))
