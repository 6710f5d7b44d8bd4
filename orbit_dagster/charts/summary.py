"""The facts shown beside a chart: how many points, from when to when, the latest value and
its change against the date before it (summed over series when the metric has several)."""

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SeriesSummary:
    points: int
    series: int
    first_date: str | None
    last_date: str | None
    last_value: float | None  # the total over series on the last date
    previous_value: float | None  # the same total on the date before
    change: float | None  # (last - previous) / |previous|; None without a non-zero previous

    def as_metadata(self) -> dict[str, Any]:
        """Plain JSON values, one per fact; absent facts are left out rather than None."""
        facts = {
            "points": self.points,
            "series": self.series,
            "first_date": self.first_date,
            "last_date": self.last_date,
            "last_value": self.last_value,
            "change_vs_previous": self.change,
        }
        return {key: value for key, value in facts.items() if value is not None}


def summarize(points: list[dict[str, Any]]) -> SeriesSummary:
    """Facts of points as the store returns them (`date` ISO text, `value`, `dimensions`)."""
    totals: dict[str, float] = {}
    series = set()
    for point in points:
        totals[point["date"]] = totals.get(point["date"], 0.0) + point["value"]
        series.add(tuple(sorted((point.get("dimensions") or {}).items())))
    dates = sorted(totals)  # ISO 8601 UTC text sorts in time order
    last = totals[dates[-1]] if dates else None
    previous = totals[dates[-2]] if len(dates) > 1 else None
    change = None
    if last is not None and previous:
        change = (last - previous) / abs(previous)
        change = change if math.isfinite(change) else None
    return SeriesSummary(
        points=len(points),
        series=len(series),
        first_date=dates[0] if dates else None,
        last_date=dates[-1] if dates else None,
        last_value=last,
        previous_value=previous,
        change=change,
    )
