"""The Slack surface: bolt (async) listeners that drive the platform-neutral conversation.

Nothing is imported here: `aadbot` registers its `serve` command from `bot.slack.commands`, which must not
bring bolt and aiohttp to the commands that do not serve."""
