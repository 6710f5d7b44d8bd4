"""`orbit transformer show|run` as a user runs them: a real subprocess, real files, the real
sandbox. Failures (hostile code, bad files) must print the reason to stderr and exit non-zero."""

import functools
import json
from pathlib import Path

import pytest

from orbit_dagster import settings
from orbit_dagster.refresh.plan import plan
from orbit_dagster.store import Store, Transformer
from orbit_dagster.transformers import generate_chart_code, generate_ingestion_code

PAYLOAD = {"results": [{"date": "2026-10-01", "visitors": "1,200"}, {"date": None, "visitors": 3}]}
POINTS = [{"date": "2026-10-01T00:00:00Z", "value": 1200.0, "dimensions": None}]


@pytest.fixture
def orbit(run_orbit):
    return functools.partial(run_orbit, "transformer")


def write(tmp_path: Path, name: str, content) -> str:
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_run_prints_validated_points_and_reports_skipped_records(orbit, tmp_path):
    code = generate_ingestion_code(PAYLOAD, template="file", name="Visitors")
    result = orbit(
        "run",
        "--code",
        write(tmp_path, "t.py", code),
        "--input",
        write(tmp_path, "p.json", PAYLOAD),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == POINTS
    assert "skipped: 1 no usable date" in result.stderr


def test_run_chart_with_a_config_file(orbit, tmp_path):
    code = (
        "def transform(points, config):\n    return {'$schema': 'vega-lite', 'mark': config['m']}\n"
    )
    result = orbit(
        "run",
        "--kind",
        "chart",
        "--code",
        write(tmp_path, "c.py", code),
        "--input",
        write(tmp_path, "points.json", POINTS),
        "--config",
        write(tmp_path, "config.json", {"m": "bar"}),
    )
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout) == {"$schema": "vega-lite", "mark": "bar"}


@pytest.mark.parametrize(
    ("code", "message"),
    [
        ("import os\ndef transform(p, c):\n    return []\n", "import of 'os' is not allowed"),
        ("def transform(p, c):\n    return open('/etc/passwd').read()\n", "'open' is not defined"),
        ("def transform(p, c):\n    return ().__class__.__bases__\n", "does not compile"),
        ("def transform(p, c):\n    while True:\n        pass\n", "time limit"),
        ("def transform(p, c):\n    return [{'date': 'x', 'value': 1}]\n", "'date' is not a date"),
        (
            "def transform(p, c):\n    return [{'date': '2026-10-01', 'value': float('nan')}]\n",
            "'value' must be a finite number",
        ),
    ],
)
def test_hostile_or_broken_code_fails_with_the_reason_on_stderr(orbit, tmp_path, code, message):
    result = orbit(
        "run",
        "--time-limit",
        "1",
        "--code",
        write(tmp_path, "t.py", code),
        "--input",
        write(tmp_path, "p.json", PAYLOAD),
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("files", "message", "exit_code"),
    [
        ({"--code": None}, "does not exist", 2),
        ({"--input": "{not json"}, "is not valid JSON", 3),
        ({"--code": b"\xff\xfe def"}, "cannot be read as UTF-8 text", 3),
        ({"--config": "[1, 2]"}, "must hold a JSON object", 3),
    ],
)
def test_bad_files_are_refused_clearly(orbit, tmp_path, files, message, exit_code):
    paths = {
        "--code": write(tmp_path, "t.py", "def transform(p, c):\n    return []\n"),
        "--input": write(tmp_path, "p.json", PAYLOAD),
    }
    for option, content in files.items():
        paths[option] = (
            str(tmp_path / "missing")
            if content is None
            else write(tmp_path, option.strip("-") + ".bad", content)
        )
    result = orbit("run", *[item for pair in paths.items() for item in pair])
    assert result.returncode == exit_code
    assert message in result.stderr


