"""What the code location defines, as rows for the Orbit store's `pipelines` mirror."""

from typing import Any

import dagster as dg

# Dagster's hidden jobs for ad-hoc asset runs are not pipelines a user defined.
HIDDEN_JOB_PREFIX = "__"


def pipeline_entries(
    repository: dg.RepositoryDefinition, instance: dg.DagsterInstance
) -> list[dict[str, Any]]:
    """Jobs, assets, schedules and sensors with descriptions and whether they run."""
    # Toggled in the UI: RUNNING / STOPPED; never toggled: absent or DECLARED_IN_CODE, in
    # which case the code's default status holds. (Compared by value: InstigatorStatus is
    # not part of Dagster's public API.)
    states = {state.name: state.status.value for state in instance.all_instigator_state()}

    def running(name: str, default: Any) -> bool:
        status = states.get(name, "DECLARED_IN_CODE")
        if status == "DECLARED_IN_CODE":
            return default.value == "RUNNING"
        return status == "RUNNING"

    entries = [
        {
            "name": job.name,
            "kind": "job",
            "description": job.description or "",
            "schedule": None,
            "is_active": True,
        }
        for job in repository.get_all_jobs()
        if not job.name.startswith(HIDDEN_JOB_PREFIX)
    ]
    entries += [
        {
            "name": key.to_user_string(),
            "kind": "asset",
            "description": repository.asset_graph.get(key).description or "",
            "schedule": None,
            "is_active": True,
        }
        for key in sorted(repository.asset_graph.get_all_asset_keys())
    ]
    entries += [
        {
            "name": schedule.name,
            "kind": "schedule",
            "description": schedule.description or "",
            "schedule": str(schedule.cron_schedule),
            "is_active": running(schedule.name, schedule.default_status),
        }
        for schedule in repository.schedule_defs
    ]
    entries += [
        {
            "name": sensor.name,
            "kind": "sensor",
            "description": sensor.description or "",
            "schedule": None,
            "is_active": running(sensor.name, sensor.default_status),
        }
        for sensor in repository.sensor_defs
    ]
    return entries
