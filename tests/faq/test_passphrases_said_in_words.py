"""Passwords said in words after a password's name ("password is", "pw is", "my pass is", "pwd:") are masked
when they open as a sentence would ("my dog rex 2019", "still purple monkey dishwasher") or are two words
making up the clause; what is said of a password, and a question typed after "password:", stays as typed.
Wordings written for the test. Masking too much costs the admins a little context; too little is a leak."""

from __future__ import annotations

import pytest

from faq.redaction import PASSWORD, leaked, redact

MASKED = [
    ("my password is my dog rex 2019", "my password is [redacted]"),
    ("password is my dog rex 2019 and git keeps asking", "password is [redacted] and git keeps asking"),
    ("pw is still purple monkey dishwasher", "pw is [redacted]"),
    ("my pass is still purple monkey dishwasher", "my pass is [redacted]"),
    ("pwd: the purple monkey", "pwd: [redacted]"),
    ("my password is purple monkey", "my password is [redacted]"),
    ("my password is Purple Monkey", "my password is [redacted]"),
    ("password: purple monkey, it fails", "password: [redacted], it fails"),
    ("my pw is blue horse", "my pw is [redacted]"),
    (
        "my password was just tango mango. Why does git ask again?",
        "my password was [redacted]. Why does git ask again?",
    ),
]
KEPT = [
    "password: Forgot Password link broken",
    "password: Reset Password link broken",
    "my password is not working",
    "my password is expired",
    "my password is not working and git keeps asking",
    "my password is still not accepted",
    "my password is still the old one",
    "my password is the same as before",
    "my password is a long one",
    "the password is on the sticky note",
    "my password is in keychain",
    "password is still valid",
    "my password is now working again",
    "password: reset link expired",
    "my password is ok but git asks again",
    "pw is wrong",
    "my pass is expired since Monday",
]


@pytest.mark.parametrize(("question", "kept"), MASKED)
def test_a_password_said_in_words_is_masked(question: str, kept: str) -> None:
    assert redact(question) == kept
    assert leaked(question) == PASSWORD


@pytest.mark.parametrize("question", KEPT)
def test_what_is_said_of_a_password_stays_as_typed(question: str) -> None:
    assert redact(question) == question
    assert leaked(question) is None
