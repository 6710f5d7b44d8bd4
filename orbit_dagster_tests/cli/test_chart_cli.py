"""`orbit chart` as a user runs it: the stored chart of a refreshed metric, drawn to files."""

import json


def test_chart_writes_png_and_html_and_prints_the_facts(run_orbit, tmp_path):
    payload = tmp_path / "series.json"
    payload.write_text(
        json.dumps([{"date": f"2026-10-0{n}", "value": n * 10} for n in range(1, 6)])
    )
    add = ("metrics", "add", "--id", "c1", "--name", "Signups", "--template", "file")
    assert run_orbit(*add, "--config", f"path={payload}").returncode == 0
    not_yet = run_orbit("chart", "c1")
    assert not_yet.returncode == 3
    assert "metric 'c1' has no chart yet: refresh it first (orbit refresh c1)" in not_yet.stderr
    assert run_orbit("refresh", "c1", "--mode", "create").returncode == 0

    png, html = tmp_path / "c1.png", tmp_path / "c1.html"
    drawn = run_orbit("chart", "c1", "--png", str(png), "--html", str(html))
    assert drawn.returncode == 0, drawn.stderr
    assert drawn.stdout == f"wrote {png}\nwrote {html}\n"
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 5_000
    assert "Signups" in html.read_text()

    facts = json.loads(run_orbit("chart", "c1").stdout)
    assert facts == {
        "points": 5,
        "series": 1,
        "first_date": "2026-10-01T00:00:00Z",
        "last_date": "2026-10-05T00:00:00Z",
        "last_value": 50.0,
        "change_vs_previous": 0.25,
    }


def test_chart_of_an_unknown_metric_fails_with_its_name(run_orbit):
    result = run_orbit("chart", "ghost", "--png", "x.png")
    assert result.returncode == 3
    assert "ghost" in result.stderr and "not found" in result.stderr
