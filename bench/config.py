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
    briefs: tuple[int, ...]  # brief-set sizes; the last is the headline
    brief_repeats: int  # timed repetitions per brief-set size (the median is reported)
    slack_channels: tuple[int, ...]  # Slack post sizes (reminder fan-out); the last is the headline


FULL = Counts(
    interactions=1000,
    block=100,
    warmup=30,
    memory_interactions=10_000,
    memory_step=1000,
    startups=10,
    channels=(10, 100, 1000),
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
    briefs=(1, 10, 100),
    brief_repeats=3,
    slack_channels=(10,),
)
