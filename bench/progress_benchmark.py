"""Progress benchmark: an admin's `progress` on a 20,000-user organization, as `serve` answers it.

    .venv/bin/python bench/progress_benchmark.py [--users 20000] [--rounds 3]

The organization is the digest benchmark's (`bench/digest_benchmark.py`: `sandbox.generate`'s people with
lists of four items, a third done, the lists delivered; one in a hundred decided out of access).
Each round reads the report (`Tracking.progress`) and renders the admin's message and its full-list
CSV (`progress_views.progress`); reported: the process CPU of each, and the SQL statements of the read.
"""

from __future__ import annotations

import argparse
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy import event

# The code measured comes first on the path: this checkout's, or another's (`PYTHONPATH`, to measure a
# version before a change with this same script).
sys.path.append(str(Path(__file__).resolve().parents[1]))

from bench.digest_benchmark import NOW, _NoMicrosoft, populate
from bot.conversation import progress_views
from storage import open_database
from workflows.service import MigrationService
from workflows.tracking import Tracking


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as directory:
        database = open_database(f"sqlite:///{os.path.join(directory, 'progress.db')}")
        populate(database, args.users)
        service = MigrationService(database, _NoMicrosoft(), clock=lambda: NOW)  # type: ignore[arg-type]
        tracking = Tracking(database, service, clock=lambda: NOW)
        statements = 0

        def count(*_: object) -> None:
            nonlocal statements
            statements += 1

        event.listen(database.engine, "before_cursor_execute", count)
        print(f"{args.users} users, Python {platform.python_version()}")
        for number in range(1, args.rounds + 1):
            statements, started = 0, time.process_time()
            report = tracking.progress(None)
            read, read_statements = time.process_time() - started, statements
            started = time.process_time()
            progress_views.progress(report)
            progress_views.progress(report, full_list=True)
            shown = time.process_time() - started
            print(
                f"round {number}: read {read:.2f} s CPU ({read_statements} SQL statements),"
                f" message and CSV {shown:.2f} s CPU"
            )
        database.dispose()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
