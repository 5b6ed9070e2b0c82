"""Benchmarks (`make bench`): speed and size, measured outside the test suite."""
from __future__ import annotations

import time
from collections.abc import Callable
from statistics import median  # not `import statistics`: the submodule bench.statistics takes that name here


def timed(fn: Callable[[], object], repeat: int) -> tuple[float, float]:
    """Median and 95th percentile in milliseconds of `repeat` calls of `fn`."""
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    samples.sort()
    return median(samples), samples[int(len(samples) * 0.95) - 1]
