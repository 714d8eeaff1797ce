"""One `register(app, runtime)` module per kind of Slack request: commands, events, actions."""

from __future__ import annotations

from bot.slack.delivery import Origin


def shared(channel: str | None) -> str | None:
    """The channel a command or a press came from, or None from the person's direct messages with the bot
    (`D...`): a direct message is to the conversation itself, not a channel where a migration runs."""
    return None if channel is None or channel.startswith("D") else channel


def asked_in(origin: Origin) -> str | None:
    """Where a long step's progress line goes: the channel the person spoke in, or for a direct message
    the bot's own with them, by their user id (the sender opens it): a slash command typed in a direct
    message with someone else comes with that conversation, where the bot cannot post. None from the App
    Home, which shows no message."""
    channel = origin.channel
    return origin.user_id if channel is not None and channel.startswith("D") else channel
