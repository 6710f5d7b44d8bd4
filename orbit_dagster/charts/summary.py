"""The facts shown beside a chart: how many points, from when to when, the latest value and
its change against the date before it (summed over series when the metric has several).

A total over series is taken only on dates every series reports: when one series is a day
behind the others, the last date's sum would be a partial total compared with a full one,
a plausible wrong number. So the latest value is that of the last *complete* date (named in
`value_date` when it is not the last date), and no total is given when no date is complete."""

import math
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class SeriesSummary:
    points: int
    series: int
    first_date: str | None
    last_date: str | None
    last_value: float | None  # the total over series on the last date they all report
    previous_value: float | None  # the same total on the complete date before
    value_date: str | None  # the date of last_value
    change: float | None  # (last - previous) / |previous|; None without a non-zero previous

    def as_metadata(self) -> dict[str, Any]:
        """Plain JSON values, one per fact; absent facts are left out rather than None."""
        facts = {
            "points": self.points,
            "series": self.series,
            "first_date": self.first_date,
            "last_date": self.last_date,
            "value_date": self.value_date if self.value_date != self.last_date else None,
            "last_value": self.last_value,
            "change_vs_previous": self.change,
        }
        return {key: value for key, value in facts.items() if value is not None}


def summarize(points: list[dict[str, Any]]) -> SeriesSummary:
    """Facts of points as the store returns them (`date` ISO text, `value`, `dimensions`)."""
    totals: dict[str, float] = {}
    reporting: dict[str, set[tuple]] = {}
    series = set()
    for point in points:
        key = tuple(sorted((point.get("dimensions") or {}).items()))
        series.add(key)
        totals[point["date"]] = totals.get(point["date"], 0.0) + point["value"]
        reporting.setdefault(point["date"], set()).add(key)
    dates = sorted(totals)  # ISO 8601 UTC text sorts in time order
    complete = [date for date in dates if len(reporting[date]) == len(series)]
    last = totals[complete[-1]] if complete else None
    previous = totals[complete[-2]] if len(complete) > 1 else None
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
        value_date=complete[-1] if complete else None,
        change=change,
    )
