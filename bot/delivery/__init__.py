"""Delivering the outbox, platform-neutral: a paced worker, exactly once across crashes, and reminders.

Nothing is imported here: `bot.settings` reads `bot.delivery.settings`, and every `aadbot` command
imports the settings, so the package must not bring the worker, the database and the workflows along."""
