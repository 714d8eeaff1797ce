"""Chat surfaces: the platform-neutral conversation layer, the console, Slack; and the command line."""
