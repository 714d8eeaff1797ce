"""What bolt logs, made fit for a production log: no request bodies, no advice meant for its own examples.

Bolt copies the filters of the logger it is given onto every logger it makes, so one filter on the
app's logger covers its middleware too.
"""

from __future__ import annotations

import logging

_BODY_BEARING = ("Unhandled request (", "Invalid request signature detected")
"""Bolt's messages that quote a request's body (people's messages, or whatever an attacker sent)."""
_NOISE = ("As you gave `client` as well, `token` will be unused",)
"""Said because SLACK_BOT_TOKEN is in the environment although the client already carries it."""


class _QuietBolt(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        if message.startswith(_NOISE):
            return False
        for start in _BODY_BEARING:
            if message.startswith(start):
                record.msg, record.args = f"{start.rstrip(' (')} (body not logged)", None
        return True


def quiet_bolt(logger: logging.Logger) -> None:
    if not any(isinstance(existing, _QuietBolt) for existing in logger.filters):
        logger.addFilter(_QuietBolt())


def without_bodies(name: str) -> logging.Logger:
    """slack_sdk's logger `name`, kept above DEBUG: there the Web API client logs each request's and answer's
    body, and the Socket Mode client each message it receives, with people's words and links only one person
    may see (an invitation's own link to accept it)."""
    logger = logging.getLogger(name)
    logger.setLevel(logging.INFO)
    return logger
