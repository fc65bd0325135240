"""Loopback stand-ins for Discord and Slack, used by the tests and the benchmarks.

What each models and refuses, and the wire facts they rely on: ``docs/standins.md``.
"""
