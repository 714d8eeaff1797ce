"""Cross-validated figures on the real tuning questions: what tuning is measured with (docs/faq-eval.md).

The real questions are split into `FOLDS` folds by the thread they come from (a thread's questions stay
together), each fold's place decided by the SHA-256 of the thread's address. For each fold, everything the
evaluation fits is fitted on the other folds' real questions plus every model-written set, and the fold's
questions are judged as the answerer would judge them. Held-out rows are left out before anything is scored.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass

from faq._about import NO_MODEL, fold_of
from faq.answerer import FaqAnswerer
from faq.evaluate import Figures, Question, Scored, figures, score, train

FOLDS = 5


@dataclass(frozen=True)
class CrossValidation:
    learned: bool  # whether the "about the move" model was fitted and used
    rounds: list[tuple[str, Figures]]  # all real tuning questions first, then round by round


def ranked_tuning(questions: Sequence[Question]) -> list[Scored]:
    """The tuning questions ranked once, for every cross-validation of them (ranking does not depend on the
    fit)."""
    return score(FaqAnswerer(about=NO_MODEL), [q for q in questions if not q.held_out])


def cross_validate(ranked: Sequence[Scored], *, learned: bool = True, folds: int = FOLDS) -> CrossValidation:
    parts: dict[str, list[Figures]] = {}
    for fold in range(folds):

        def inside(scored: Scored, fold: int = fold) -> bool:
            return scored.question.source == "real" and fold_of(scored.question.group, folds) == fold

        trained = train([s for s in ranked if not inside(s)], learned=learned)
        judged = trained.applied([s for s in ranked if inside(s)])
        parts.setdefault("all", []).append(figures(judged, trained.calibration))
        for round_ in sorted({s.question.round for s in judged}):
            of_round = [s for s in judged if s.question.round == round_]
            parts.setdefault(f"round {round_}", []).append(figures(of_round, trained.calibration))
    return CrossValidation(learned, [(label, _summed(part)) for label, part in parts.items()])


def _summed(parts: Sequence[Figures]) -> Figures:
    """The folds' counts added up (AUROC is not comparable across folds: left out)."""
    counts = {
        field.name: sum(getattr(part, field.name) for part in parts)
        for field in dataclasses.fields(Figures)
        if field.type == "int"
    }
    misses = sorted(miss for part in parts for miss in part.misses)
    return Figures(**counts, auroc=float("nan"), misses=misses)


def render_cross_validation(result: CrossValidation) -> str:
    def line(label: str, f: Figures) -> str:
        return (
            f"| {label} | {f.answered_right}/{f.in_scope} ({f.answered_right / max(1, f.in_scope):.1%}) "
            f"| {f.top1_right}/{f.in_scope} | {f.out_of_scope_declined}/{f.out_of_scope} "
            f"({f.out_of_scope_declined / max(1, f.out_of_scope):.1%}) | {f.framed} |"
        )

    model = "with the learned model" if result.learned else "without the learned model"
    return "\n".join(
        [
            f"Cross-validated, {model} ({FOLDS} folds grouped by thread; tuning figures, not held out):",
            "",
            "| real questions | in-scope answered right | top-1 | out-of-scope declined | framed |",
            "| --- | --- | --- | --- | --- |",
            *(line(label, f) for label, f in result.rounds),
        ]
    )
