"""One `register(app, runtime)` module per kind of Slack request: commands, events, actions."""


def shared(channel: str | None) -> str | None:
    """The channel a command or a press came from, or None from the person's direct messages with the bot
    (`D...`): a direct message is to the conversation itself, not a channel where a migration runs."""
    return None if channel is None or channel.startswith("D") else channel
