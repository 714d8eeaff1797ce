"""FAQ answer latency after start-up: `python bench/faq_benchmark.py [--rounds N] [--write]`.

Times `FaqAnswerer.answer` the way `serve` runs it (every question kept in the database for its rating
buttons and the admins' review, on the default SQLite file) over every question of the five evaluation sets,
the real long questions apart, plus odd inputs (empty, 100 kB, binary, other languages); `--write` puts the
figures in docs/benchmarks.md between the FAQ markers.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

_REPOSITORY = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(_REPOSITORY))

from bench.machine import processor  # noqa: E402
from faq import AskerContext, FaqAnswerer, InMemoryUnansweredLog  # noqa: E402
from faq.evaluate import load_questions  # noqa: E402
from storage import Database, open_database  # noqa: E402
from storage.faq_feedback import SqlFeedbackStore  # noqa: E402

_DOC = _REPOSITORY / "docs" / "benchmarks.md"
_START, _END = "<!-- faq:start -->", "<!-- faq:end -->"
# Asked inside a migration, as most questions reach `serve` (its channel, or the asker's to-do list).
_CONTEXT = AskerContext(
    organization="fabrikam-fiber", outcome="auto", stage="planned", migration="fabrikam-fiber"
)
_ODD = ["", "?!?!", "a" * 100_000, "how do i " * 12_000, "\x00\xff\ufffd" * 500, "在迁移期间会停机吗？"]


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


Timings = dict[str, list[float]]


def measure(rounds: int) -> tuple[float, Timings, Timings]:
    with tempfile.TemporaryDirectory() as folder:
        database = open_database(f"sqlite:///{Path(folder) / 'aadbot.db'}")
        try:
            return _measure(rounds, database)
        finally:
            database.dispose()


def _measure(rounds: int, database: Database) -> tuple[float, Timings, Timings]:
    """Wall-clock and CPU milliseconds per answer: on a shared, loaded machine the two differ a lot."""
    started = time.perf_counter()
    # As `serve` builds it (bot/runtime.py): declined questions in memory, every question in the database.
    answerer = FaqAnswerer(unanswered=InMemoryUnansweredLog(), feedback=SqlFeedbackStore(database))
    answerer.answer("warm-up", _CONTEXT)
    start_up = time.perf_counter() - started
    questions = [q for q in load_questions() if not q.held_out]  # a held-out part is read only by --write
    batches = {
        "model-written questions": [q.text for q in questions if q.source != "real"],
        "real questions (long, pasted)": [q.text for q in questions if q.source == "real"],
        "odd inputs": _ODD,
    }
    timings: Timings = {label: [] for label in batches}
    cpu: Timings = {label: [] for label in batches}
    for _ in range(rounds):
        for label, batch in batches.items():
            for question in batch:
                began, began_cpu = time.perf_counter(), time.thread_time()
                answerer.answer(question, _CONTEXT)
                timings[label].append((time.perf_counter() - began) * 1000)
                cpu[label].append((time.thread_time() - began_cpu) * 1000)
    return start_up, timings, cpu


def render(start_up: float, timings: Timings, rounds: int, cpu: Timings | None = None) -> str:
    lines = [
        "## FAQ answering",
        "",
        f"`python bench/faq_benchmark.py --rounds {rounds} --write`"
        f" on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, {platform.python_implementation()}"
        f" {platform.python_version()}, {os.cpu_count()} CPUs ({processor()})."
        " Pure Python, single thread; each answer also stores its question in SQLite (as `serve` does,"
        " for the rating buttons and `faq review`).",
        "",
        f"Start-up (load knowledge base, build index, first answer): {start_up * 1000:.0f} ms."
        f" Load average during the run: {_load()}.",
        "",
        "| input | answers | p50 ms | p95 ms | max ms | CPU p95 ms |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    cpu = cpu or {}
    for label, values in timings.items():
        cpu_p95 = f"{_percentile(cpu[label], 0.95):.2f}" if cpu.get(label) else "-"
        lines.append(
            f"| {label} | {len(values)} | {statistics.median(values):.2f} | {_percentile(values, 0.95):.2f} "
            f"| {max(values):.2f} | {cpu_p95} |"
        )
    everything = [value for values in timings.values() for value in values]
    lines += ["", f"p95 over all answers: {_percentile(everything, 0.95):.2f} ms (target: under 50 ms)."]
    all_cpu = [value for values in cpu.values() for value in values]
    if all_cpu:
        lines += [
            f"CPU time per answer, p95 over all answers: {_percentile(all_cpu, 0.95):.2f} ms (the answer's"
            " own work; wall time adds the waiting for a core when other processes share the machine)."
        ]
    return "\n".join(lines)


def _load() -> str:
    try:
        return " / ".join(f"{value:.1f}" for value in os.getloadavg()) + " (1 / 5 / 15 min)"
    except OSError:
        return "unknown"


def write(section: str) -> None:
    block = f"{_START}\n{section}\n{_END}"
    text = _DOC.read_text(encoding="utf-8") if _DOC.exists() else "# Benchmarks\n"
    if _START in text and _END in text:
        before, rest = text.split(_START, 1)
        text = before + block + rest.split(_END, 1)[1]
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    _DOC.parent.mkdir(parents=True, exist_ok=True)
    _DOC.write_text(text, encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rounds", type=int, default=5, help="passes over the question set")
    parser.add_argument("--write", action="store_true", help="update the FAQ section of docs/benchmarks.md")
    args = parser.parse_args(argv)
    if args.rounds < 1:
        parser.error("--rounds must be at least 1")
    start_up, timings, cpu = measure(args.rounds)
    section = render(start_up, timings, args.rounds, cpu)
    if args.write:
        write(section)
    print(section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
