"""The console surface: `aadbot chat` and `aadbot demo` speak through the same handlers as Slack."""
