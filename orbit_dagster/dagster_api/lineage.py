"""The code location's topology, read from the loaded definitions (never a hand-kept list):
the flows, stages, dependencies and lineage the old monitor served, for `orbit lineage`.

Nodes: assets (the external systems and tables among them), jobs, their ops (the steps of a
graph-backed asset nested under it), schedules and sensors. Edges: an asset feeds the assets
that depend on it; a job materializes its assets (or, when its op logs them at run time like
the batch job, reports them, as its `REPORTS` metadata says) and runs its ops; an op is
followed by the ops that take its output; a schedule or sensor starts its job.
"""

from typing import Any

import dagster as dg

from orbit_dagster.dagster_api import HIDDEN_JOB_PREFIX

# Dagster's metadata key naming the table an asset is stored in (shown as its storage).
TABLE_NAME = "dagster/table_name"
# A job's metadata key listing the assets its op logs materializations of at run time: its
# asset layer cannot know them, and the lineage would otherwise show the job feeding nothing.
REPORTS = "orbit/reports_materializations"


def lineage(repository: dg.RepositoryDefinition) -> dict[str, list[dict[str, Any]]]:
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, str]] = []
    graph = repository.asset_graph
    for key in sorted(graph.get_all_asset_keys()):
        asset = graph.get(key)
        nodes.append(
            {
                "id": f"asset:{key.to_user_string()}",
                "type": "asset" if asset.is_materializable else "external",
                "group": asset.group_name,
                "kinds": sorted(asset.kinds),
                "table": asset.metadata.get(TABLE_NAME),
                "description": asset.description or "",
            }
        )
        edges.extend(
            _edge(f"asset:{parent.to_user_string()}", f"asset:{key.to_user_string()}", "feeds")
            for parent in sorted(asset.parent_keys)
        )
    for job in repository.get_all_jobs():
        if job.name.startswith(HIDDEN_JOB_PREFIX):
            continue
        job_id = f"job:{job.name}"
        nodes.append({"id": job_id, "type": "job", "description": job.description or ""})
        # The asset layer is how a job knows the assets it materializes (asset jobs only).
        edges.extend(
            _edge(job_id, f"asset:{key.to_user_string()}", "materializes")
            for key in sorted(job.asset_layer.executable_asset_keys)
        )
        reported = job.metadata.get(REPORTS)
        if isinstance(reported, dg.JsonMetadataValue) and isinstance(reported.value, list):
            edges.extend(_edge(job_id, f"asset:{key}", "reports") for key in reported.value)
        _ops(job.graph, job_id, f"op:{job.name}:", nodes, edges)
    for instigator, kind in (
        *((schedule, "schedule") for schedule in repository.schedule_defs),
        *((sensor, "sensor") for sensor in repository.sensor_defs),
    ):
        nodes.append(
            {
                "id": f"{kind}:{instigator.name}",
                "type": kind,
                "description": instigator.description or "",
            }
        )
        jobs = (
            [instigator.job_name]
            if isinstance(instigator, dg.ScheduleDefinition)
            else [target.job_name for target in instigator.targets]
        )
        edges.extend(_edge(f"{kind}:{instigator.name}", f"job:{job}", "starts") for job in jobs)
    return {"nodes": nodes, "edges": edges}


def _ops(
    graph: dg.GraphDefinition,
    parent_id: str,
    prefix: str,
    nodes: list[dict[str, Any]],
    edges: list[dict[str, str]],
) -> None:
    """The graph's ops under `parent_id`, their order, and the ops of nested graphs."""
    for node in graph.nodes:
        op_id = f"{prefix}{node.name}"
        nodes.append({"id": op_id, "type": "op", "description": node.definition.description or ""})
        edges.append(_edge(parent_id, op_id, "runs"))
        if isinstance(node.definition, dg.GraphDefinition):
            _ops(node.definition, op_id, f"{op_id}.", nodes, edges)
    for invocation, inputs in graph.dependencies.items():
        downstream = f"{prefix}{invocation.alias or invocation.name}"
        for dependency in inputs.values():
            for upstream in _upstream_nodes(dependency):
                edges.append(_edge(f"{prefix}{upstream}", downstream, "then"))


def _upstream_nodes(dependency: Any) -> list[str]:
    """The names of the ops an input takes from: one, or several for a fan-in."""
    if isinstance(dependency, dg.MultiDependencyDefinition):
        return [d.node for d in dependency.dependencies if isinstance(d, dg.DependencyDefinition)]
    return [dependency.node] if isinstance(dependency, dg.DependencyDefinition) else []


def _edge(source: str, target: str, kind: str) -> dict[str, str]:
    return {"from": source, "to": target, "type": kind}
