"""What the asker-aware choices change: every evaluation question asked inside a migration after connecting.

Each question is answered as an invited guest, as a mapped member and as an admin would ask it, once with the
choices made for a known asker (`faq._asker`) and once without, in sample (the bundled calibration). A
question is right when it is answered with its expected topic, or declined when it is out of scope. The
evaluation itself (`faq.evaluate`) asks without an asker and is not touched. Figures: docs/faq-eval.md,
"asker-aware ranking".
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from dataclasses import dataclass, replace

from faq._compose import AskerContext
from faq.answerer import FaqAnswerer
from faq.evaluate import Question, load_questions

_INSIDE = AskerContext(stage="users_notified", organization="fabrikam", case="first", migration="fabrikam")
ASKERS = {
    "invited guest": replace(_INSIDE, outcome="invite", guest=True),
    "mapped member": replace(_INSIDE, outcome="map"),
    "admin": replace(_INSIDE, outcome="auto", is_admin=True),
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
        f"{len(questions)} evaluation questions, each asked inside a migration after connecting:",
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


def main() -> int:
    print(render(load_questions()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
