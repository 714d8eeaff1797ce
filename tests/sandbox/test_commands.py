"""`aadbot sandbox` as a process: ready line, real HTTP, clean stop on SIGTERM."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import httpx

ROOT = Path(__file__).parents[2]
FABRIKAM = ROOT / "sandbox" / "scenarios" / "fabrikam.json"
_LAUNCH = """
import argparse, sys
from sandbox import commands
parser = argparse.ArgumentParser(prog="aadbot")
commands.register(parser.add_subparsers(dest="command", required=True))
args = parser.parse_args(sys.argv[1:])
sys.exit(args.run(args))
"""


def _start(*argv: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-c", _LAUNCH, "sandbox", *argv],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_serves_until_sigterm() -> None:
    process = _start("--scenario", str(FABRIKAM))
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.removeprefix("listening on ")
        assert httpx.head(f"{url}/vssps.dev.azure.com/fabrikam-fiber").headers["X-VSS-ResourceTenant"]
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
        process.communicate()


def test_invalid_scenario_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"format": "aadbot-scenario/1", "organization": {}, "tenant": {"id": "t"}}')
    process = _start("--scenario", str(bad))
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2 and out == ""
    assert "invalid scenario" in err and "organization.name: missing" in err and "Traceback" not in err


def test_a_host_it_cannot_listen_on_is_refused_in_one_line_naming_the_fix() -> None:
    process = _start("--scenario", str(FABRIKAM), "--host", "256.1.1.1")
    out, err = process.communicate(timeout=30)
    assert process.returncode == 2 and out == ""
    (line,) = err.strip().splitlines()
    assert line.startswith("aadbot sandbox: the sandbox could not listen on 256.1.1.1:0 (")
    assert "give --host an address of this machine" in line
