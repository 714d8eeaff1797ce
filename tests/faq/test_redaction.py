"""Secrets are redacted before a question is kept or shown to admins; plain words after "Bearer" are not."""

from __future__ import annotations

import pytest

from faq.redaction import KEPT_CHARS, redact

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
        ("client_secret=abc fails", "client_secret=[redacted] fails"),
        ("my password is Hunter2! why?", "my password is [redacted] why?"),
        (
            "Server=db;User ID=sa;Password=p4ss;Encrypt=true",
            "Server=db;User ID=sa;Password=[redacted];Encrypt=true",
        ),
        ('{"secret": "abc"} in the pipeline', '{"secret": [redacted]} in the pipeline'),
        ("password: how do I reset it after the move?", None),
        ("the token is expired, and is my password safe?", None),
        ("passwords and secrets: where do they go?", None),
    ],
)
def test_credentials_are_redacted_and_words_are_kept(question: str, kept: str | None) -> None:
    assert redact(question) == (question if kept is None else kept)


def test_a_secret_past_the_kept_length_never_survives_the_cut() -> None:
    question = "x " * (KEPT_CHARS // 2 - 5) + f"Bearer {JWT}"
    assert JWT[:12] not in redact(question) and len(redact(question)) <= KEPT_CHARS


TICKET = "RJbB0sjRxmqjcaOVVfnIW4LLO6iJlpzB%252b6oYJtPBSQs%253d"
EMAILED = f"https://invitations.microsoft.com/redeem/?tenant=04dcc6ab&user=7bf5a9b4&ticket={TICKET}&ver=2.0"
GRAPHS = (  # Graph's inviteRedeemUrl: the emailed link, percent-encoded in `rd`
    "https://login.microsoftonline.com/redeem?rd=https%3a%2f%2finvitations.microsoft.com%2fredeem%2f"
    f"%3ftenant%3d04dcc6ab%26user%3d7bf5a9b4%26ticket%3d{TICKET}%26ver%3d2.0"
)
WRAPPED = "https://eur01.safelinks.protection.outlook.com/?url=https%3A%2F%2Flogin.microsoftonline.com%2Fredeem%3Frd%3Dx"


@pytest.mark.parametrize(
    "link",
    [
        EMAILED,
        GRAPHS,
        "https://login.microsoftonline.com/redeem?rd=Ab3dEfGh12IjKlMn",  # the sandbox's, short
        "login.microsoftonline.com/redeem?rd=abcdefghijklmnop",  # pasted without its scheme
        "https%3A%2F%2Finvitations.microsoft.com%2Fredeem%2F%3Fticket%3Dabc",
        "https%253A%252F%252Flogin.microsoftonline.com%252Fredeem%253Frd%253Dabc",  # encoded twice
        WRAPPED,
        "HTTPS://LOGIN.MICROSOFTONLINE.COM/REDEEM?RD=ABC",
    ],
)
def test_a_pasted_link_to_accept_an_invitation_is_masked_whole_and_the_words_kept(link: str) -> None:
    for question, kept in (
        (f"I clicked {link} and it says the invitation expired", "I clicked {} and it says the invitation"),
        (f"I opened {link}, then {link}: both fail", "I opened {0}, then {0}: both fail"),  # punctuation kept
        (f"this link <{link}|here> fails", "this link <{}|here> fails"),  # as Slack sends a pasted link
        (f'<a href="{link}">{link}</a> fails', '<a href="{0}">{0}</a> fails'),  # as Teams sends it
    ):
        assert redact(question).startswith(kept.format("[redacted invitation link]")), question


@pytest.mark.parametrize(
    "question",
    [
        "https://myapps.microsoft.com/?tenantid=04dcc6ab shows nothing, should I redeem it?",
        "https://login.microsoftonline.com/common says redeem your invitation first",
        "how do I redeem the invitation from invitations.microsoft.com?",
    ],
)
def test_other_microsoft_links_and_the_word_redeem_are_kept(question: str) -> None:
    assert redact(question) == question
