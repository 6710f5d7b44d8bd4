"""`orbit lineage`: the code location's topology (assets, external systems, tables, jobs,
steps, schedules, sensors and the edges between them), from the loaded definitions."""

import click

from orbit_dagster.cli import location
from orbit_dagster.cli.output import echo_json, echo_table


@click.command("lineage")
@click.option("--json", "as_json", is_flag=True, help="Print {nodes, edges} as JSON.")
def lineage(as_json: bool) -> None:
    """Nodes and edges of the pipelines, as the old monitor's lineage showed them."""
    from orbit_dagster.dagster_api.lineage import lineage as read_lineage

    topology = read_lineage(location.definitions().get_repository_def())
    if as_json:
        echo_json(topology)
        return
    echo_table(
        ("node", "type", "kinds", "table"),
        [
            (node["id"], node["type"], ",".join(node.get("kinds", [])) or None, node.get("table"))
            for node in topology["nodes"]
        ],
    )
    click.echo("")
    echo_table(
        ("from", "edge", "to"),
        [(edge["from"], edge["type"], edge["to"]) for edge in topology["edges"]],
    )
