"""What a save changes in the points a metric already has, and the check of it.

A soft refresh (or a create over an existing series) upserts points on their date and
dimensions. Where a new value lands on a stored one and differs, either the source revised its
history or the transformer now means something else (a count became a sum, a unit changed):
the chart changes its past without anyone having asked. The refresh still saves (the source
is the truth the user chose), and the `overlap_agrees` check says so, with examples.

A series' latest stored period is left out of the comparison: today's commits or this month's
signups are still filling up, so a new value there is the period growing, not a revision.
"""

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from typing import Any

from orbit_dagster.store.records import Point, iso

SHOWN = 5  # changed points listed in the record and the check's metadata
# Floats written and read back through JSON and two databases: equal within this.
RELATIVE_TOLERANCE = 1e-9


def compare(
    stored: Mapping[tuple[dt.datetime, str], float],
    latest: Mapping[str, dt.datetime],
    new_points: Sequence[Point],
    run_id: str,
) -> dict[str, Any]:
    """The revision record of a save: how many stored values the new points land on
    (`compared`, each series' latest stored period excluded), how many of them change
    (`changed`), and the first few changes, as JSON for the metric's row."""
    compared = 0
    changes = []
    for point in new_points:
        key = (point.ts, point.dimensions_key)
        old = stored.get(key)
        if old is None or latest.get(point.dimensions_key) == point.ts:
            continue
        compared += 1
        if not math.isclose(old, point.value, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12):
            changes.append((point, old))
    changes.sort(key=lambda change: change[0].ts)
    return {
        "run_id": run_id,
        "compared": compared,
        "changed": len(changes),
        "examples": [
            f"{iso(point.ts)}{_series(point)}: {old:g} → {point.value:g}"
            for point, old in changes[:SHOWN]
        ],
    }


def not_compared(run_id: str, reason: str) -> dict[str, Any]:
    """The revision record of a save that replaced the series rather than updating it."""
    return {"run_id": run_id, "compared": 0, "changed": 0, "examples": [], "note": reason}


def describe(revision: Mapping[str, Any]) -> str:
    """One line for the step log and the check."""
    if "note" in revision:
        return f"stored values not compared: {revision['note']}"
    compared, changed = revision["compared"], revision["changed"]
    if not compared:
        return "no stored value overlapped the new points (a series' latest period aside)"
    if not changed:
        return f"{compared} stored values overlapped, none changed"
    return (
        f"{changed} of {compared} stored values changed (the source revised its history or "
        f"the transformer changed meaning); first: {'; '.join(revision['examples'][:2])}"
    )


def _series(point: Point) -> str:
    if not point.dimensions:
        return ""
    return " [" + ", ".join(f"{k}={v}" for k, v in sorted(point.dimensions.items())) + "]"
