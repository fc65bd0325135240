"""briefbot's benchmarks: our bot against minimal discord.py and slack_bolt bots, side by side.

Run it from the project root with ``python -m bench`` (``--quick`` for a run under a minute).
Every benchmark that has a baseline runs our bot and the baseline in the same run, as
subprocesses, against the loopback Discord and Slack stand-ins of ``standins``, and
reports the ratio ours/baseline. Results and how to read them: ``docs/benchmarks.md``.
"""
