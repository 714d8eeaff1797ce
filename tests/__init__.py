"""The test suite (docs/testing.md).

Bytecode writing is turned back on here, before pytest imports the root conftest and, through it, the
project: with PYTHONDONTWRITEBYTECODE set, as on the development and CI machines, every test process and
every `aadbot` process the tests start compiled the project's modules from source and rewrote the test
modules' asserts on every run. `__pycache__` is git-ignored; a changed source is compiled again.
"""

import sys

sys.dont_write_bytecode = False
