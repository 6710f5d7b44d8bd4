"""A metric in the store claimed by a run, as a refresh claims it before it saves: shared by
the store tests and `bench/save_points.py` (save_points refuses a run without the lock)."""

from orbit_dagster.refresh.plan import plan
from orbit_dagster.store import Store

RUN = "run-1"


def claim(store: Store, metric_id: str, run_id: str = RUN, active=lambda _run: True) -> None:
    store.refresh_log.begin(
        metric_id,
        run_id,
        pipeline_name="refresh_metric_job",
        mode="create",
        plan=plan("create"),
        is_run_active=active,
    )


def add_claimed_metric(store: Store, metric_id: str = "m1", run_id: str = RUN) -> str:
    store.add_metric(metric_id, name="Metric one", template="file", config={"path": "x.json"})
    claim(store, metric_id, run_id)
    return metric_id
