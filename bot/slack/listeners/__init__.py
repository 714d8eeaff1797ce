"""One `register(app, runtime)` module per kind of Slack request: commands, events, actions."""
