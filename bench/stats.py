"""Figures over timestamps: percentiles, latency summaries, poll cadence, sliding-window counts."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass
from typing import TypeVar

NAN = float("nan")
Request = TypeVar("Request")


def percentile(sorted_values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    if not sorted_values:
        return NAN
    rank = max(1, min(len(sorted_values), int(-(-q * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def latency_line(lat: Sequence[float]) -> str:
    return (f"p50={percentile(lat, 50):.3f}  p90={percentile(lat, 90):.3f}  p99={percentile(lat, 99):.3f}  "
            f"max={lat[-1] if lat else NAN:.3f}  min={lat[0] if lat else NAN:.3f}")


def gap_line(gaps: Sequence[float]) -> str:
    return (f"p50={percentile(gaps, 50):.3f}s p99={percentile(gaps, 99):.3f}s "
            f"max={gaps[-1] if gaps else NAN:.3f}s")


def verdict(ok: bool | None) -> str:
    return "-" if ok is None else ("PASS" if ok else "MISS")


def max_in_window(times: Sequence[float], window: float) -> int:
    """Most requests in any sliding window (t - window, t], times ascending."""
    best = lo = 0
    for hi, t in enumerate(times):
        while times[lo] <= t - window:
            lo += 1
        best = max(best, hi - lo + 1)
    return best


def consecutive_gaps(times_by_key: dict[Hashable, list[float]]) -> list[float]:
    """Ascending gaps between consecutive times of each key (times in arrival order)."""
    return sorted(b - a for times in times_by_key.values() for a, b in zip(times, times[1:]))


def times_by(requests: Iterable[Request], key: Callable[[Request], Hashable],
             at: Callable[[Request], float]) -> dict[Hashable, list[float]]:
    grouped: dict[Hashable, list[float]] = defaultdict(list)
    for request in requests:
        grouped[key(request)].append(at(request))
    return grouped


def route_counts(requests: Iterable[Request], route: Callable[[Request], str]) -> str:
    """ "GET /x: 12, POST /y: 3", most frequent first."""
    return ", ".join(f"{path}: {n}" for path, n in Counter(route(r) for r in requests).most_common())


@dataclass(frozen=True)
class Cadence:
    """How regularly each account was polled during the SMS phase (one request per tick is the aim)."""

    requests: int
    per_tick: list[float]  # per account: its poll requests / the phase's intervals
    gaps: list[float]  # ascending; ~1 interval each, ~2 = a skipped tick
    skipped: int  # gaps over 1.5 intervals

    @property
    def mean(self) -> float:
        return sum(self.per_tick) / len(self.per_tick) if self.per_tick else NAN

    @property
    def max(self) -> float:
        return max(self.per_tick, default=NAN)

    @property
    def min(self) -> float:
        return min(self.per_tick, default=NAN)

    def within(self, per_tick_target: float) -> bool:
        return bool(self.per_tick) and self.max <= per_tick_target * 1.05


def cadence(poll_times: dict[Hashable, list[float]], accounts: Sequence[Hashable], intervals: float,
            poll_interval: float) -> Cadence:
    """poll_times: account -> monotonic times of its poll requests inside the SMS phase."""
    per_tick = [len(poll_times.get(account, [])) / intervals for account in accounts]
    gaps = consecutive_gaps(poll_times)
    return Cadence(sum(len(t) for t in poll_times.values()), per_tick, gaps,
                   sum(1 for g in gaps if g > 1.5 * poll_interval))


def cadence_lines(polls: Cadence, *, label: str, noun: str, seconds: float, intervals: float, accounts: int,
                  context: str = "") -> list[str]:
    """The rate line and the regularity line of one provider's polls (`noun`: "list GETs")."""
    return [
        f"{label + ' ' + noun + '/acct/tick':<20} mean={polls.mean:.3f}  max={polls.max:.3f}  min={polls.min:.3f}   "
        f"({polls.requests} {noun} in {seconds:.1f}s = {intervals:.1f} intervals, {accounts} accounts{context})",
        f"{label + ' poll regularity':<20} gap between an account's {noun} {gap_line(polls.gaps)}; "
        f"gaps > 1.5 intervals (skipped ticks): {polls.skipped}",
    ]
