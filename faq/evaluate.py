"""Fit the confidence calibration on the tuning material and report on the held-out set.

Five evaluation sets. Four were written by models or people imitating users: the original one
(`tests/faq/eval_set.json`, written with the knowledge base), an independent one
(`tests/faq/eval_independent.json`), a fresh one (`tests/faq/eval_fresh.json`) and a fourth one
(`tests/faq/eval_fourth.json`); all four have been seen and are tuning material. The fifth is real: questions
people asked in public trackers and forums, verbatim with their sources (`faq/eval/real-questions.jsonl`).
Each round adds a held-out part (`"split": "report"`) that is scored once, by `--write`, and is tuning
material from the next round on (`SPENT_THROUGH_ROUND`).

python -m faq.evaluate                  # print the figures (held-out rows already scored by --write only)
python -m faq.evaluate --tuning-only    # only the tuning material (never looks at the held-out part)
python -m faq.evaluate --cross-validate # cross-validated figures on the real tuning questions
python -m faq.evaluate --calibrate      # store faq/calibration.json, fitted and scored on the tuning material
python -m faq.evaluate --write          # score the held-out part (once); store the calibration, the
                                        # figures in docs/faq-eval.md and what was scored (and the floors)
                                        # in faq/eval/scored.json
python -m faq.evaluate --check          # exit 1 when any of them is out of date
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cache, lru_cache
from pathlib import Path

from faq import _about, _reading
from faq._about import NO_MODEL, AboutModel
from faq._calibration import (
    MODEL_WRITTEN_RIGHT_AIM,
    OUT_OF_SCOPE_DECLINED_AIM,
    SURE_PRECISION,
    WRONG_ANSWER_COST,
    Calibration,
    Sample,
    fit,
)
from faq._index import MIN_KNOWN_SHARE, SENTENCE_WEIGHT
from faq._knowledge import CONTRACT_TOPICS, bundled_off_topic, bundled_topics
from faq.answerer import FaqAnswerer

_REPOSITORY = Path(__file__).resolve().parents[1]
ORIGINAL_SET = _REPOSITORY / "tests" / "faq" / "eval_set.json"
INDEPENDENT_SET = _REPOSITORY / "tests" / "faq" / "eval_independent.json"
FRESH_SET = _REPOSITORY / "tests" / "faq" / "eval_fresh.json"
FOURTH_SET = _REPOSITORY / "tests" / "faq" / "eval_fourth.json"
REAL_SET = Path(__file__).resolve().parent / "eval" / "real-questions.jsonl"
# What `--write` scored on the held-out part (each row's hash), what it measured, and the floors the tests
# guard from then on: the one place the floors are updated.
SCORED = Path(__file__).resolve().parent / "eval" / "scored.json"
# Real questions of this round and earlier have all been scored once: tuning material, whatever their split.
SPENT_THROUGH_ROUND = 32
REPORT = _REPOSITORY / "docs" / "faq-eval.md"
CALIBRATION = Path(__file__).resolve().parent / "calibration.json"
ABOUT_MODEL = Path(__file__).resolve().parent / "about.json"
# Real questions are what the bot will meet; there are few of them, so each counts this many times in the fit.
REAL_WEIGHT = 4.0
# The calibration trusts the "about the move" model as far as it proves right on questions it was not fitted
# on: out-of-fold log-odds.
ABOUT_FOLDS = 5
# The learned model reads words, not similarities: real questions' style is what it most needs to see
# (cross-validated on the tuning material: weights 1, 4, 10, 20 gave AUROC 0.76-0.78 alone, 10 the best
# with the knowledge base's phrasings in the fit, docs/faq-eval.md).
ABOUT_REAL_WEIGHT = 10.0
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
    row: str = ""  # real questions: the SHA-256 of the row (see `row_hash`)
    group: str = ""  # real questions: the thread they come from (cross-validation keeps a thread together)

    @property
    def held_out(self) -> bool:
        return self.source == "real" and self.split == "report" and self.round > SPENT_THROUGH_ROUND


@dataclass(frozen=True)
class Scored:
    question: Question
    top_topic: str
    sample: Sample
    found: tuple[str, ...] = ()  # what the learned "about the move" model reads (`faq._about.features`)


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

    `"spent": true` marks round 5's questions that were held out (and scored) in round 5; every round up to
    `SPENT_THROUGH_ROUND` is tuning material now.
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
                    row_hash(item),
                    item["source"].split("#", 1)[0].split("?", 1)[0].rstrip("/"),
                )
            )
    return questions


def row_hash(item: dict[str, object]) -> str:
    """A real question's identity, whatever the file's formatting: its fields, canonically encoded."""
    canonical = json.dumps(item, sort_keys=True, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class ScoredRecord:
    """What `--write` scored on the held-out part, and the floors the tests guard from then on."""

    rows: frozenset[str]  # row hashes (see `row_hash`)
    answered_right: float  # the floor for in-scope answered with the right topic, as a share
    out_of_scope_declined: float  # the floor for out-of-scope declined, as a share
    measured: dict[str, int] = field(default_factory=dict)  # the counts of the latest scoring (history)

    @classmethod
    def load(cls, path: Path = SCORED) -> ScoredRecord:
        if not path.exists():
            return cls(frozenset(), 0.0, 0.0)
        data = json.loads(path.read_text(encoding="utf-8"))
        floors = data.get("floors", {})
        return cls(
            frozenset(data.get("rows", ())),
            float(floors.get("answered_right", 0.0)),
            float(floors.get("out_of_scope_declined", 0.0)),
            {str(key): int(value) for key, value in data.get("measured", {}).items()},
        )


def scored_record_text(
    questions: Sequence[Question], held_out: Figures | None, previous: ScoredRecord
) -> str:
    """`scored.json` after a `--write`: the rows scored so far and the floors from the latest scoring.

    The floors are the measured shares, rounded down to two decimals: they guard against getting worse, for as
    long as those rows are held out. A `--write` that scores nothing keeps the latest scoring's record.
    """
    rows = previous.rows | {q.row for q in questions}
    floors = {
        "answered_right": previous.answered_right,
        "out_of_scope_declined": previous.out_of_scope_declined,
    }
    measured: dict[str, int] = dict(previous.measured)
    if held_out is not None and questions:
        floors = {
            "answered_right": _floor(held_out.answered_right, held_out.in_scope),
            "out_of_scope_declined": _floor(held_out.out_of_scope_declined, held_out.out_of_scope),
        }
        measured = {
            "in_scope": held_out.in_scope,
            "answered_right": held_out.answered_right,
            "top1_right": held_out.top1_right,
            "out_of_scope": held_out.out_of_scope,
            "out_of_scope_declined": held_out.out_of_scope_declined,
        }
    data = {"rows": sorted(rows), "floors": floors, "measured": measured}
    return json.dumps(data, indent=2) + "\n"


def _floor(successes: int, total: int) -> float:
    return math.floor(100 * successes / total) / 100 if total else 0.0


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
        reading = _reading.read(question.text)
        ranking = answerer.rank(question.text, reading)
        found = tuple(_about.features(reading))
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
            tells=1.0 if ranking.tells_the_move else 0.0,
            real=question.source == "real",
            written_set="" if question.source == "real" else question.source,
        )
        scored.append(Scored(question, top_topic, sample, found))
    return scored


@dataclass(frozen=True)
class Trained:
    """What the tuning material fits: the calibration and the learned "about the move" model."""

    calibration: Calibration
    about: AboutModel
    unseen: list[Scored]
    """The tuning questions as fitted: the model's log-odds in each is out of fold (from a fit without it), so
    figures on them are not the model's own training questions read back."""

    def applied(self, scored: Sequence[Scored]) -> list[Scored]:
        """The questions as this fit's answerer sees them (the model's log-odds in each sample)."""
        return [replace(s, sample=replace(s.sample, about=self.about.logit(s.found))) for s in scored]


