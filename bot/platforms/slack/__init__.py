"""Slack: the same commands and reminders, answered with Block Kit from the neutral reply."""
