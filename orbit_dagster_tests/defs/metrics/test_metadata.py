"""What the UI shows with a metric's materializations: the chart drawn as a picture (one-metric
refreshes), the facts of the series, and the mark as a word, never a Python repr."""

import base64
import datetime as dt
import json

import dagster as dg
import pytest

from orbit_dagster.dagster_api import ensure_metric_partitions, run_refresh
from orbit_dagster.refresh.jobs import BATCH_JOB, batch_run_config
from orbit_dagster.refresh.table import STEPS
from orbit_dagster.store import Store

SERIES = [{"date": f"2026-10-0{d}", "value": d * 10} for d in range(1, 6)]


@pytest.fixture
def metric(orbit_env, tmp_path) -> str:
    path = tmp_path / "series.json"
    path.write_text(json.dumps(SERIES))
    Store(orbit_env).add_metric("m", name="Signups", template="file", config={"path": str(path)})
    return "m"


def chart_metadata(instance: dg.DagsterInstance) -> dict:
    event = instance.get_latest_materialization_event(dg.AssetKey("metric_chart"))
    assert event is not None and event.asset_materialization is not None
    return {key: value.value for key, value in event.asset_materialization.metadata.items()}


def test_a_one_metric_refresh_shows_the_chart_as_a_picture(definitions, instance, metric):
    assert run_refresh(definitions, instance, metric, "create").success
    metadata = chart_metadata(instance)
    assert metadata["mark"] == "line"
    assert (metadata["points"], metadata["last_value"], metadata["change_vs_previous"]) == (
        5, 50.0, 0.25)  # fmt: skip
    # Dates are Dagster timestamps, counts ints, values floats: never text the UI cannot sort.
    event = instance.get_latest_materialization_event(dg.AssetKey("metric_chart"))
    assert event is not None and event.asset_materialization is not None
    typed = event.asset_materialization.metadata
    last = dt.datetime(2026, 10, 5, tzinfo=dt.UTC).timestamp()
    assert typed["last_date"] == dg.MetadataValue.timestamp(last)
    assert isinstance(typed["points"], dg.IntMetadataValue)
    assert isinstance(typed["last_value"], dg.FloatMetadataValue)
    assert isinstance(typed["vega_lite"], dg.JsonMetadataValue)
    assert isinstance(typed["chart"], dg.MarkdownMetadataValue)
    points_event = instance.get_latest_materialization_event(dg.AssetKey("metric_points"))
    assert points_event is not None and points_event.asset_materialization is not None
    saved = points_event.asset_materialization.metadata
    first = dt.datetime(2026, 10, 1, tzinfo=dt.UTC).timestamp()
    assert (saved["first_date"], saved["last_date"]) == (
        dg.MetadataValue.timestamp(first), dg.MetadataValue.timestamp(last))  # fmt: skip
    assert isinstance(saved["transformer"], dg.MarkdownMetadataValue)
    prefix = "![chart](data:image/png;base64,"
    assert metadata["chart"].startswith(prefix) and metadata["chart"].endswith(")")
    png = base64.b64decode(metadata["chart"][len(prefix) : -1])
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5_000
    # Each step's time, as the step log has it: every step the create run ran (its mode
    # skips the two deleting steps: planned as skipped, they take no time).
    durations = metadata["step_durations_ms"]
    assert set(durations) == {step.name for step in STEPS if step.skip_reason("create") is None}
    assert len(durations) == 7
    assert all(isinstance(ms, int) and ms >= 0 for ms in durations.values())


def test_a_picture_of_a_long_series_says_which_points_it_draws(
    definitions, instance, orbit_env, tmp_path
):
    start = dt.date(2010, 1, 1)
    days = [{"date": str(start + dt.timedelta(days=n)), "value": n % 9} for n in range(5_200)]
    path = tmp_path / "long.json"
    path.write_text(json.dumps(days))
    Store(orbit_env).add_metric("long", name="Long", template="file", config={"path": str(path)})
    assert run_refresh(definitions, instance, "long", "create").success
    chart = chart_metadata(instance)["chart"]
    assert chart.startswith("![chart](data:image/png;base64,")
    assert chart.endswith(")\n\nthe newest 5,000 of 5,200 points are drawn")


def test_a_batch_run_shows_the_facts_without_drawing(definitions, instance, metric):
    ensure_metric_partitions(instance, [metric])
    result = definitions.resolve_job_def(BATCH_JOB).execute_in_process(
        instance=instance, run_config=batch_run_config([metric], "create")
    )
    assert result.success
    metadata = chart_metadata(instance)
    assert metadata["mark"] == "line" and metadata["points"] == 5
    assert "chart" not in metadata
