"""The phrase model's fit (`eval.fit_phrases`) on real candidates of a few report sentences."""

import numpy as np

from eval.fit_phrases import Example, fit, summary
from eval.metrics import best_char_f1
from rag.answering.phrase_answer import choose, phrase_candidates

QUESTIONS = [
    ("需要进一步提升服务辐射能级的是哪个枢纽？", "进一步提升虹桥国际开放枢纽服务辐射能级,加快建设安徽联动发展区。", "虹桥国际开放枢纽"),
    ("行业数字化智能化要同什么深度融合？", "加快行业数字化智能化同绿色化深度融合,共建长三角新型能源体系。", "绿色化"),
    ("要共同创建什么先行区？", "会议指出,要共创美丽中国先行区。", "美丽中国先行区"),
    ("龚正说要携手实现什么？", "在体制机制高效协同上凝聚合力,携手实现长三角共同发展。", "长三角共同发展"),
]


def examples() -> list[Example | None]:
    found: list[Example | None] = []
    for question, sentence, gold in QUESTIONS:
        candidates = phrase_candidates(question, sentence)
        f1 = np.array([best_char_f1(sentence[c.start : c.end], [gold]) for c in candidates])
        found.append(Example(np.array([c.features for c in candidates]), f1, candidates))
    return [*found, None]  # a refused question counts, at F1 0


def test_the_fit_prefers_the_gold_phrase_and_gates_at_the_target_precision() -> None:
    train = examples()
    model = fit(train)
    picked = [e.f1[choose(e.candidates, model)[0]] for e in train if e is not None]
    assert np.mean(picked) >= 0.75  # unfitted, the first candidate scores far less
    assert np.mean([e.f1[0] for e in train if e is not None]) < 0.5
    assert 0.0 < model.threshold <= 1.0
    line = summary(model, train)
    assert line.startswith("   5 questions") and "F1 when offered" in line
