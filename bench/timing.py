"""Repeated runs and their medians (and percentiles), in milliseconds."""

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Timed:
    runs: list[float]  # milliseconds, in the order run
    result: Any  # what the last run returned

    @property
    def median(self) -> float:
        return statistics.median(self.runs)

    def percentile(self, p: float) -> float:
        """Nearest-rank percentile (p in 0..100)."""
        ordered = sorted(self.runs)
        rank = max(1, min(len(ordered), round(p / 100 * len(ordered) + 0.5)))
        return ordered[rank - 1]

    def summary(self) -> dict[str, Any]:
        return {
            "median_ms": round(self.median, 3),
            "p95_ms": round(self.percentile(95), 3),
            "min_ms": round(min(self.runs), 3),
            "runs": len(self.runs),
        }


def repeat(run: Callable[[], Any], times: int, *, warmup: int = 2) -> Timed:
    """Run `warmup` untimed times, then `times` timed times."""
    result = None
    for _ in range(warmup):
        result = run()
    runs = []
    for _ in range(times):
        started = time.perf_counter()
        result = run()
        runs.append((time.perf_counter() - started) * 1000)
    return Timed(runs, result)
