"""A weekday as `announce` stores it in tests on the real clock: with the day it names, which depends on the
day the tests run (`workflows.relative_days`)."""

from __future__ import annotations

A_FRIDAY = r"Friday \d{1,2} [A-Z][a-z]+ \d{4}"
"""`Friday` announced, e.g. `Friday 4 December 2026`."""
