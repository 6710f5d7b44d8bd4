"""Whether a metric's series is fresh: refreshed successfully within two of its schedule's
intervals (its own cron, else the default refresh schedule's).

Dagster 1.13's freshness policies judge an asset by its latest materialization of *any*
partition (`TimeWindowFreshnessPolicyEvaluator` reads the asset record's last materialization),
so on `metric_points` one fresh metric would hide a thousand stale ones. The per-metric
judgement is this function: `pipeline_health` (every 15 minutes) reports it as each partition's
`fresh` check, `orbit stats` counts it, `orbit metrics show` prints it. The assets that are one
partition each (`pipeline_health`) carry Dagster's own `FreshnessPolicy`.
"""

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from croniter import croniter

# Stale after this many refresh intervals without a successful refresh: one missed refresh
# can be a slow queue, two are a broken one.
STALE_INTERVALS = 2


@dataclass(frozen=True)
class Staleness:
    stale: bool
    # The last successful refresh (else the metric's creation: a new metric is not stale
    # before it has had its chance), and the interval its schedule promises.
    since: dt.datetime | None
    ever_refreshed: bool
    interval: dt.timedelta
    cron: str


def staleness(
    metric: Mapping[str, Any],
    *,
    default_cron: str,
    now: dt.datetime,
    refreshed_at: dt.datetime | None = None,
) -> Staleness:
    """The metric's freshness at `now`; `refreshed_at` is a refresh the row does not show yet
    (the run checking its own save)."""
    cron = metric.get("schedule") or default_cron
    interval = cron_interval(cron, now)
    refreshed = refreshed_at or moment(metric.get("last_fetched_at"))
    since = refreshed or moment(metric.get("created_at"))
    stale = since is not None and now - since > STALE_INTERVALS * interval
    return Staleness(
        stale=stale, since=since, ever_refreshed=refreshed is not None, interval=interval, cron=cron
    )


def cron_interval(cron: str, now: dt.datetime) -> dt.timedelta:
    """The time from the last fire of `cron` before `now` to the fire after it (UTC)."""
    previous = croniter(cron, now).get_prev(dt.datetime)
    return croniter(cron, previous).get_next(dt.datetime) - previous


def moment(value: Any) -> dt.datetime | None:
    """A store timestamp (naive UTC datetime, or ISO text) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
