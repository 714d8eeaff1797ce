"""Fit the confidence calibration on the tuning material and report on the held-out set.

Five evaluation sets. Four were written by models or people imitating users: the original one
(`tests/faq/eval_set.json`, written with the knowledge base), an independent one
(`tests/faq/eval_independent.json`), a fresh one (`tests/faq/eval_fresh.json`) and a fourth one
(`tests/faq/eval_fourth.json`); all four have been seen and are tuning material. The fifth is real: questions
people asked in public trackers and forums, verbatim with their sources (`faq/eval/real-questions.jsonl`),
split per label into a tune part (tuning material) and a report part, which is held out and is the headline.

python -m faq.evaluate               # print the figures
python -m faq.evaluate --tuning-only # only the tuning material (never looks at the held-out part)
python -m faq.evaluate --calibrate   # store faq/calibration.json, fitted and scored on the tuning material
python -m faq.evaluate --write       # also store faq/calibration.json and the figures in docs/faq-eval.md
python -m faq.evaluate --check       # exit 1 when either is out of date
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from faq._calibration import SURE_PRECISION, WRONG_ANSWER_COST, Calibration, Sample, fit
from faq._index import MIN_KNOWN_SHARE, SENTENCE_WEIGHT
from faq._knowledge import CONTRACT_TOPICS, bundled_off_topic, bundled_topics
from faq.answerer import FaqAnswerer

_REPOSITORY = Path(__file__).resolve().parents[1]
ORIGINAL_SET = _REPOSITORY / "tests" / "faq" / "eval_set.json"
INDEPENDENT_SET = _REPOSITORY / "tests" / "faq" / "eval_independent.json"
FRESH_SET = _REPOSITORY / "tests" / "faq" / "eval_fresh.json"
FOURTH_SET = _REPOSITORY / "tests" / "faq" / "eval_fourth.json"
REAL_SET = Path(__file__).resolve().parent / "eval" / "real-questions.jsonl"
REPORT = _REPOSITORY / "docs" / "faq-eval.md"
CALIBRATION = Path(__file__).resolve().parent / "calibration.json"
# Real questions are what the bot will meet; there are few of them, so each counts this many times in the fit.
REAL_WEIGHT = 4.0
# The figures live between these markers; the rest of the report (the protocol) is written by hand.
_START, _END = "<!-- faq-eval:start -->", "<!-- faq-eval:end -->"


@dataclass(frozen=True)
class Question:
    text: str
    expected: str | None  # None: out of scope, the bot should decline
    split: str  # "tune" or "report", within its own set
    source: str  # "original", "independent", "fresh", "fourth" or "real"
    kind: str = ""  # out-of-scope questions of the later sets: "near-domain" or "far"
    round: int = 0  # real questions: the round they were gathered in
    spent: bool = False  # real questions held out in an earlier round and scored then: tuning material now

    @property
    def held_out(self) -> bool:
        return self.source == "real" and self.split == "report"


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
    framed: int  # answers framed as likely ("This sounds like ..."), right or wrong
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


def load_real(path: Path = REAL_SET) -> list[Question]:
    """Real questions, one JSON object per line: {"q", "topic" (null: out of scope), "source", "split",
    "round"}.

    `"spent": true` marks questions that were held out (and scored) in an earlier round: tuning material now.
    """
    questions = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            item = json.loads(line)
            questions.append(
                Question(
                    item["q"],
                    item["topic"],
                    item["split"],
                    "real",
                    "real",
                    item.get("round", 0),
                    bool(item.get("spent", False)),
                )
            )
    return questions


def load_questions(
    original: Path = ORIGINAL_SET,
    independent: Path = INDEPENDENT_SET,
    fresh: Path = FRESH_SET,
    fourth: Path = FOURTH_SET,
    real: Path = REAL_SET,
) -> list[Question]:
    """Every question of the five sets with its expected topic, split and source."""
    return (
        load_original(original)
        + load_independent(independent)
        + load_fresh(fresh)
        + load_fourth(fourth)
        + load_real(real)
    )


def score(answerer: FaqAnswerer, questions: Sequence[Question]) -> list[Scored]:
    """Each question ranked the way the answerer ranks it (asking sentences weighed above the story)."""
    scored = []
    for question in questions:
        ranking = answerer.rank(question.text)
        top_topic = ranking.topics[0].topic_id
        right = question.expected is not None and top_topic == question.expected
        sample = Sample(
            ranking.top,
            ranking.margin,
            right,
            question.expected is not None,
            ranking.grounded,
            ranking.length,
            1.0 if ranking.about_the_move else 0.0,
            REAL_WEIGHT if question.source == "real" else 1.0,
        )
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
    judges = [calibration.for_length(s.sample.length) for s in scored]
    confidences = [
        judge.confidence(s.sample.top, s.sample.margin, s.sample.length, s.sample.move)
        for s, judge in zip(scored, judges, strict=True)
    ]
    answered = [
        c >= judge.framed_threshold and s.sample.top > 0 and s.sample.grounded
        for s, c, judge in zip(scored, confidences, judges, strict=True)
    ]
    framed = [a and c < judge.threshold for a, c, judge in zip(answered, confidences, judges, strict=True)]
    misses = []
    for s, did_answer in zip(scored, answered, strict=True):
        expected = s.question.expected
        if (expected is None) == (not did_answer) and (expected is None or s.sample.correct):
            continue
        did = f"answered `{s.top_topic}`" if did_answer else f"declined (closest `{s.top_topic}`)"
        misses.append((expected or "out of scope", _excerpt(s.question.text), did))
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
        framed=sum(framed),
        auroc=_auroc(
            [c for c, s in zip(confidences, scored, strict=True) if s.sample.correct],
            [c for c, s in zip(confidences, scored, strict=True) if not s.sample.correct],
        ),
        misses=sorted(misses),
    )


def _excerpt(text: str, limit: int = 160) -> str:
    """A question on one line, shortened: real questions run to several paragraphs."""
    flat = " ".join(text.split()).replace('"', "'")
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


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
    held_out: Figures | None  # the real questions' report part; None when only the tuning was scored
    comparisons: list[tuple[str, Figures]]  # the tuning material, group by group
    topic_count: int


_TUNING_GROUPS: tuple[tuple[str, Callable[[Question], bool]], ...] = (
    (
        "Real questions, round 5's tune part (tuning material)",
        lambda q: q.source == "real" and q.split == "tune" and q.round == 5 and not q.spent,
    ),
    (
        "Real questions, round 5's held-out part (scored once in round 5; tuning material since)",
        lambda q: q.source == "real" and q.spent,
    ),
    (
        "Fourth set (model-written; held out last round, scored once; now tuning material)",
        lambda q: q.source == "fourth",
    ),
    ("Fresh set (model-written; tuning material)", lambda q: q.source == "fresh"),
    ("Independent set (model-written, both halves; tuning material)", lambda q: q.source == "independent"),
    (
        "Original set (written with the knowledge base, both halves; tuning material)",
        lambda q: q.source == "original",
    ),
)


def evaluate(
    original: Path = ORIGINAL_SET,
    independent: Path = INDEPENDENT_SET,
    fresh: Path = FRESH_SET,
    fourth: Path = FOURTH_SET,
    real: Path = REAL_SET,
    *,
    include_held_out: bool = True,
) -> Evaluation:
    """Calibrate on the tuning material and score it; the held-out part only if `include_held_out`."""
    topics = bundled_topics()
    questions = load_questions(original, independent, fresh, fourth, real)
    tuning_questions = [q for q in questions if not q.held_out]
    answerer = FaqAnswerer(topics, off_topic=bundled_off_topic())
    tuning = score(answerer, tuning_questions)
    # Round as stored, so the figures describe exactly what the answerer will load.
    calibration = Calibration.from_json(fit([s.sample for s in tuning]).to_json())
    held_out = None
    if include_held_out:
        held_out = figures(score(answerer, [q for q in questions if q.held_out]), calibration)
    return Evaluation(
        calibration=calibration,
        held_out=held_out,
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
        _rate("in-scope answered with the right topic", result.answered_right, result.in_scope),
        _rate("... contract topics only", result.contract_answered_right, result.contract_in_scope),
        _rate("answered precision", result.answered_right, result.answered),
        _rate("out-of-scope declined", result.out_of_scope_declined, result.out_of_scope),
        f'| answers framed as likely ("This sounds like ...") | {result.framed} | | |',
    ]


def render(evaluation: Evaluation) -> str:
    """The generated figures: the block between the markers in docs/faq-eval.md."""
    calibration, held_out = evaluation.calibration, evaluation.held_out
    lines = [
        "Generated by `python -m faq.evaluate --write`; do not edit this block by hand.",
        "",
        f"Knowledge base: {evaluation.topic_count} topics (`faq/knowledge.json`).",
        "",
        "### Shipped calibration (fitted on all tuning material)",
        "",
        "confidence = 1 / (1 + exp(-(a * top + b * margin + d * length + e * move + c))), where `top`",
        "is the best topic's blended similarity, `margin` its lead over the runner-up or the off-topic",
        "subjects, `length` log(1 + content words) and `move` 1 when the message mentions the move",
        "(connecting,",
        "switching, a directory). In a message of several sentences a topic's best sentence weighs",
        f"{SENTENCE_WEIGHT:.0%} of the similarity (sentences that ask weigh more than those that tell the",
        "story). A question is declined without",
        "consulting the confidence when it is not grounded: the best topic knows fewer than",
        f"{MIN_KNOWN_SHARE:.0%} of the distinct words it asks with, or shares only generic words with it.",
        "",
    ]
    parts = [("short messages", calibration)]
    if calibration.long is not None:
        parts = [
            (f"messages under {math.expm1(calibration.long_from):.0f} content words", calibration),
            (f"messages of {math.expm1(calibration.long_from):.0f} content words or more", calibration.long),
        ]
    for label, part in parts:
        lines += [
            f"Fitted on {label}:",
            "",
            f"- a = {part.slope_top:.4f}, b = {part.slope_margin:.4f},"
            f" d = {part.slope_length:.4f}, e = {part.slope_move:.4f}, c = {part.bias:.4f}",
            f"- answer threshold on the confidence: **{part.framed_threshold:.4f}** (the middle of the",
            f"  cheapest range on the tuning material, where a wrong answer costs {WRONG_ANSWER_COST:g} and",
            "  declining an in-scope question costs 1)",
            f"- sure threshold: **{part.threshold:.4f}** (from there the tuning material's answers were",
            f"  right {SURE_PRECISION:.0%} of the time); between the two the reply says",
            '  "This sounds like ..." and offers one-click alternatives',
            "",
        ]
    if held_out is not None:
        lines += [
            "### Headline: real questions, report part (held out, scored once)",
            "",
            *_table(held_out),
            "",
            f"AUROC of the confidence (right top topic vs everything else): {held_out.auroc:.3f}",
            "",
            "Misses on the held-out part:",
            "",
        ]
        lines += [f'- `{expected}`: "{text}" -> {did}' for expected, text, did in held_out.misses] or [
            "- none"
        ]
        lines += [""]
    lines += ["The sets below are tuning material: for comparison only.", ""]
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
    mode.add_argument(
        "--tuning-only", action="store_true", help="score only the tuning material (for tuning rounds)"
    )
    mode.add_argument(
        "--calibrate",
        action="store_true",
        help="store faq/calibration.json fitted on the tuning material only",
    )
    args = parser.parse_args(argv)
    evaluation = evaluate(include_held_out=not (args.tuning_only or args.calibrate))
    if args.tuning_only or args.calibrate:
        if args.calibrate:
            CALIBRATION.write_text(
                json.dumps(evaluation.calibration.to_json(), indent=2) + "\n", encoding="utf-8"
            )
        print(render(evaluation))
        return 0
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
