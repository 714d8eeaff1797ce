"""Secrets are redacted before a question is kept or shown to admins; plain words after "Bearer" are not."""

from __future__ import annotations

import pytest

from faq.unanswered import KEPT_CHARS, redact

JWT = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiI0OTliODRhYyJ9.c2lnbmF0dXJlLXBhcnQ"
PAT = "u5yvdw3kqzl7ge2xj4mrsb6tnoahcfpiu5yvdw3kqzl7ge2xj4mr"  # 52 characters of base32
PAT_WITHOUT_DIGITS = "uyvdwkqzlgexjmrsbtnoahcfpiuyvdwkqzlgexjmrsbtnoahcfpi"
CLIENT_SECRET = "Xy78Q~h2Lq.Zr-3KfT_9wDmN4pVbC1sYeJ0uAoGi"


@pytest.mark.parametrize(
    ("question", "kept"),
    [
        ("Bearer give me the pipelines list", "Bearer give me the pipelines list"),
        ("why does the Bearer authentication fail after the switch", None),
        ("what does basic licence mean here", None),
        ("is a bearer token still valid after connecting?", None),
        (
            f"curl -H 'Authorization: Bearer {JWT}' returns 401",
            "curl -H 'Authorization: Bearer [redacted]' returns 401",
        ),
        ("Authorization: Basic dXNlcjpwYXNzd29yZA== fails", "Authorization: Basic [redacted] fails"),
        ("Authorization: Basic dXNlcjpwYXNz fails", "Authorization: Basic [redacted] fails"),
        (f"the token {JWT} expired", "the token [redacted] expired"),
        (f"my PAT {PAT} stopped working", "my PAT [redacted] stopped working"),
        (f"my PAT {PAT_WITHOUT_DIGITS} stopped working", "my PAT [redacted] stopped working"),
        (f"client secret {CLIENT_SECRET} is rejected", "client secret [redacted] is rejected"),
    ],
)
def test_credentials_are_redacted_and_words_are_kept(question: str, kept: str | None) -> None:
    assert redact(question) == (question if kept is None else kept)


def test_a_secret_past_the_kept_length_never_survives_the_cut() -> None:
    question = "x " * (KEPT_CHARS // 2 - 5) + f"Bearer {JWT}"
    assert JWT[:12] not in redact(question) and len(redact(question)) <= KEPT_CHARS
