"""`orbit lineage --json`: the topology from the loaded definitions, against its contract."""

import json

from orbit_dagster.refresh.table import STEPS
from orbit_dagster.sources.templates import SYSTEMS


def test_lineage_shows_sources_tables_jobs_steps_and_triggers(run_orbit):
    result = run_orbit("lineage", "--json")
    assert result.returncode == 0, result.stderr
    topology = json.loads(result.stdout)
    nodes = {node["id"]: node for node in topology["nodes"]}
    assert len(nodes) == len(topology["nodes"])  # ids are unique
    edges = {(edge["from"], edge["type"], edge["to"]) for edge in topology["edges"]}
    assert all(a in nodes and b in nodes for a, _, b in edges)  # no edge to nowhere

    for system in SYSTEMS:
        source = f"asset:sources/{system}"
        assert nodes[source]["type"] == "external" and nodes[source]["kinds"] == [system]
        assert (source, "feeds", "asset:metric_points") in edges
    assert nodes["asset:metric_points"]["table"] == "metric_data_points"
    assert ("asset:documents/veryfi", "feeds", "asset:documents/veryfi_documents") in edges
    assert ("job:refresh_metric_job", "materializes", "asset:metric_points") in edges
    # The batch job logs its materializations at run time: shown as what it reports.
    for asset in ("metric_points", "metric_chart"):
        assert ("job:refresh_metrics_batch_job", "reports", f"asset:{asset}") in edges
    # The nine steps, in order, under the refresh's graph.
    prefix = "op:refresh_metric_job:metric_refresh."
    ops = [step.op_name for step in STEPS]
    for upstream, downstream in zip(ops, ops[1:], strict=False):
        assert (f"{prefix}{upstream}", "then", f"{prefix}{downstream}") in edges
    assert ("op:refresh_metric_job:metric_refresh", "runs", f"{prefix}{ops[0]}") in edges
    assert ("schedule:default_refresh_schedule", "starts", "job:refresh_metrics_batch_job") in edges
    assert ("sensor:documents_inbox_sensor", "starts", "job:process_document_job") in edges

    table = run_orbit("lineage").stdout.splitlines()
    assert table[0].split() == ["node", "type", "kinds", "table"]
