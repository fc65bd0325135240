"""Exactly-once reminder delivery: the ledger of claims and posts, and channel subscriptions."""