def test_show_prints_the_stored_code_of_each_kind(orbit, tmp_path, monkeypatch):
    # The store the subprocess opens: the embedded default under its ORBIT_DATA_DIR.
    monkeypatch.delenv("ORBIT_DATABASE_URL", raising=False)
    monkeypatch.setenv("ORBIT_DATA_DIR", str(tmp_path / "data"))
    store = Store(settings.database_url())
    store.add_metric("visits", name="Visitors", template="file", config={"path": "x.json"})
    store.refresh_log.begin(
        "visits",
        "run-1",
        pipeline_name="refresh_metric_job",
        mode="create",
        plan=plan("create"),
        is_run_active=lambda _run: True,
    )
    ingestion = generate_ingestion_code(PAYLOAD, template="file", name="Visitors")
    chart = generate_chart_code(POINTS, name="Visitors")
    store.save_points(
        "visits",
        "run-1",
        [],
        replace=False,
        transformer=Transformer(code=ingestion, generator="builtin-v1", template="file"),
    )
    store.save_chart(
        "visits",
        "run-1",
        {},
        transformer=Transformer(code=chart, generator="builtin-v1", template="file"),
    )
    shown = orbit("show", "visits")
    assert shown.returncode == 0, shown.stderr
    assert shown.stdout == ingestion
    assert "by builtin-v1" in shown.stderr
    assert orbit("show", "visits", "--kind", "chart").stdout == chart
    missing = orbit("show", "nope")
    assert missing.returncode == 3
    assert "metric 'nope' has no stored ingestion transformer" in missing.stderr


ANALYTICS = {
    "meta": {"site": "example.com"},
    "results": [
        {"date": "2026-10-01", "visitors": 120, "pageviews": 340, "bounce_rate": 41.5},
        {"date": "2026-10-02", "visitors": 130, "pageviews": 360, "bounce_rate": 40.1},
        {"date": "2026-11-03", "visitors": 90, "pageviews": 200, "bounce_rate": 50.0},
    ],
}


def test_preview_of_a_source_not_added_yet_shows_the_choice_and_saves_nothing(run_orbit, tmp_path):
    from orbit_dagster_tests.servers import json_server

    with json_server() as server:
        server.routes["/stats"] = (200, ANALYTICS)
        source = ("--template", "http-json", "--config", f"url={server.base_url}/stats")
        shown = run_orbit("transformer", "preview", *source, "--name", "Pageviews per day")
        as_json = run_orbit(
            "transformer", "preview", *source, "--name", "Pageviews per day", "--json"
        )
        refused = run_orbit("transformer", "preview", *source, "--name", "Website traffic")
    assert shown.returncode == 0, shown.stderr
    lines = shown.stdout.splitlines()
    assert lines[0].startswith("Chose pageviews (records at results), sum per day")
    # The candidates under a header, the chosen one starred, config in one column.
    table = lines[lines.index(next(line for line in lines if line.startswith("#  "))) :]
    assert table[1].startswith("1*  pageviews (records at results)")
    assert table[1].index("records_path") == table[0].index("config")
    assert "records_path=results, value_path=visitors" in shown.stdout
    assert "nothing was saved" == lines[-1]
    report = json.loads(as_json.stdout)
    assert [c["config"] for c in report["candidates"]] == [
        "records_path=results, value_path=pageviews",
        "records_path=results, value_path=visitors",
        "records_path=results, value_path=bounce_rate",
    ]
    assert report["points"] == 3 and report["first"][0]["value"] == 340.0
    assert report["totals"] == {"period": "day", "values": {
        "2026-10-01": 340.0, "2026-10-02": 360.0, "2026-11-03": 200.0}}  # fmt: skip
    # Nothing decides between the series: refused, naming the config that picks each.
    assert refused.returncode == 3
    assert "cannot tell which series the metric 'Website traffic' is about" in refused.stderr
    assert "value_path=visitors" in refused.stderr
    # A preview of a source never opens the store.
    assert not (tmp_path / "data" / "orbit.sqlite3").exists()


def test_preview_of_a_stored_metric_tries_other_config_without_changing_it(run_orbit, tmp_path):
    path = write(tmp_path, "analytics.json", ANALYTICS)
    add = ("metrics", "add", "--id", "site", "--name", "Visitors per day", "--template", "file")
    assert run_orbit(*add, "--config", f"path={path}").returncode == 0
    stored = json.loads(run_orbit("transformer", "preview", "site", "--json").stdout)
    assert stored["candidates"][0]["series"].startswith("visitors")
    other = run_orbit("transformer", "preview", "site", "--config", "value_path=bounce_rate")
    assert other.returncode == 0, other.stderr
    assert "bounce_rate" in other.stdout.splitlines()[0]
    metric = json.loads(run_orbit("metrics", "show", "site", "--json").stdout)
    assert metric["config"] == {"path": path} and metric["last_fetched_at"] is None
    assert run_orbit("transformer", "show", "site").returncode == 3  # no transformer stored
    usage = run_orbit("transformer", "preview")
    assert usage.returncode == 2 and "give a METRIC_ID or --template" in usage.stderr
