"""Fit the confidence calibration on the tuning material and report on the held-out set.

Four evaluation sets: the original one (`tests/faq/eval_set.json`, written with the knowledge base), and
three written from the contract and the tutorial alone: an independent one
(`tests/faq/eval_independent.json`), a fresh one (`tests/faq/eval_fresh.json`) and a fourth one
(`tests/faq/eval_fourth.json`). The first three have been seen and are tuning material; the fourth is held
out as a whole and is the headline.

python -m faq.evaluate            # print the figures
python -m faq.evaluate --write    # also store faq/calibration.json and the figures in docs/faq-eval.md
python -m faq.evaluate --check    # exit 1 when either is out of date
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from faq._calibration import WRONG_ANSWER_COST, Calibration, Sample, fit
from faq._index import MIN_KNOWN_SHARE, TopicIndex
from faq._knowledge import CONTRACT_TOPICS, bundled_off_topic, bundled_topics

_REPOSITORY = Path(__file__).resolve().parents[1]
ORIGINAL_SET = _REPOSITORY / "tests" / "faq" / "eval_set.json"
INDEPENDENT_SET = _REPOSITORY / "tests" / "faq" / "eval_independent.json"
FRESH_SET = _REPOSITORY / "tests" / "faq" / "eval_fresh.json"
FOURTH_SET = _REPOSITORY / "tests" / "faq" / "eval_fourth.json"
REPORT = _REPOSITORY / "docs" / "faq-eval.md"
CALIBRATION = Path(__file__).resolve().parent / "calibration.json"
# The figures live between these markers; the rest of the report (the protocol) is written by hand.
_START, _END = "<!-- faq-eval:start -->", "<!-- faq-eval:end -->"


@dataclass(frozen=True)
class Question:
    text: str
    expected: str | None  # None: out of scope, the bot should decline
    split: str  # "tune" or "report", within its own set
    source: str  # "original", "independent", "fresh" or "fourth"
    kind: str = ""  # out-of-scope questions of the later sets: "near-domain" or "far"

    @property
    def held_out(self) -> bool:
        return self.source == "fourth"


@dataclass(frozen=True)
class Scored:
    question: Question
    top_topic: str
    sample: Sample


@dataclass(frozen=True)
class Figures:
    in_scope: int
    top1_right: int
    answered: int
    answered_right: int
    contract_in_scope: int
    contract_answered_right: int
    out_of_scope: int
    out_of_scope_declined: int
    auroc: float
    misses: list[tuple[str, str, str]]  # expected topic (or "out of scope"), question, what the bot did


def load_original(path: Path = ORIGINAL_SET) -> list[Question]:
    data = json.loads(path.read_text(encoding="utf-8"))
    questions = [
        Question(text, topic, split, "original")
        for topic, halves in data["in_scope"].items()
        for split in ("tune", "report")
        for text in halves[split]
    ]
    questions += [
        Question(text, None, split, "original")
        for split in ("tune", "report")
        for text in data["out_of_scope"][split]
    ]
    return questions


def load_listed(path: Path, source: str) -> list[Question]:
    """A set in the later format (`eval_independent.json` and after): one object per question."""
    data = json.loads(path.read_text(encoding="utf-8"))
    questions = [Question(item["question"], item["topic"], item["half"], source) for item in data["in_scope"]]
    questions += [
        Question(item["question"], None, item["half"], source, item["kind"]) for item in data["out_of_scope"]
    ]
    return questions


def load_independent(path: Path = INDEPENDENT_SET) -> list[Question]:
    return load_listed(path, "independent")


def load_fresh(path: Path = FRESH_SET) -> list[Question]:
    return load_listed(path, "fresh")


def load_fourth(path: Path = FOURTH_SET) -> list[Question]:
    return load_listed(path, "fourth")


def load_questions(
    original: Path = ORIGINAL_SET,
    independent: Path = INDEPENDENT_SET,
    fresh: Path = FRESH_SET,
    fourth: Path = FOURTH_SET,
) -> list[Question]:
    """Every question of the four sets with its expected topic, split and source."""
    return load_original(original) + load_independent(independent) + load_fresh(fresh) + load_fourth(fourth)


def score(index: TopicIndex, questions: Sequence[Question]) -> list[Scored]:
    scored = []
    for question in questions:
        ranking = index.rank(question.text)
        top_topic = ranking.topics[0].topic_id
        right = question.expected is not None and top_topic == question.expected
        sample = Sample(ranking.top, ranking.margin, right, question.expected is not None, ranking.grounded)
        scored.append(Scored(question, top_topic, sample))
    return scored


def wilson(successes: int, total: int, z: float = 1.96) -> tuple[float, float]:
    """95% Wilson score interval of a proportion."""
    if total == 0:
        return (0.0, 1.0)
    p = successes / total
    centre = (p + z * z / (2 * total)) / (1 + z * z / total)
    spread = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / (1 + z * z / total)
    return (max(0.0, centre - spread), min(1.0, centre + spread))


def figures(scored: Sequence[Scored], calibration: Calibration) -> Figures:
    confidences = [calibration.confidence(s.sample.top, s.sample.margin) for s in scored]
    answered = [
        c >= calibration.threshold and s.sample.top > 0 and s.sample.grounded
        for s, c in zip(scored, confidences, strict=True)
    ]
    misses = []
    for s, did_answer in zip(scored, answered, strict=True):
        expected = s.question.expected
        if (expected is None) == (not did_answer) and (expected is None or s.sample.correct):
            continue
        did = f"answered `{s.top_topic}`" if did_answer else f"declined (closest `{s.top_topic}`)"
        misses.append((expected or "out of scope", s.question.text, did))
    return Figures(
        in_scope=sum(1 for s in scored if s.sample.in_scope),
        top1_right=sum(1 for s in scored if s.sample.correct),
        answered=sum(answered),
        answered_right=sum(1 for s, a in zip(scored, answered, strict=True) if a and s.sample.correct),
        contract_in_scope=sum(1 for s in scored if s.question.expected in CONTRACT_TOPICS),
        contract_answered_right=sum(
            1
            for s, a in zip(scored, answered, strict=True)
            if a and s.sample.correct and s.question.expected in CONTRACT_TOPICS
        ),
        out_of_scope=sum(1 for s in scored if not s.sample.in_scope),
        out_of_scope_declined=sum(
            1 for s, a in zip(scored, answered, strict=True) if not s.sample.in_scope and not a
        ),
        auroc=_auroc(
            [c for c, s in zip(confidences, scored, strict=True) if s.sample.correct],
            [c for c, s in zip(confidences, scored, strict=True) if not s.sample.correct],
        ),
        misses=sorted(misses),
    )


def _auroc(positives: Sequence[float], negatives: Sequence[float]) -> float:
    if not positives or not negatives:
        return float("nan")
    wins = sum(1.0 if p > n else 0.5 if p == n else 0.0 for p in positives for n in negatives)
    return wins / (len(positives) * len(negatives))


def _rate(label: str, successes: int, total: int) -> str:
    low, high = wilson(successes, total)
    share = successes / total if total else 0.0
    return f"| {label} | {successes}/{total} | {share:.1%} | {low:.1%} - {high:.1%} |"


@dataclass(frozen=True)
class Evaluation:
    calibration: Calibration
    held_out: Figures  # the fourth set, all of it
    held_out_near_domain: Figures  # its near-domain out-of-scope questions alone
    comparisons: list[tuple[str, Figures]]  # the tuning material, group by group
    topic_count: int


_TUNING_GROUPS: tuple[tuple[str, Callable[[Question], bool]], ...] = (
    (
        "Fresh set (held out in the previous round, scored once; now tuning material)",
        lambda q: q.source == "fresh",
    ),
    (
        "Independent set, report half (held out two rounds ago, scored once; now tuning material)",
        lambda q: q.source == "independent" and q.split == "report",
    ),
    (
        "Independent set, tune half (tuning material)",
        lambda q: q.source == "independent" and q.split == "tune",
    ),
    (
        "Original set, report half (scored three times before; tuning material)",
        lambda q: q.source == "original" and q.split == "report",
    ),
    ("Original set, tune half (tuning material)", lambda q: q.source == "original" and q.split == "tune"),
)


def evaluate(
    original: Path = ORIGINAL_SET,
    independent: Path = INDEPENDENT_SET,
    fresh: Path = FRESH_SET,
    fourth: Path = FOURTH_SET,
) -> Evaluation:
    topics = bundled_topics()
    questions = load_questions(original, independent, fresh, fourth)
    scored = score(TopicIndex(topics, bundled_off_topic()), questions)
    tuning = [s for s in scored if not s.question.held_out]
    held_out = [s for s in scored if s.question.held_out]
    # Round as stored, so the figures describe exactly what the answerer will load.
    calibration = Calibration(**fit([s.sample for s in tuning]).to_json())
    near_domain = [s for s in held_out if s.question.kind == "near-domain"]
    return Evaluation(
        calibration=calibration,
        held_out=figures(held_out, calibration),
        held_out_near_domain=figures(near_domain, calibration),
        comparisons=[
            (title, figures([s for s in tuning if belongs(s.question)], calibration))
            for title, belongs in _TUNING_GROUPS
        ],
        topic_count=len(topics),
    )


def _table(result: Figures) -> list[str]:
    return [
        "| measure | count | rate | 95% Wilson interval |",
        "| --- | --- | --- | --- |",
        _rate("top-1 accuracy, in-scope", result.top1_right, result.in_scope),
        _rate("in-scope answered right (recall)", result.answered_right, result.in_scope),
        _rate("... contract topics only", result.contract_answered_right, result.contract_in_scope),
        _rate("answered precision", result.answered_right, result.answered),
        _rate("out-of-scope declined", result.out_of_scope_declined, result.out_of_scope),
    ]


def render(evaluation: Evaluation) -> str:
    """The generated figures: the block between the markers in docs/faq-eval.md."""
    calibration, held_out = evaluation.calibration, evaluation.held_out
    near = evaluation.held_out_near_domain
    lines = [
        "Generated by `python -m faq.evaluate --write`; do not edit this block by hand.",
        "",
        f"Knowledge base: {evaluation.topic_count} topics (`faq/knowledge.json`).",
        "",
        "### Shipped calibration (fitted on all tuning material)",
        "",
        "confidence = 1 / (1 + exp(-(a * top + b * margin + c))), where `top` is the best topic's blended",
        "similarity and `margin` its lead over the runner-up or the off-topic subjects. A question is",
        "declined without consulting it when it is not grounded: the best topic knows fewer than",
        f"{MIN_KNOWN_SHARE:.0%} of its distinct words, or shares only generic words with it.",
        "",
        f"- a = {calibration.slope_top:.4f}, b = {calibration.slope_margin:.4f}, c = {calibration.bias:.4f}",
        f"- answer threshold on the confidence: **{calibration.threshold:.4f}** (the middle of the cheapest",
        f"  range on the tuning material, where a wrong answer costs {WRONG_ANSWER_COST:g} and declining an",
        "  in-scope question costs 1)",
        "",
        "### Headline: fourth set (held out, all of it)",
        "",
        *_table(held_out),
        _rate("... near-domain out-of-scope declined", near.out_of_scope_declined, near.out_of_scope),
        "",
        f"AUROC of the confidence (right top topic vs everything else): {held_out.auroc:.3f}",
        "",
        "Misses on the held-out set:",
        "",
    ]
    lines += [f'- `{expected}`: "{text}" -> {did}' for expected, text, did in held_out.misses] or ["- none"]
    lines += ["", "The sets below have all been seen and are tuning material: for comparison only.", ""]
    for title, result in evaluation.comparisons:
        lines += [f"### {title}", "", *_table(result), "", f"AUROC: {result.auroc:.3f}", ""]
    return "\n".join(lines).rstrip("\n")


def _with_figures(document: str, block: str) -> str:
    """The report with its generated block replaced (or appended when the markers are missing)."""
    generated = f"{_START}\n{block}\n{_END}"
    if _START in document and _END in document:
        before, rest = document.split(_START, 1)
        return before + generated + rest.split(_END, 1)[1]
    return document.rstrip("\n") + "\n\n" + generated + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m faq.evaluate", description=__doc__.splitlines()[0])
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="store the calibration and the figures")
    mode.add_argument("--check", action="store_true", help="fail when the stored files are out of date")
    args = parser.parse_args(argv)
    evaluation = evaluate()
    block = render(evaluation)
    calibration_text = json.dumps(evaluation.calibration.to_json(), indent=2) + "\n"
    current = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# FAQ answering: evaluation\n"
    report = _with_figures(current, block)
    if args.check:
        stale = [
            str(path)
            for path, expected, actual in (
                (CALIBRATION, calibration_text, CALIBRATION.read_text(encoding="utf-8")),
                (REPORT, report, current),
            )
            if actual != expected
        ]
        if stale:
            print(f"out of date: {', '.join(stale)}; run `python -m faq.evaluate --write`", file=sys.stderr)
            return 1
        return 0
    if args.write:
        CALIBRATION.write_text(calibration_text, encoding="utf-8")
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(report, encoding="utf-8")
    print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