def train(scored: Sequence[Scored], *, learned: bool = True) -> Trained:
    """Fit the "about the move" model and the calibration on `scored` (tuning material only).

    The calibration learns how far to trust the model from out-of-fold log-odds: what it will get on
    messages the model has not seen, not the confident ones of its own training questions.
    """
    scored = _balanced(scored)
    if not learned:
        return Trained(
            Calibration.from_json(fit([s.sample for s in scored]).to_json()), NO_MODEL, list(scored)
        )
    examples = [
        _about.Example(s.found, s.sample.in_scope, ABOUT_REAL_WEIGHT if s.question.source == "real" else 1.0)
        for s in scored
    ]
    groups = [s.question.group or f"{s.question.source}:{s.question.text}" for s in scored]
    knowledge = _knowledge_examples()
    unseen = _about.out_of_fold(examples, groups, ABOUT_FOLDS, knowledge)
    seen_unseen = [
        replace(s, sample=replace(s.sample, about=logit)) for s, logit in zip(scored, unseen, strict=True)
    ]
    # Round as stored, so the figures describe exactly what the answerer will load.
    calibration = Calibration.from_json(fit([s.sample for s in seen_unseen]).to_json())
    real_in_scope = sorted(
        s.sample.about for s in seen_unseen if s.question.source == "real" and s.sample.in_scope
    )
    in_migration = real_in_scope[len(real_in_scope) // 2] if real_in_scope else 0.0
    model = replace(_about.fit([*examples, *knowledge]), in_migration=in_migration)
    return Trained(calibration, AboutModel.from_json(model.to_json()), seen_unseen)


@lru_cache(maxsize=2)
def _trained(tuning: tuple[Scored, ...]) -> Trained:
    """`train` on the tuning material as scored, kept: held-out rows are never part of it, so evaluations
    that differ only in them (the tests that show it) share one fit of several seconds."""
    return train(tuning)


def _balanced(scored: Sequence[Scored]) -> list[Scored]:
    """Real questions reweighed so that in scope and out of scope weigh the same in total (their total
    unchanged): the targets are a rate for each, while public threads hold four out-of-scope questions for
    each one in scope, which would otherwise set the threshold for declining."""
    real = [s for s in scored if s.question.source == "real"]
    in_scope = sum(s.sample.weight for s in real if s.sample.in_scope)
    out_of_scope = sum(s.sample.weight for s in real if not s.sample.in_scope)
    if not in_scope or not out_of_scope:
        return list(scored)
    total = in_scope + out_of_scope
    factor = {True: total / (2 * in_scope), False: total / (2 * out_of_scope)}
    return [
        replace(s, sample=replace(s.sample, weight=s.sample.weight * factor[s.sample.in_scope]))
        if s.question.source == "real"
        else s
        for s in scored
    ]


@cache
def _knowledge_examples() -> tuple[_about.Example, ...]:
    """The knowledge base's phrasings are about the move; its off-topic subjects are not."""
    about = [
        phrasing
        for topic in bundled_topics()
        if topic.ranked  # the others are recognised by their words, not read by the model
        for phrasing in (topic.title, *topic.phrasings)
    ]
    return tuple(
        _about.Example(_about.features(_reading.read(text)), is_about)
        for texts, is_about in ((about, True), (bundled_off_topic(), False))
        for text in texts
    )


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
        judge.confidence(
            s.sample.top, s.sample.margin, s.sample.length, s.sample.move, s.sample.about, s.sample.tells
        )
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
    about: AboutModel
    held_out: Figures | None  # the real questions' report part; None when only the tuning was scored
    comparisons: list[tuple[str, Figures]]  # the tuning material, group by group
    topic_count: int
    held_out_questions: list[Question] = field(default_factory=list)  # what `held_out` scored


_SCORED_ROUNDS = (6, 7, 10, 16, 25, 32)
"""The rounds after round 5 whose real questions were held out and scored once; tuning material since."""


def _scored_round(number: int) -> tuple[str, Callable[[Question], bool]]:
    """The report group of the real questions of round `number` (held out, scored once, tuning since)."""
    scored = f"scored once in round {number}; tuning material since"
    title = f"Real questions, round {number}'s held-out part ({scored})"
    return title, lambda q: q.source == "real" and q.round == number


_TUNING_GROUPS: tuple[tuple[str, Callable[[Question], bool]], ...] = (
    (
        "Real questions, round 5's tune part (tuning material)",
        lambda q: q.source == "real" and q.split == "tune" and q.round == 5 and not q.spent,
    ),
    (
        "Real questions, round 5's held-out part (scored once in round 5; tuning material since)",
        lambda q: q.source == "real" and q.spent,
    ),
    *(_scored_round(number) for number in _SCORED_ROUNDS),
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
    held_out_rows: frozenset[str] | None = None,
) -> Evaluation:
    """Calibrate on the tuning material and score it; the held-out part only if `include_held_out`, and then
    only the rows in `held_out_rows` (None: every held-out row, which only `--write` asks for)."""
    topics = bundled_topics()
    questions = load_questions(original, independent, fresh, fourth, real)
    tuning_questions = [q for q in questions if not q.held_out]
    answerer = FaqAnswerer(about=NO_MODEL)  # the bundled topics, indexed once per process
    trained = _trained(tuple(score(answerer, tuning_questions)))
    tuning, calibration = trained.unseen, trained.calibration
    held_out, held_out_questions = None, []
    if include_held_out:
        held_out_questions = [
            q for q in questions if q.held_out and (held_out_rows is None or q.row in held_out_rows)
        ]
    if held_out_questions:
        held_out = figures(trained.applied(score(answerer, held_out_questions)), calibration)
    return Evaluation(
        calibration=calibration,
        about=trained.about,
        held_out=held_out,
        held_out_questions=held_out_questions,
        comparisons=[
            (title, figures([s for s in tuning if belongs(s.question)], calibration))
            for title, belongs in _TUNING_GROUPS
        ],
        topic_count=len(topics),
    )


def _shown_auroc(value: float) -> str:
    """n/a where a set has no question on one side (round 16's one in-scope question, always declined)."""
    return "n/a" if math.isnan(value) else f"{value:.3f}"


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
        "confidence = 1 / (1 + exp(-(a * top + b * margin + d * length + e * move + f * about + c))), where",
        "`top` is the best topic's blended similarity, `margin` its lead over the runner-up or the off-topic",
        "subjects, `length` log(1 + content words), `move` 1 when the message mentions the move (connecting,",
        "switching, a directory) and `about` the learned log-odds that the message is about the move",
        f"(`faq/about.json`, {len(evaluation.about.weights)} weights over words, word pairs and error codes,",
        "fitted on the tuning material; the calibration fitted on its",
        f"{ABOUT_FOLDS}-fold out-of-fold log-odds).",
        "In a message of several sentences a topic's best sentence weighs",
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
            f" d = {part.slope_length:.4f}, e = {part.slope_move:.4f}, f = {part.slope_about:.4f},"
            f" c = {part.bias:.4f}",
            f"- answer threshold on the confidence: **{part.framed_threshold:.4f}** (of the thresholds that",
            f"  keep {OUT_OF_SCOPE_DECLINED_AIM:.0%} of the real out-of-scope questions declined and"
            f" {MODEL_WRITTEN_RIGHT_AIM:.0%} of the",
            "  model-written in-scope ones answered right on the tuning material, those that answer the most",
            "  real in-scope questions right; among them the middle of the cheapest range, where a wrong",
            f"  answer costs {WRONG_ANSWER_COST:g} and declining an in-scope question costs 1)",
            f"- sure threshold: **{part.threshold:.4f}** (from there the tuning material's answers were",
            f"  right {SURE_PRECISION:.0%} of the time); between the two the reply says",
            '  "This sounds like ..." and offers one-click alternatives',
            "",
        ]
    if held_out is None:
        lines += [
            "### Headline: real questions, report part (held out, scored once)",
            "",
            f"No held-out part of a round after round {SPENT_THROUGH_ROUND} has been scored yet: the lead",
            "scores it once with `python -m faq.evaluate --write`.",
            "",
        ]
    else:
        lines += [
            "### Headline: real questions, report part (held out, scored once)",
            "",
            *_table(held_out),
            "",
            f"AUROC of the confidence (right top topic vs everything else): {_shown_auroc(held_out.auroc)}",
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
        lines += [f"### {title}", "", *_table(result), "", f"AUROC: {_shown_auroc(result.auroc)}", ""]
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
    mode.add_argument(
        "--cross-validate",
        action="store_true",
        help="cross-validated figures on the real tuning questions (for tuning rounds)",
    )
    args = parser.parse_args(argv)
    if args.cross_validate:
        from faq.crossvalidate import cross_validate, ranked_tuning, render_cross_validation

        ranked = ranked_tuning(load_questions())
        for learned in (False, True):
            print(render_cross_validation(cross_validate(ranked, learned=learned)) + "\n")
        return 0
    record = ScoredRecord.load()
    evaluation = evaluate(
        include_held_out=not (args.tuning_only or args.calibrate),
        held_out_rows=None if args.write else record.rows,
    )
    calibration_text = json.dumps(evaluation.calibration.to_json(), indent=2) + "\n"
    about_text = json.dumps(evaluation.about.to_json(), indent=0) + "\n"
    if args.tuning_only or args.calibrate:
        if args.calibrate:
            CALIBRATION.write_text(calibration_text, encoding="utf-8")
            ABOUT_MODEL.write_text(about_text, encoding="utf-8")
        print(render(evaluation))
        return 0
    block = render(evaluation)
    current = REPORT.read_text(encoding="utf-8") if REPORT.exists() else "# FAQ answering: evaluation\n"
    report = _with_figures(current, block)
    if args.check:
        stale = [
            str(path)
            for path, expected, actual in (
                (CALIBRATION, calibration_text, CALIBRATION.read_text(encoding="utf-8")),
                (
                    ABOUT_MODEL,
                    about_text,
                    ABOUT_MODEL.read_text(encoding="utf-8") if ABOUT_MODEL.exists() else "",
                ),
                (REPORT, report, current),
            )
            if actual != expected
        ]
        if stale:
            print(f"out of date: {', '.join(stale)}; run `python -m faq.evaluate --write`", file=sys.stderr)
            return 1
        return 0
    if args.write:
        SCORED.write_text(
            scored_record_text(evaluation.held_out_questions, evaluation.held_out, record), encoding="utf-8"
        )
        CALIBRATION.write_text(calibration_text, encoding="utf-8")
        ABOUT_MODEL.write_text(about_text, encoding="utf-8")
        REPORT.parent.mkdir(parents=True, exist_ok=True)
        REPORT.write_text(report, encoding="utf-8")
    print(block)
    return 0


if __name__ == "__main__":
    sys.exit(main())
