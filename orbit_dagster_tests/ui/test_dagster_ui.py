"""What a user sees in the Dagster UI, asserted on the page in headless Chromium: the asset
graph with its lineage, a metric partition's materialization with its chart picture, the
data-quality checks per partition, and the `pipeline_health` figures plotted over time.
Each test saves a screenshot (see conftest.py for where)."""

import dagster as dg
import pytest
from playwright.sync_api import Locator, Page, expect

from orbit_dagster.defs.metrics.checks import just_saved
from orbit_dagster.quality import CHECKS, CheckResult, run_checks
from orbit_dagster_tests.ui.conftest import OrbitUI

# One worker runs them all: they share the module's webserver and browser (see conftest.py).
pytestmark = pytest.mark.xdist_group("browser")

# The health figures `pipeline_health` records as numbers, per job that ran in its window.
HEALTH_TOTALS = (
    "runs",
    "failed_runs",
    "interrupted_runs",
    "metrics",
    "metrics_with_errors",
    "stale_metrics",
    "step_outputs_swept",
)
HEALTH_JOB_FIGURES = ("success_rate", "runs_per_hour", "p50_seconds", "p95_seconds")
HEALTH_JOBS = ("refresh_metric_job", "pipeline_health_job")


def _lineage(definitions: dg.Definitions) -> tuple[set[str], set[str], set[tuple[str, str]]]:
    """The asset names as the graph labels them (a key's last part), group names and
    (upstream, downstream) edges of the Definitions."""
    graph = definitions.resolve_asset_graph()
    nodes = graph.asset_nodes
    edges = {
        (parent.to_user_string(), node.key.to_user_string())
        for node in nodes
        for parent in node.parent_keys
    }
    return {n.key.path[-1] for n in nodes}, {n.group_name for n in nodes}, edges


def _check_results(orbit_ui: OrbitUI, metric_id: str) -> dict[str, CheckResult]:
    """The data-quality checks of a metric as its refresh ran them, by the plain functions."""
    points = [point.to_json() for point in orbit_ui.store.list_points(metric_id)]
    return {
        result.name: result for result in run_checks(just_saved(orbit_ui.store, metric_id, points))
    }


def _metadata_row(page: Page, key: str) -> Locator:
    """The metadata table's row of `key` (its key cell is exactly `key`)."""
    return page.get_by_role("row").filter(has=page.get_by_role("cell", name=key, exact=True))


def _visible_text(page: Page, text: str) -> Locator:
    """`text` where it is shown (the UI also keeps hidden copies to measure truncation)."""
    return page.get_by_text(text, exact=True).filter(visible=True)


def test_asset_graph_shows_every_asset_its_checks_and_every_lineage_edge(
    page: Page, orbit_ui: OrbitUI
):
    assets, groups, edges = _lineage(orbit_ui.definitions)
    # Every group opened (the UI's group ids while groups are not split per code location).
    expanded = ",".join(f"global@global:{group}" for group in sorted(groups))
    # Tall enough for every group at once: the UI draws only the edges in view past ten.
    page.set_viewport_size({"width": 1400, "height": 2200})
    page.goto(f"/asset-groups?expanded={expanded}")
    for asset in sorted(assets):
        expect(page.locator(f'[data-tooltip="{asset}"]')).to_be_visible()
    # metric_points' node sums up the latest result of each check: the gappy metric's, as its
    # refresh came last (it fails no_gaps and no_jumps).
    passed = sum(r.passed for r in _check_results(orbit_ui, orbit_ui.gappy_metric_id).values())
    expect(page.get_by_text(f"{passed} / {len(CHECKS)} Passed")).to_be_visible()
    # One arrow per dependency of the Definitions (an edge is a path ending in a marker).
    expect(page.locator("svg path[marker-end]")).to_have_count(len(edges))
    page.screenshot(path=orbit_ui.screenshots / "asset-graph.png")


def test_metric_partition_shows_its_materialization_and_chart_picture(
    page: Page, orbit_ui: OrbitUI
):
    metric = orbit_ui.metric_id
    points = orbit_ui.store.list_points(metric)
    page.goto(f"/assets/metric_chart?view=partitions&partition={metric}")
    # The partition's latest materialization, by the refresh job's run.
    expect(_visible_text(page, metric).first).to_be_visible()
    expect(page.get_by_text("Latest materialization")).to_be_visible()
    expect(page.get_by_role("link", name="refresh_metric_job")).to_be_visible()
    for key, value in (("points", len(points)), ("last_value", f"{points[-1].value:g}")):
        expect(_metadata_row(page, key)).to_contain_text(str(value))
    # The chart is a markdown image in the metadata; the UI opens markdown in a dialog.
    _metadata_row(page, "chart").get_by_text("[Show Markdown]").click()
    picture = page.get_by_role("dialog").locator('img[src^="data:image/png;base64,"]')
    expect(picture).to_be_visible()
    # The browser decoded a real picture, not a broken-image icon.
    assert picture.evaluate("img => img.decode().then(() => img.naturalWidth)") > 100
    page.screenshot(path=orbit_ui.screenshots / "metric-partition.png")


def test_checks_show_each_result_per_partition(page: Page, orbit_ui: OrbitUI):
    clean = _check_results(orbit_ui, orbit_ui.metric_id)
    gappy = _check_results(orbit_ui, orbit_ui.gappy_metric_id)
    assert all(r.passed for r in clean.values())
    assert not gappy["no_gaps"].passed
    page.goto("/assets/metric_points?view=checks")
    # The list shows each check's latest result: the gappy metric's refresh came last.
    for check in CHECKS:
        row = page.locator("span", has=page.locator(f'[title="{check}"]')).last
        expect(row).to_contain_text("Succeeded" if gappy[check].passed else "Failed")
    # Per partition: no_gaps fails on the gappy metric only, with the check's own words.
    _visible_text(page, "no_gaps").first.click()
    page.get_by_role("tab", name="Partitions").last.click()  # the check's tab, not the asset's
    expect(page.get_by_text("Failed (1)")).to_be_visible()
    expect(page.get_by_text("Passed (1)")).to_be_visible()
    _visible_text(page, orbit_ui.gappy_metric_id).last.click()
    expect(page.get_by_text(gappy["no_gaps"].description)).to_be_visible()
    page.screenshot(path=orbit_ui.screenshots / "checks.png")
    _visible_text(page, orbit_ui.metric_id).last.click()
    expect(page.get_by_text(clean["no_gaps"].description)).to_be_visible()


def test_pipeline_health_plots_each_figure_over_time(page: Page, orbit_ui: OrbitUI):
    page.goto("/assets/pipeline_health")
    # The table gives the latest figures: both registered metrics are counted.
    expect(_metadata_row(page, "metrics").get_by_role("cell").last).to_have_text("2")
    page.get_by_role("button", name="Plots").click()
    figures = [*HEALTH_TOTALS, *(f"{j}/{f}" for j in HEALTH_JOBS for f in HEALTH_JOB_FIGURES)]
    for figure in figures:
        expect(_visible_text(page, figure)).to_be_visible()
    # One drawn plot per figure.
    expect(page.locator("canvas")).to_have_count(len(figures))
    # The picture starts at the plots.
    page.get_by_text("Metadata", exact=True).evaluate("heading => heading.scrollIntoView()")
    page.screenshot(path=orbit_ui.screenshots / "pipeline-health.png")
