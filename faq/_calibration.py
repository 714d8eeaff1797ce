"""From raw similarity to a confidence in [0, 1], and the threshold above which the bot answers.

Both are fitted on the tuning material (not the held-out half) by `python -m faq.evaluate --write`, stored
in `calibration.json`, so answering needs no fitting at start-up.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from importlib import resources

# A wrong confident answer costs more than an honest "I don't know".
WRONG_ANSWER_COST = 2.0
DECLINED_COST = 1.0
_RIDGE = 0.01
_NEWTON_STEPS = 50


@dataclass(frozen=True)
class Sample:
    """One evaluation question as the calibration sees it."""

    top: float
    margin: float
    correct: bool  # the top topic is the expected one (never true for an out-of-scope question)
    in_scope: bool
    grounded: bool = True  # False: the answerer declines whatever the confidence (see `Ranking.grounded`)


@dataclass(frozen=True)
class Calibration:
    slope_top: float
    slope_margin: float
    bias: float
    threshold: float

    def confidence(self, top: float, margin: float) -> float:
        z = self.slope_top * top + self.slope_margin * margin + self.bias
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_json(self) -> dict[str, float]:
        return {key: round(value, 6) for key, value in asdict(self).items()}


def bundled_calibration() -> Calibration:
    text = resources.files("faq").joinpath("calibration.json").read_text(encoding="utf-8")
    data = json.loads(text)
    return Calibration(
        slope_top=float(data["slope_top"]),
        slope_margin=float(data["slope_margin"]),
        bias=float(data["bias"]),
        threshold=float(data["threshold"]),
    )


def fit(samples: Sequence[Sample]) -> Calibration:
    """Logistic regression of "top topic is right" on (top, margin), then the cheapest threshold.

    Only grounded questions shape the regression: the confidence is never consulted for the others.
    """
    grounded = [s for s in samples if s.grounded]
    weights = _logistic(
        [(1.0, s.top, s.margin) for s in grounded], [1.0 if s.correct else 0.0 for s in grounded]
    )
    unthresholded = Calibration(slope_top=weights[1], slope_margin=weights[2], bias=weights[0], threshold=0.5)
    confidences = [unthresholded.confidence(s.top, s.margin) for s in samples]
    threshold = choose_threshold(confidences, samples)
    return Calibration(slope_top=weights[1], slope_margin=weights[2], bias=weights[0], threshold=threshold)


def choose_threshold(confidences: Sequence[float], samples: Sequence[Sample]) -> float:
    """The middle of the cheapest range of thresholds, so a small shift in scores changes little."""
    values = sorted(set(confidences))
    candidates = [0.0] + [(low + high) / 2 for low, high in itertools.pairwise(values)] + [1.0]

    def cost(threshold: float) -> float:
        total = 0.0
        for confidence, sample in zip(confidences, samples, strict=True):
            answered = sample.grounded and confidence >= threshold
            if answered and not sample.correct:
                total += WRONG_ANSWER_COST
            elif not answered and sample.in_scope:
                total += DECLINED_COST
        return total

    costs = [cost(candidate) for candidate in candidates]
    cheapest = [candidate for candidate, value in zip(candidates, costs, strict=True) if value == min(costs)]
    return cheapest[len(cheapest) // 2]


def _logistic(rows: Sequence[tuple[float, float, float]], labels: Sequence[float]) -> list[float]:
    """Newton's method with a small ridge so that separable data still gives finite weights."""
    weights = [0.0, 0.0, 0.0]
    for _ in range(_NEWTON_STEPS):
        gradient = [_RIDGE * w if i else 0.0 for i, w in enumerate(weights)]
        hessian = [[(_RIDGE if i == j and i else 0.0) for j in range(3)] for i in range(3)]
        for row, label in zip(rows, labels, strict=True):
            z = sum(w * x for w, x in zip(weights, row, strict=True))
            p = 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))
            for i in range(3):
                gradient[i] += (p - label) * row[i]
                for j in range(3):
                    hessian[i][j] += p * (1.0 - p) * row[i] * row[j]
        step = _solve(hessian, gradient)
        weights = [w - s for w, s in zip(weights, step, strict=True)]
        if max(abs(s) for s in step) < 1e-10:
            break
    return weights


def _solve(matrix: list[list[float]], vector: list[float]) -> list[float]:
    """Gaussian elimination with partial pivoting for the small Newton system."""
    size = len(vector)
    rows = [[*matrix[i], vector[i]] for i in range(size)]
    for column in range(size):
        pivot = max(range(column, size), key=lambda r: abs(rows[r][column]))
        rows[column], rows[pivot] = rows[pivot], rows[column]
        if abs(rows[column][column]) < 1e-12:
            return [0.0] * size
        for r in range(column + 1, size):
            factor = rows[r][column] / rows[column][column]
            rows[r] = [a - factor * b for a, b in zip(rows[r], rows[column], strict=True)]
    solution = [0.0] * size
    for r in reversed(range(size)):
        known = sum(rows[r][c] * solution[c] for c in range(r + 1, size))
        solution[r] = (rows[r][size] - known) / rows[r][r]
    return solution
