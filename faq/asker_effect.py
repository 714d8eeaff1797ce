"""What the asker-aware choices change: every evaluation question asked inside a migration after connecting,
and as a mapped member before connecting and while connecting.

Each question is answered as an invited guest, as a mapped member and as an admin would ask it, once with the
choices made for a known asker (`faq._asker`) and once without, in sample (the bundled calibration). A
question is right when it is answered with its expected topic, or declined when it is out of scope. The
evaluation itself (`faq.evaluate`) asks without an asker and is not touched. Figures: docs/faq-eval.md,
"asker-aware ranking".

Then what being inside a migration changes at all (`inside_and_outside`): every tuning question answered
outside any migration and inside one, cross-validated over all of them, since in sample the learned "about
the move" model knows each question's answer. Figures: docs/faq-eval.md, "Near-domain questions inside a
migration".
"""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, replace

from faq._about import fold_of
from faq._compose import AskerContext
from faq.answerer import FaqAnswerer
from faq.crossvalidate import FOLDS, ranked_tuning
from faq.evaluate import Question, load_questions, train

_INSIDE = AskerContext(stage="users_notified", organization="fabrikam", case="first", migration="fabrikam")
ASKERS = {
    "invited guest": replace(_INSIDE, outcome="invite", guest=True),
    "mapped member": replace(_INSIDE, outcome="map"),
    "admin": replace(_INSIDE, outcome="auto", is_admin=True),
    "mapped member, planned": replace(_INSIDE, outcome="map", stage="planned"),
    "mapped member, connecting": replace(_INSIDE, outcome="map", stage="connecting"),
}


@dataclass(frozen=True)
class Change:
    question: Question
    before: str | None  # the topic answered without the asker-aware choices (None: declined)
    after: str | None

    @property
    def verdict(self) -> str:
        """ "right -> wrong", "wrong -> right" or "wrong -> wrong"."""
        was, now = self.before == self.question.expected, self.after == self.question.expected
        return f"{'right' if was else 'wrong'} -> {'right' if now else 'wrong'}"


def changes(
    questions: Sequence[Question], asker: AskerContext, aware: FaqAnswerer, blind: FaqAnswerer
) -> list[Change]:
    """The questions whose answer (its topic, or declining) differs with the asker-aware choices."""
    found = []
    for question in questions:
        before, after = blind.answer(question.text, asker).topic, aware.answer(question.text, asker).topic
        if before != after:
            found.append(Change(question, before, after))
    return found


def render(questions: Sequence[Question]) -> str:
    aware, blind = FaqAnswerer(), FaqAnswerer(asker_aware=False)
    lines = [
        f"{len(questions)} evaluation questions, each asked inside a migration"
        " (after connecting unless said):",
        "",
        "| asked as | answers changed | right -> wrong | wrong -> right | wrong -> wrong |",
        "| --- | --- | --- | --- | --- |",
    ]
    details = []
    for name, asker in ASKERS.items():
        changed = changes(questions, asker, aware, blind)
        verdicts = [change.verdict for change in changed]
        counts = " | ".join(
            str(verdicts.count(v)) for v in ("right -> wrong", "wrong -> right", "wrong -> wrong")
        )
        lines.append(f"| {name} | {len(changed)} | {counts} |")
        details += [
            f"- {name}, {change.verdict} ({change.question.source}, expected {change.question.expected}):"
            f" {change.before} -> {change.after}: {change.question.text[:100]!r}"
            for change in changed
        ]
    return "\n".join([*lines, "", *details])


def inside_and_outside(questions: Sequence[Question], *, folds: int = FOLDS) -> Counter[tuple[str, ...]]:
    """Every tuning question answered outside any migration and inside one (as a mapped member after
    connecting) by an answerer fitted without it: in `folds` folds, real questions by thread and model-written
    ones each on its own, the "about the move" model and the calibration fitted on the other folds.

    Counted by (where, "real" or "model-written", "in" or "out" of scope, "n" or "right"): right is answered
    with the expected topic in scope, declined out of scope.
    """
    ranked = ranked_tuning(questions)
    fold = {
        id(s): fold_of(s.question.group or f"{s.question.source}:{s.question.text}", folds) for s in ranked
    }
    counts: Counter[tuple[str, ...]] = Counter()
    for part in range(folds):
        trained = train([s for s in ranked if fold[id(s)] != part])
        answerer = FaqAnswerer(calibration=trained.calibration, about=trained.about)
        for question in (s.question for s in ranked if fold[id(s)] == part):
            kind = (
                "real" if question.source == "real" else "model-written",
                "in" if question.expected else "out",
            )
            for where, asker in (("outside", AskerContext()), ("inside", ASKERS["mapped member"])):
                right = answerer.answer(question.text, asker).topic == question.expected
                counts[(where, *kind, "n")] += 1
                counts[(where, *kind, "right")] += right
    return counts


def render_inside_and_outside(counts: Counter[tuple[str, ...]]) -> str:
    def rate(where: str, kind: str, scope: str) -> str:
        right, total = counts[(where, kind, scope, "right")], counts[(where, kind, scope, "n")]
        return f"{right}/{total} ({right / max(1, total):.1%})"

    lines = [
        f"Every tuning question outside and inside a migration (a mapped member after connecting),"
        f" cross-validated ({FOLDS} folds: real questions by thread, model-written ones each alone):",
        "",
        "| asked | real: in scope answered right | real: out of scope declined"
        " | model-written: in scope answered right | model-written: out of scope declined |",
        "| --- | --- | --- | --- | --- |",
    ]
    for where in ("outside", "inside"):
        cells = [rate(where, kind, scope) for kind in ("real", "model-written") for scope in ("in", "out")]
        lines.append(f"| {where} | {' | '.join(cells)} |")
    return "\n".join(lines)


def main() -> int:
    questions = load_questions()
    print(render(questions))
    print()
    print(render_inside_and_outside(inside_and_outside(questions)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
