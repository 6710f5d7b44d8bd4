"""The external systems metrics are fetched from, as external assets upstream of
`metric_points`: one per system of `sources.templates.SYSTEMS`, named with the templates that
read it, so the asset graph shows where the numbers come from."""

import dagster as dg

from orbit_dagster.sources.templates import SYSTEMS, TEMPLATES


def source_key(system: str) -> dg.AssetKey:
    return dg.AssetKey(["sources", system])


@dg.definitions
def source_systems() -> dg.Definitions:
    return dg.Definitions(
        assets=[
            dg.AssetSpec(
                source_key(system),
                description=f"{text}. Read by the templates: "
                + ", ".join(name for name, t in TEMPLATES.items() if t.system == system),
                kinds={system},
                group_name="sources",
            )
            for system, text in SYSTEMS.items()
        ]
    )
