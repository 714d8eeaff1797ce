"""`aadbot ask`: answer one question, or one question per stdin line."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import TextIO

from faq._compose import AskerContext
from faq._knowledge import CASES
from faq.answerer import Answer, FaqAnswerer, default_answerer
from workflows.arguments import ArgumentError, organization_name

_ASK_ONE = 'ask one as an argument, `aadbot ask "will there be downtime?"`, or pipe one per line on stdin'


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "ask",
        help="answer a question about the migration",
        description="Answer a question about the move to Microsoft Entra ID. Without QUESTION, read one "
        "question per line from stdin and print one answer per line.",
    )
    parser.add_argument("question", nargs="?", metavar="QUESTION", help="the question (omit to read stdin)")
    parser.add_argument(
        "--json", action="store_true", help="print JSON: {topic, score, answer, alternatives}"
    )
    parser.add_argument(
        "--migration",
        metavar="ORGANIZATION",
        type=_organization,
        help="answer as the bot does inside this organization's migration (its channel or to-do list): "
        "every question is taken to be about the move",
    )
    parser.add_argument(
        "--case",
        choices=sorted(CASES),
        help="the asker's case: first (from Microsoft accounts) or switch (from another directory)",
    )
    parser.set_defaults(run=run)


def _organization(value: str) -> str:
    try:
        return organization_name(value)
    except ArgumentError as error:
        raise argparse.ArgumentTypeError(str(error)) from None


def run(args: argparse.Namespace) -> int:
    answerer = default_answerer()
    context = AskerContext(
        organization=args.migration, migration=args.migration, case=args.case, in_chat=False
    )
    out = sys.stdout
    if args.question is not None:
        answer = answerer.answer(args.question, context)
        out.write((_as_json(answer) if args.json else _readable(answer)) + "\n")
        return 0
    asked = _answer_each_line(answerer, context, args.json, out)
    if asked:
        return 0
    # The FAQ contract: empty input gets a normal reply (and exit 0), here one saying what was missing.
    print(f"aadbot ask: no question given (stdin held none): {_ASK_ONE}.", file=sys.stderr)
    empty = answerer.answer("", context)
    empty = replace(empty, answer=f"No question given: {_ASK_ONE}.\n{empty.answer}")
    out.write((_as_json(empty) if args.json else _one_line(empty)) + "\n")
    return 0


def _answer_each_line(answerer: FaqAnswerer, context: AskerContext, as_json: bool, out: TextIO) -> bool:
    """One answer per stdin line; whether any line asked something. Blank lines before the first question
    are answered once it comes, in their places: stdin that holds none (`</dev/null`, a `grep` that found
    nothing) asked nothing, which answers to its blank lines alone would not say."""
    held: list[str] = []
    asked = False
    for line in _stdin_lines(sys.stdin):
        held.append(line)
        if not asked and not line.strip():
            continue
        asked = True
        for question in held:
            answer = answerer.answer(question, context)
            out.write((_as_json(answer) if as_json else _one_line(answer)) + "\n")
        out.flush()
        held.clear()
    return asked


def _stdin_lines(stdin: TextIO) -> Iterator[str]:
    """Lines of stdin as they arrive; raw bytes are decoded leniently so binary input still gets answers."""
    raw = getattr(stdin, "buffer", None)
    if raw is None:
        yield from (line.rstrip("\r\n") for line in stdin)
        return
    for line in raw:
        yield line.decode("utf-8", errors="replace").rstrip("\r\n")


def _as_json(answer: Answer) -> str:
    # ASCII-only JSON: safe on any terminal encoding, whatever the question contained.
    return json.dumps(answer.to_json())


def _readable(answer: Answer) -> str:
    if answer.topic is None:
        return answer.answer
    return f"{answer.answer}\n(topic {answer.topic}, confidence {answer.score:.2f})"


def _one_line(answer: Answer) -> str:
    text = " | ".join(line.strip() for line in answer.answer.splitlines() if line.strip())
    return f"[{answer.topic or 'unknown'} {answer.score:.2f}] {text}"
