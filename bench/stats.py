"""Medians, tails and ratios of measured samples."""

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q`` quantile (0..1) with linear interpolation between the closest ranks."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q
    low, high = math.floor(position), math.ceil(position)
    weight = position - low
    return ordered[low] * (1 - weight) + ordered[high] * weight


@dataclass(frozen=True)
class Summary:
    """The median, the 99th percentile and the worst of a sample."""

    n: int
    p50: float
    p99: float
    max: float


def summarize(values: Sequence[float]) -> Summary:
    """Summarize ``values`` (at least one)."""
    return Summary(len(values), percentile(values, 0.5), percentile(values, 0.99), max(values))


def median(values: Sequence[float]) -> float:
    """The median of ``values`` (at least one)."""
    return statistics.median(values)


def ratio(ours: float | None, baseline: float | None) -> float | None:
    """``ours / baseline``, or ``None`` when it is undefined."""
    if ours is None or baseline is None or baseline <= 0:
        return None
    return ours / baseline
