"""Guards the measured quality and the evaluation protocol; the figures are in docs/faq-eval.md."""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from pathlib import Path

from faq import CONTRACT_TOPICS
from faq._calibration import Calibration, Sample, choose_threshold, fit
from faq.evaluate import (
    FOURTH_SET,
    FRESH_SET,
    REPORT,
    evaluate,
    load_fourth,
    load_fresh,
    load_independent,
    main,
    wilson,
)

# Measured once on the fourth held-out set (docs/faq-eval.md). The contract's targets are 0.90 for
# in-scope answered right and for out-of-scope declined; both were reached (75/76 and 38/42), so those
# floors sit at or just under the measured values and never below the targets.
FLOOR_TOP1 = 1.0  # 76/76
FLOOR_ANSWERED_RIGHT = 0.98  # 75/76
FLOOR_PRECISION = 0.94  # 75/79
FLOOR_OUT_OF_SCOPE_DECLINED = 0.90  # 38/42
FLOOR_NEAR_DOMAIN_DECLINED = 0.86  # 19/22


def test_held_out_set_stays_above_the_floor() -> None:
    evaluation = evaluate()
    held_out, near_domain = evaluation.held_out, evaluation.held_out_near_domain
    assert held_out.top1_right / held_out.in_scope >= FLOOR_TOP1
    assert held_out.answered_right / held_out.in_scope >= FLOOR_ANSWERED_RIGHT
    assert held_out.answered_right / held_out.answered >= FLOOR_PRECISION
    assert held_out.out_of_scope_declined / held_out.out_of_scope >= FLOOR_OUT_OF_SCOPE_DECLINED
    assert near_domain.out_of_scope_declined / near_domain.out_of_scope >= FLOOR_NEAR_DOMAIN_DECLINED


def test_fourth_set_is_all_held_out_and_covers_every_topic() -> None:
    questions = load_fourth()
    assert all(q.held_out for q in questions)
    per_topic = Counter(q.expected for q in questions if q.expected is not None)
    assert all(per_topic[topic] >= 4 for topic in CONTRACT_TOPICS), per_topic
    out_of_scope = Counter(q.kind for q in questions if q.expected is None)
    assert sum(out_of_scope.values()) >= 40
    assert out_of_scope["near-domain"] >= 20


def test_fresh_set_is_tuning_material_and_covers_every_topic() -> None:
    questions = load_fresh()
    assert not any(q.held_out for q in questions)
    per_topic = Counter(q.expected for q in questions if q.expected is not None)
    assert all(per_topic[topic] >= 5 for topic in CONTRACT_TOPICS), per_topic
    out_of_scope = Counter(q.kind for q in questions if q.expected is None)
    assert sum(out_of_scope.values()) >= 30
    assert out_of_scope["near-domain"] * 2 >= sum(out_of_scope.values())


def test_blind_sets_are_the_ones_whose_hashes_the_report_recorded_before_scoring() -> None:
    report = REPORT.read_text(encoding="utf-8")
    for blind_set in (FRESH_SET, FOURTH_SET):
        assert hashlib.sha256(blind_set.read_bytes()).hexdigest() in report, blind_set.name


def test_independent_set_is_split_evenly_per_topic_and_per_kind() -> None:
    questions = load_independent()
    in_scope = Counter((q.expected, q.split) for q in questions if q.expected is not None)
    for topic in CONTRACT_TOPICS:
        assert in_scope[(topic, "tune")] == in_scope[(topic, "report")] >= 3, topic
    out_of_scope = Counter((q.kind, q.split) for q in questions if q.expected is None)
    assert sum(out_of_scope.values()) >= 40
    assert out_of_scope[("near-domain", "tune")] + out_of_scope[("near-domain", "report")] >= 20
    for kind in ("near-domain", "far"):
        assert abs(out_of_scope[(kind, "tune")] - out_of_scope[(kind, "report")]) <= 1


def test_the_held_out_set_does_not_shape_the_calibration(tmp_path: Path) -> None:
    data = json.loads(FOURTH_SET.read_text(encoding="utf-8"))
    for item in data["in_scope"] + data["out_of_scope"]:
        item["question"] = "completely different words about teapots and kettles"
    altered = tmp_path / "fourth.json"
    altered.write_text(json.dumps(data), encoding="utf-8")
    original, changed = evaluate(), evaluate(fourth=altered)
    assert changed.calibration == original.calibration
    assert changed.held_out.top1_right != original.held_out.top1_right


def test_stored_calibration_and_report_match_the_current_knowledge_base() -> None:
    assert main(["--check"]) == 0


def test_wilson_interval_matches_the_textbook_value() -> None:
    low, high = wilson(17, 20)
    assert round(low, 2) == 0.64 and round(high, 2) == 0.95
    assert wilson(0, 0) == (0.0, 1.0)


def test_fit_separates_right_from_wrong_answers() -> None:
    right = [Sample(top=0.5 + i / 100, margin=0.2, correct=True, in_scope=True) for i in range(10)]
    wrong = [Sample(top=0.1 + i / 100, margin=0.01, correct=False, in_scope=False) for i in range(10)]
    calibration = fit(right + wrong)
    assert calibration.slope_top > 0
    assert all(calibration.confidence(s.top, s.margin) >= calibration.threshold for s in right)
    assert all(calibration.confidence(s.top, s.margin) < calibration.threshold for s in wrong)


def test_threshold_prefers_declining_over_a_wrong_answer() -> None:
    samples = [Sample(0.0, 0.0, correct=False, in_scope=True), Sample(0.0, 0.0, correct=True, in_scope=True)]
    # Both questions score alike: answering both gives one wrong answer (cost 2), declining both costs 2;
    # a lone wrong answer at a higher confidence must fall below the threshold.
    confidences = [0.9, 0.4]
    assert choose_threshold(confidences, samples) > 0.9
    assert Calibration(1.0, 1.0, 0.0, 0.5).confidence(0.0, 0.0) == 0.5
