"""How much work each benchmark does: the full suite, and the quick one (under a minute)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class Counts:
    """The sizes of one suite run."""

    interactions: int  # per command, per mode (sequential, concurrent), per bot
    block: int  # sequential interactions per bot before switching to the other bot
    warmup: int  # unmeasured interactions per command and bot before measuring
    memory_interactions: int  # interactions per bot in the memory benchmark
    memory_step: int  # RSS is sampled after every this many interactions
    startups: int  # start-ups per bot
    channels: tuple[int, ...]  # fan-out sizes; the last is the headline
    fanout_runs: int  # runs of the headline fan-out size
    burst_channels: int  # channels in the per-channel case
    burst_reminders: int  # reminders due at once in each of them
    large_channels: tuple[int, ...]  # sizes of the large fan-out case (CPU per post, RSS)
    briefs: tuple[int, ...]  # brief-set sizes; the last is the headline
    brief_repeats: int  # timed repetitions per brief-set size (the median is reported)
    slack_channels: tuple[int, ...]  # Slack post sizes (reminder fan-out); the last is the headline
    scale_channels: int = 50_000  # channels named in the settings at a start (the headline)


FULL = Counts(
    interactions=1000,
    block=100,
    warmup=30,
    memory_interactions=10_000,
    memory_step=1000,
    startups=10,
    channels=(10, 100, 1000),
    fanout_runs=5,
    burst_channels=5,
    burst_reminders=8,
    large_channels=(1000, 10_000),
    briefs=(1, 10, 100, 1000),
    brief_repeats=5,
    slack_channels=(10, 50),
)

QUICK = Counts(
    interactions=200,
    block=50,
    warmup=10,
    memory_interactions=2000,
    memory_step=400,
    startups=3,
    channels=(10, 100),
    fanout_runs=2,
    burst_channels=2,
    burst_reminders=7,
    large_channels=(50, 500),
    briefs=(1, 10, 100),
    brief_repeats=3,
    slack_channels=(10,),
    scale_channels=2_000,
)
