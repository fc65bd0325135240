"""briefbot: a chat bot that turns a news article into a checked briefing."""

__version__ = "0.1.0"
