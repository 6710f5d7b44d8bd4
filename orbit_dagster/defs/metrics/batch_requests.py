"""Run requests for batches of metrics, shared by the catalog sensor and the schedules."""

import hashlib
from collections.abc import Sequence

import dagster as dg

from orbit_dagster.refresh.jobs import BATCH_JOB, BATCH_TAG, MODE_TAG, batch_run_config
from orbit_dagster.refresh.modes import Mode


def batch_run_requests(
    metric_ids: Sequence[str], *, mode: Mode, batch_size: int, key: str
) -> list[dg.RunRequest]:
    """One `refresh_metrics_batch_job` run per `batch_size` metrics, in order.

    The run key is `key` plus a digest of the batch's ids: the same request made twice (a
    sensor tick evaluated again) is launched once.
    """
    requests = []
    for start in range(0, len(metric_ids), batch_size):
        batch = list(metric_ids[start : start + batch_size])
        digest = hashlib.sha256("\n".join(batch).encode()).hexdigest()[:16]
        requests.append(
            dg.RunRequest(
                run_key=f"{key}:{mode}:{digest}",
                job_name=BATCH_JOB,
                run_config=batch_run_config(batch, mode),
                tags={MODE_TAG: mode, BATCH_TAG: f"{batch[0]}..{batch[-1]} ({len(batch)})"},
            )
        )
    return requests
