"""The benchmark's goals and the latency floor of a run (pure: no I/O).

The latency floor of a run with added latency is what the latency alone costs if nothing else
took time: its Salesforce calls one after the other, its write-back PUTs `writeback_concurrency`
at a time, plus the SDK floor (no-op SDK tap | no-op SDK target) measured in the same invocation.
The ratio wall / floor is comparable across loaded machines where absolute times are not. Issue 9
defined the floor before the write-back read each participant before its PUT (issue 10 class 6), so
each run also gets the floor counting those GETs like the PUTs: every request the write-back makes.
"""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_WRITEBACK_CONCURRENCY = 16  # the target's default (target_salesforce_campaign.writeback)


@dataclass
class Goal:
    goal: str
    measured: str
    met: bool | None  # None: not measured in this run


def latency_floor_s(salesforce_calls: int, writeback_puts: int, latency_ms: int, sdk_floor_s: float,
                    concurrency: int = DEFAULT_WRITEBACK_CONCURRENCY) -> float:
    """Sequential Salesforce calls x latency + PUTs / concurrency x latency + the SDK floor."""
    latency_s = latency_ms / 1000
    return round(salesforce_calls * latency_s + writeback_puts / concurrency * latency_s + sdk_floor_s, 2)


def add_latency_floors(results: list, concurrency: int) -> None:
    """Each run with added latency: its latency floors (SDK floor of its size from the same invocation),
    without and with the write-back's GETs, and wall / floor for each."""
    floors = {m.participants: m.wall_s for m in results if m.scenario == "sdk-floor" and m.exit_code == 0}
    for m in results:
        if m.latency_ms and m.participants in floors:
            m.latency_floor_s = latency_floor_s(m.salesforce_calls, m.eventmaker_writes, m.latency_ms,
                                                floors[m.participants], concurrency)
            m.wall_to_floor = round(m.wall_s / m.latency_floor_s, 2)
            m.floor_with_reads_s = latency_floor_s(m.salesforce_calls, m.eventmaker_writes + m.writeback_reads,
                                                   m.latency_ms, floors[m.participants], concurrency)
            m.wall_to_floor_with_reads = round(m.wall_s / m.floor_with_reads_s, 2)


def find(results: list, scenario: str, participants: int | None = None, latency: int | None = None):
    return next((m for m in results if m.scenario == scenario and m.exit_code == 0
                 and (participants is None or m.participants == participants)
                 and (latency is None or m.latency_ms == latency)), None)


def _calls_goal(results: list, scenario: str, limit: float, label: str) -> Goal:
    m = find(results, scenario)
    return Goal(f"<= {limit:g} Salesforce calls per 1,000 {label}",
                f"{m.salesforce_calls_per_1000} at N={m.participants} ({m.salesforce_calls} calls)" if m else "not measured",
                m.salesforce_calls_per_1000 <= limit if m else None)


def _unchanged_goal(results: list) -> Goal:
    unchanged = [m for m in results if m.scenario in ("unchanged", "seeded-unchanged") and m.exit_code == 0]
    writes = sum(m.salesforce_writes + m.eventmaker_writes for m in unchanged)
    most_calls = max((m.salesforce_calls for m in unchanged), default=0)
    return Goal("an unchanged re-run makes 0 writes and <= 1 Salesforce call",
                f"{writes} writes, at most {most_calls} call(s), over {len(unchanged)} unchanged runs",
                writes == 0 and most_calls <= 1 if unchanged else None)


def _ratio_goal(results: list, participants: int, latency_ms: int, limit: float) -> Goal:
    m = find(results, "new", participants, latency_ms)
    return Goal(f"{participants:,} new at {latency_ms} ms: wall / latency floor <= {limit:g}",
                f"{m.wall_s} s / {m.latency_floor_s} s = {m.wall_to_floor}" if m and m.wall_to_floor else "not measured",
                m.wall_to_floor <= limit if m and m.wall_to_floor else None)


def _ratio_with_reads_goal(results: list, participants: int, latency_ms: int, limit: float) -> Goal:
    m = find(results, "new", participants, latency_ms)
    ratio = m.wall_to_floor_with_reads if m else None
    return Goal(f"{participants:,} new at {latency_ms} ms: wall / latency floor counting the write-back's GETs <= {limit:g}",
                f"{m.wall_s} s / {m.floor_with_reads_s} s = {ratio}" if ratio else "not measured",
                ratio <= limit if ratio else None)


def _wall_goal(results: list) -> Goal:
    m = find(results, "new", 10_000, 50)
    return Goal("10k new participants at 50 ms in under 60 s", f"{m.wall_s} s" if m else "not measured",
                m.wall_s < 60 if m else None)


def _idle_goal(results: list) -> Goal:
    largest = max((m.participants for m in results if m.scenario == "unchanged" and m.exit_code == 0), default=None)
    idle, floor = find(results, "unchanged", largest, 0), find(results, "sdk-floor", largest)
    return Goal(f"{largest or '100k'} unchanged in at most 2x the SDK floor",
                f"{idle.wall_s} s vs floor {floor.wall_s} s ({idle.wall_s / floor.wall_s:.2f}x)" if idle and floor
                else "not measured", idle.wall_s <= 2 * floor.wall_s if idle and floor else None)


def _memory_goal(results: list) -> Goal:
    peaks = sorted(((m.participants, m.target_peak_rss_mb) for m in results
                    if m.scenario == "new" and m.target_peak_rss_mb), key=lambda p: p[0])
    if not peaks:
        return Goal("target peak RSS <= 300 MB and flat as N grows", "not measured", None)
    (_, small_mb), (_, big_mb) = peaks[0], peaks[-1]
    return Goal("target peak RSS <= 300 MB and flat as N grows (largest <= 1.5x smallest)",
                ", ".join(f"{n}: {mb} MB" for n, mb in peaks), big_mb <= 300 and big_mb <= 1.5 * small_mb)


def evaluate(results: list) -> list[Goal]:
    """Each goal (issues 6 and 9) against what this run measured."""
    return [
        _calls_goal(results, "new", 16, "new plain participants (floor 15)"),
        _calls_goal(results, "seeded-new", 25, "participants of the seeded special-case data"),
        _unchanged_goal(results),
        _ratio_goal(results, 10_000, 50, 1.25),
        _ratio_with_reads_goal(results, 10_000, 50, 1.25),
        _wall_goal(results),
        _idle_goal(results),
        _memory_goal(results),
    ]
