"""Chart previews drawn for real with vl-convert, from the spec the built-in chart transformer
writes, and refused for specs that reach outside or ask for a huge canvas."""

import datetime as dt
import re
import struct
import subprocess
import sys

import pytest

from orbit_dagster.charts import ChartRenderError, render_html, render_png, summarize
from orbit_dagster.charts.render import MAX_SIDE, PREVIEW_ROWS, rows_drawn
from orbit_dagster.transformers import generate_chart_code, run_transformer


def points(count: int, dimensions: dict | None = None) -> list[dict]:
    start = dt.datetime(2026, 10, 1)
    return [
        {
            "date": (start + dt.timedelta(days=n)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "value": float(n % 7),
            "dimensions": dimensions,
        }
        for n in range(count)
    ]


def chart_spec(series: list[dict]) -> dict:
    code = generate_chart_code(series[:50], name="Orders per day")
    return run_transformer(code, series, {}, kind="chart")


def png_size(png: bytes) -> tuple[int, int]:
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", png[16:24])


def test_the_builtin_chart_is_drawn_as_png_and_html():
    spec = chart_spec(points(30))
    width, height = png_size(render_png(spec))
    assert 100 < width <= MAX_SIDE + 200 and 100 < height <= MAX_SIDE + 200
    page = render_html(spec)
    assert "<html" in page and "Orders per day" in page
    # Offline: Vega's scripts are inlined, not loaded from a CDN.
    assert 'src="http' not in page


def test_a_long_series_is_drawn_from_its_newest_rows():
    spec = chart_spec(points(PREVIEW_ROWS + 200))
    assert rows_drawn(spec) == (PREVIEW_ROWS, PREVIEW_ROWS + 200)
    assert png_size(render_png(spec))[0] > 100
    # The caller's spec is untouched.
    assert len(spec["data"]["values"]) == PREVIEW_ROWS + 200


@pytest.mark.parametrize(
    ("spec", "where"),
    [
        ({"data": {"url": "file:///etc/passwd"}, "mark": "line"}, "data.url"),
        ({"data": {"url": "http://127.0.0.1:9/x.json"}, "mark": "point"}, "data.url"),
        (
            {"data": {"values": [{"a": 1}]}, "mark": {"type": "image", "url": "file:///x.png"}},
            "mark.url",
        ),
        (
            {"vconcat": [{"data": {"url": "data/x.csv"}, "mark": "bar"}]},
            "vconcat[0].data.url",
        ),
    ],
)
def test_a_spec_naming_a_url_is_refused_before_drawing(spec, where):
    with pytest.raises(ChartRenderError, match=f"names a URL at {re.escape(where)}"):
        render_png(spec)


def test_a_huge_canvas_is_drawn_at_a_bounded_size():
    spec = {**chart_spec(points(10)), "width": 10**7, "height": 10**7}
    spec["config"] = {"view": {"continuousWidth": 10**7}}
    width, height = png_size(render_png(spec))
    assert width <= MAX_SIDE + 200 and height <= MAX_SIDE + 200


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ([1, 2], "a chart spec is a JSON object, not list"),
        ({"data": {"values": [{"v": float("nan")}]}, "mark": "point"}, "non-finite number"),
        ({"mark": "no-such-mark"}, "cannot be drawn"),
    ],
)
def test_specs_that_cannot_be_drawn_fail_with_the_reason(spec, message):
    with pytest.raises(ChartRenderError, match=message):
        render_png(spec)


def test_summary_of_one_series():
    summary = summarize(points(10))
    assert (summary.points, summary.series) == (10, 1)
    assert (summary.first_date, summary.last_date) == (
        "2026-10-01T00:00:00Z",
        "2026-10-10T00:00:00Z",
    )
    # Values cycle 0..6: the last is 2, the one before 1.
    assert (summary.last_value, summary.previous_value, summary.change) == (2.0, 1.0, 1.0)
    assert summary.as_metadata()["change_vs_previous"] == 1.0


def test_summary_totals_several_series_per_date_and_skips_undefined_change():
    series = points(2, {"region": "eu"}) + points(2, {"region": "us"})
    summary = summarize(series)
    assert (summary.points, summary.series, summary.last_value) == (4, 2, 2.0)
    assert summary.previous_value == 0.0 and summary.change is None
    assert "change_vs_previous" not in summary.as_metadata()
    empty = summarize([])
    assert (empty.points, empty.last_value) == (0, None)
    assert empty.as_metadata() == {"points": 0, "series": 0}


def test_a_series_behind_the_others_is_not_summed_as_a_partial_total():
    # eu reports the 3rd, us not yet: the 3rd's sum would compare eu alone with eu + us.
    eu = [
        {"date": f"2026-10-0{d}T00:00:00Z", "value": 10.0, "dimensions": {"r": "eu"}}
        for d in (1, 2, 3)
    ]
    us = [{"date": f"2026-10-0{d}T00:00:00Z", "value": 5.0, "dimensions": {"r": "us"}}
          for d in (1, 2)]  # fmt: skip
    summary = summarize(eu + us)
    assert summary.last_date == "2026-10-03T00:00:00Z"
    assert (summary.value_date, summary.last_value, summary.change) == (
        "2026-10-02T00:00:00Z", 15.0, 0.0)  # fmt: skip
    assert summary.as_metadata()["value_date"] == "2026-10-02T00:00:00Z"
    # Series on disjoint dates have no complete date: no total rather than a wrong one.
    disjoint = summarize(eu[:1] + us[1:])
    assert (disjoint.last_value, disjoint.change) == (None, None)
    assert "last_value" not in disjoint.as_metadata()


WARM_UP_TWICE = """
import threading
from orbit_dagster.charts import render_png, warm_up
warm_up()
warm_up()
threads = [t for t in threading.enumerate() if t.name == "vl-convert-warm-up"]
print(len(threads))
for thread in threads:
    thread.join()
print(render_png({"data": {"values": [{"x": 1}]}, "mark": "point"})[:4] == b"\\x89PNG")
"""


def test_warm_up_starts_one_renderer_thread_per_process_and_drawing_still_works():
    # A fresh process: the warm-up is once per process (functools.cache).
    result = subprocess.run(
        [sys.executable, "-c", WARM_UP_TWICE], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "True"]
