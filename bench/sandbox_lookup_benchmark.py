"""Sandbox lookup benchmark: what a rehearsal's `invite` asks of the emulator's Graph, on a big directory.

    .venv/bin/python bench/sandbox_lookup_benchmark.py [--directory 20000] [--lookups 300] [--json]

`invite` looks each invitee up by address (`find_user`: UPN, mail, other mails or SMTP address, one Graph
`$filter` each) and invites whoever is missing. The emulator serves a generated scenario in this process;
the clients call it over HTTP as the bot does. Half the lookups are directory users' addresses, half are
addresses nobody holds, each of which is then invited (a new guest, the directory growing as it does).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.machine import facts  # noqa: E402
from bench.synthetic import generate  # noqa: E402
from msapi import from_environment  # noqa: E402
from sandbox import Sandbox, load_scenario  # noqa: E402


def run(users: int, directory: int, lookups: int, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        scenario = Path(folder) / "scenario.json"
        generate(scenario, users, directory, seed)
        loaded = load_scenario(scenario)
        held = [str(user["userPrincipalName"]) for user in loaded.data["tenant"]["users"]][
            :: directory // lookups
        ]
        with Sandbox(loaded) as box, from_environment({"AADBOT_SANDBOX_URL": box.url}) as clients:
            tenant = loaded.tenant_id
            clients.find_directory_user(tenant, held[0])  # the token and the connection, not measured
            started = time.perf_counter()
            found = sum(
                clients.find_directory_user(tenant, address) is not None for address in held[: lookups // 2]
            )
            missing = [f"newcomer{n}@example.org" for n in range(lookups // 2)]
            for address in missing:
                assert clients.find_directory_user(tenant, address) is None
                clients.invite_guest(
                    tenant,
                    email=address,
                    display_name=address,
                    message="",
                    redirect_url="https://dev.azure.com/x",
                    inviter="",
                )
            seconds = time.perf_counter() - started
    return {
        "directory": directory,
        "lookups": lookups,
        "found": found,
        "invited": len(missing),
        "seconds": round(seconds, 2),
        "ms_per_invitee": round(1000 * seconds / lookups, 1),
        "machine": facts(),
    }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--directory", type=int, default=20_000)
    parser.add_argument("--lookups", type=int, default=300)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = run(args.users, args.directory, args.lookups, args.seed)
    print(json.dumps(result, indent=2) if args.json else {k: v for k, v in result.items() if k != "machine"})
    return 0


if __name__ == "__main__":
    sys.exit(main())
