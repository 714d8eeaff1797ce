"""Teams people cache benchmark: what `serve` keeps of its directory look-ups after a 20,000-person wave.

    .venv/bin/python bench/people_cache_benchmark.py [--people 20000] [--per-second 17]

Each person of a `notify` wave is looked up once (`People.reachable`, as the Teams sender does), at the
rate walk30 measured (17 lists a second); the directory answers with walk30's long names and addresses.
Reported: the look-ups kept and the Python memory they hold (`tracemalloc`) once the wave is out.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import tracemalloc
from pathlib import Path
from typing import cast

sys.path.append(str(Path(__file__).resolve().parents[1]))

from bot.teams.connector import DirectoryPerson, TeamsApi
from bot.teams.people import People


class _Directory:
    async def person(self, key: str) -> DirectoryPerson | None:
        number = key.split("@")[0].removeprefix("user")
        return DirectoryPerson(
            f"0f5c{int(number):08d}-7d2b-4f61-9a7c-5e4b2d1f0a11",
            f"user{number}@engineering-platform.contoso-global.example.com",
            f"Núria Müller-Lüdenscheidt (user{number}), Principal Engineer — Platform & Reliability",
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--people", type=int, default=20_000)
    parser.add_argument("--per-second", type=float, default=17.0)
    args = parser.parse_args()
    now = [0.0]
    tracemalloc.start()
    before = tracemalloc.get_traced_memory()[0]
    people = People(cast(TeamsApi, _Directory()), clock=lambda: now[0])

    async def wave() -> None:
        for number in range(args.people):
            now[0] = number / args.per_second
            await people.reachable([f"user{number}@engineering-platform.contoso-global.example.com"])

    asyncio.run(wave())
    held = tracemalloc.get_traced_memory()[0] - before
    kept = people.remembered
    print(f"{args.people} people at {args.per_second:g}/s: {kept} look-ups kept, {held / 1e6:.1f} MB")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
