"""The Microsoft Teams surface: `POST /api/messages`, Adaptive Cards, proactive 1:1 messages, app package."""
