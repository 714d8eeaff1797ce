"""The Slack surface: bolt (async) listeners that drive the platform-neutral conversation."""

from bot.slack.app import build_web_client, create_app
from bot.slack.http import create_asgi
from bot.slack.state import DatabaseSlackState, InMemorySlackState, MessageCopy, SlackState

__all__ = [
    "DatabaseSlackState",
    "InMemorySlackState",
    "MessageCopy",
    "SlackState",
    "build_web_client",
    "create_app",
    "create_asgi",
]
