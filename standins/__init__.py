"""Loopback stand-ins for the chat platforms briefbot talks to, used by the tests."""
