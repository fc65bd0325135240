"""The local console: a terminal chat that needs no account and no network."""
