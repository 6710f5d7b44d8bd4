"""The `orbit` command as a user runs it: a real subprocess on the embedded SQLite default."""

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import dagster as dg
import pytest

from orbit_dagster.settings import PROJECT_ROOT
from orbit_dagster.sources import SAMPLES
from orbit_dagster.store import Store


def test_demo_refreshes_every_sample_and_prints_points(run_orbit, tmp_path):
    result = run_orbit("demo")
    assert result.returncode == 0, result.stderr
    for sample in SAMPLES:
        metric_id = f"demo-{sample.replace('_', '-')}"
        assert f"{metric_id}: create succeeded" in result.stdout
        assert any(
            line.startswith(metric_id + " ") and "2026-" in line
            for line in result.stdout.splitlines()
        )
    # It ends with what to do next: the UI, a metric of one's own, its points.
    mine = tmp_path / "data" / "mine.csv"
    assert result.stdout.endswith(
        "next:\n"
        "  the Dagster UI at http://127.0.0.1:3000 (runs, assets, charts):\n"
        "    make dev\n"
        "  add your own metric:\n"
        f"    printf 'date,value\\n2026-11-01,3\\n2026-11-02,5\\n' > {mine} && "
        f"orbit metrics add --id mine --name Mine --template file --config path={mine}\n"
        "  see its points:\n"
        "    orbit refresh mine && orbit metrics show mine --points\n"
    )
    # The two commands work as printed, in a shell where `orbit` is the project's command.
    commands = result.stdout.splitlines()[-3] + " && " + result.stdout.splitlines()[-1]
    env = {**os.environ, "ORBIT_DATA_DIR": str(tmp_path / "data")}
    env["PATH"] = f"{Path(sys.executable).parent}:{env['PATH']}"
    env.pop("ORBIT_DATABASE_URL", None)
    env.pop("DAGSTER_HOME", None)
    typed = subprocess.run(
        ["bash", "-c", commands], env=env, capture_output=True, text=True, timeout=180
    )
    assert typed.returncode == 0, typed.stderr
    assert (
        "mine: soft-refresh succeeded" in typed.stdout and "2026-11-02T00:00:00Z  5" in typed.stdout
    )
    # The embedded default is durable: SQLite files under the data folder.
    assert (tmp_path / "data" / "orbit.sqlite3").exists()
    assert (tmp_path / "data" / "dagster_home").is_dir()
    again = run_orbit("demo")
    assert again.returncode == 0 and "soft-refresh succeeded" in again.stdout


def test_add_refresh_show_points_json(run_orbit, tmp_path):
    payload = tmp_path / "series.json"
    payload.write_text(
        json.dumps([{"date": "2026-10-02", "value": 2}, {"date": "2026-10-01", "value": 1.5}])
    )
    added = run_orbit(
        "metrics",
        "add",
        "--id",
        "s1",
        "--name",
        "Series",
        "--template",
        "file",
        "--config",
        f"path={payload}",
        "--schedule",
        "0 6 * * *",
    )
    assert added.returncode == 0, added.stderr
    refreshed = run_orbit("refresh", "s1", "--mode", "create", "--json")
    assert refreshed.returncode == 0, refreshed.stderr
    outcome = json.loads(refreshed.stdout)
    assert outcome == {
        "metric_id": "s1",
        "mode": "create",
        "run_id": outcome["run_id"],
        "status": "succeeded",
        "points": 2,
        "error": None,
    }
    shown = run_orbit("metrics", "show", "s1", "--points", "--json")
    metric = json.loads(shown.stdout)
    assert metric["schedule"] == "0 6 * * *"
    assert metric["points"] == [
        {"date": "2026-10-01T00:00:00Z", "value": 1.5, "dimensions": None},
        {"date": "2026-10-02T00:00:00Z", "value": 2.0, "dimensions": None},
    ]
    listed = json.loads(run_orbit("metrics", "list", "--json").stdout)
    assert [m["id"] for m in listed] == ["s1"]
    progress = json.loads(run_orbit("progress", "s1", "--json").stdout)
    assert progress["isProcessing"] is False and progress["completedSteps"] == []
    shown = run_orbit("progress", "s1").stdout.splitlines()
    assert shown[0] == f"s1: ok (run {outcome['run_id']})"
    assert len(shown) == 11  # a header and the last run's 9 steps
    assert shown[1].split() == ["step", "status", "ms"]
    assert shown[2].split()[:-1] == ["Fetching", "API", "data", "success"]
    assert shown[2].split()[-1].isdigit() and shown[3].split()[-2:] == ["skipped", "-"]


def test_failing_refresh_exits_non_zero_with_the_reason(run_orbit, tmp_path):
    missing = tmp_path / "missing.json"
    missing.write_text("[]")
    run_orbit(
        "metrics",
        "add",
        "--id",
        "bad",
        "--name",
        "Bad",
        "--template",
        "file",
        "--config",
        f"path={missing}",
    )
    missing.unlink()  # gone since it was added
    result = run_orbit("refresh", "bad")
    assert result.returncode == 1
    assert "does not exist" in result.stderr and str(missing) in result.stderr
    shown = json.loads(run_orbit("metrics", "show", "bad", "--json").stdout)
    assert "does not exist" in shown["last_error"] and shown["refresh_status"] is None
    # The status line says when it failed and why, in the same ISO-8601 UTC as every field.
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+Z", shown["last_error_at"])
    status = run_orbit("metrics", "show", "bad").stdout.splitlines()[0]
    assert status == f"status: failed at {shown['last_error_at']}: {shown['last_error']}"
    # metrics list: the same word, when, and the error, in aligned columns under a header.
    header, row = run_orbit("metrics", "list").stdout.splitlines()
    assert header.split("  ")[0] == "id" and header.index("last error") == row.index(
        shown["last_error"]
    )
    assert row.split()[:4] == ["bad", "file", "failed", shown["last_error_at"]]
    # --json says it failed and why, with the one line on stderr too, exit 1 all the same.
    again = run_orbit("refresh", "bad", "--json")
    assert again.returncode == 1
    outcome = json.loads(again.stdout)
    assert outcome["status"] == "failed" and outcome["points"] == 0
    assert outcome["error"] == again.stderr.splitlines()[0]
    assert outcome["error"].startswith("bad: soft-refresh failed at fetching-api-data: ")


def add_args(*config: str, metric_id: str = "x", name: str = "X", template: str = "http-json"):
    """`metrics add` with these `--config` pairs."""
    pairs = [arg for pair in config for arg in ("--config", pair)]
    return ["metrics", "add", "--id", metric_id, "--name", name, "--template", template, *pairs]


URL = "url=https://example.com/x"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (add_args(template="nope"), "unknown template 'nope'"),
        (add_args(template="file"), "needs config path"),
        (add_args("path", template="file"), "expected KEY=VALUE"),
        ([*add_args("path=p", template="file"), "--schedule", "every day"], "not a valid cron"),
        (add_args("url=file:///etc/passwd"), "absolute http(s) URL"),
        (add_args(URL, metric_id="../x"), "invalid metric id"),
        (add_args(URL, name=" "), "a metric needs a name: say what it counts"),
        (add_args(URL, name="n" * 201), "a metric's name is at most 200 characters, got 201"),
        (add_args(URL, "url=https://example.com/y"), "'url' is given twice"),
        (add_args(URL, name="two\nlines"), "one line of printable characters, got 'two\\nlines'"),
        (add_args(URL, name="red\x1b[31m"), "printable characters, got 'red\\x1b[31m'"),
        (["metrics", "show", "ghost"], "metric 'ghost' not found"),
        (["refresh", "ghost"], "metric 'ghost' not found"),
        (["refresh", "ghost", "--mode", "sideways"], "'sideways' is not one of"),
        (["progress", "ghost"], "metric 'ghost' not found"),
    ],
)
def test_bad_input_is_refused_with_a_clear_error(run_orbit, args, message):
    result = run_orbit(*args)
    assert result.returncode != 0
    assert message in result.stderr
    assert result.stdout == ""


def test_progress_is_scoped_to_the_organization(run_orbit, tmp_path):
    path = Path(tmp_path / "p.json")
    path.write_text("[]")
    run_orbit(
        "metrics",
        "add",
        "--id",
        "o1",
        "--name",
        "O",
        "--template",
        "file",
        "--config",
        f"path={path}",
        "--organization",
        "acme",
    )
    assert run_orbit("progress", "o1", "--organization", "acme", "--json").returncode == 0
    other = run_orbit("progress", "o1", "--organization", "globex")
    assert other.returncode != 0 and "not found" in other.stderr


def test_sync_mirrors_the_code_location_idempotently(run_orbit, tmp_path):
    add = ("metrics", "add", "--id", "synced", "--name", "Synced", "--template", "file")
    (tmp_path / "x.json").write_text("[]")
    assert run_orbit(*add, "--config", f"path={tmp_path}/x.json").returncode == 0
    first = run_orbit("sync")
    assert first.returncode == 0, first.stderr
    assert first.stdout.strip().endswith("metric partitions: 1")
    home = tmp_path / "data" / "dagster_home"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_dynamic_partitions("metric") == ["synced"]
    store = Store(f"sqlite:///{tmp_path / 'data' / 'orbit.sqlite3'}")
    rows = {row["name"]: (row["kind"], row["is_active"]) for row in store.list_pipelines()}
    assert rows["refresh_metric_job"] == ("job", True)
    assert rows["metric_catalog_sensor"] == ("sensor", True)
    assert rows["default_refresh_schedule"] == ("schedule", True)
    second = run_orbit("sync")
    assert second.stdout == first.stdout and "0 marked inactive" in second.stdout
    assert {row["name"]: (row["kind"], row["is_active"]) for row in store.list_pipelines()} == rows


def last_run_steps(run_orbit, metric_id: str) -> dict[str, str]:
    """{step: status} of the metric's last run, from `orbit runs show`."""
    (last, *_) = json.loads(run_orbit("runs", "--metric", metric_id, "--json").stdout)
    shown = json.loads(run_orbit("runs", "show", last["run_id"], "--json").stdout)
    return {step["step"]: step["status"] for step in shown["metric_steps"][metric_id]}


def test_metrics_update_regenerates_transformers_on_the_next_soft_refresh(run_orbit, tmp_path):
    payload = tmp_path / "sales.json"
    payload.write_text(
        json.dumps(
            [
                {"date": "2026-10-01", "amount": 10, "fee": 1},
                {"date": "2026-10-02", "amount": 20, "fee": 2},
            ]
        )
    )
    add = ("metrics", "add", "--id", "sales", "--name", "Sales", "--template", "file")
    added = run_orbit(*add, "--config", f"path={payload}", "--config", "value_path=amount")
    assert added.returncode == 0, added.stderr
    assert run_orbit("refresh", "sales", "--mode", "create").returncode == 0

    updated = run_orbit(
        "metrics", "update", "sales", "--name", "Fees", "--config", "value_path=fee"
    )
    assert updated.returncode == 0, updated.stderr
    assert updated.stdout == (
        "updated metric sales: name, config; "
        "its transformers will be regenerated on the next refresh\n"
    )
    metric = json.loads(run_orbit("metrics", "show", "sales", "--json").stdout)
    assert (metric["name"], metric["config"]["value_path"]) == ("Fees", "fee")

    refreshed = run_orbit("refresh", "sales", "--mode", "soft-refresh")
    assert refreshed.returncode == 0, refreshed.stderr
    points = json.loads(run_orbit("metrics", "show", "sales", "--points", "--json").stdout)
    assert [point["value"] for point in points["points"]] == [1.0, 2.0]
    generated = last_run_steps(run_orbit, "sales")
    # Regenerated, not reused (a reused transformer shows as skipped).
    assert generated["generating-ingestion-transformer"] == "success"
    assert generated["generating-chart-transformer"] == "success"
    code = run_orbit("transformer", "show", "sales").stdout
    assert "'fee'" in code and "'amount'" not in code

    # A later soft refresh reuses the regenerated code.
    assert run_orbit("refresh", "sales").returncode == 0
    assert last_run_steps(run_orbit, "sales")["generating-ingestion-transformer"] == "skipped"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--config", "aggregation=median"), "hint aggregation must be one of count, sum"),
        (("--config", "path="), "template 'file' needs config path"),
        (("--schedule", "every day"), "'every day' is not a valid cron expression"),
        (("--schedule", "0 * * * *", "--no-schedule"), "give --schedule or --no-schedule"),
        (("--name", ""), "a metric needs a name"),
    ],
)
def test_metrics_update_refuses_bad_input_and_changes_nothing(run_orbit, tmp_path, args, message):
    add = ("metrics", "add", "--id", "m", "--name", "M", "--template", "file")
    (tmp_path / "m.json").write_text("[]")
    assert run_orbit(*add, "--config", f"path={tmp_path}/m.json").returncode == 0
    before = run_orbit("metrics", "show", "m", "--json").stdout
    result = run_orbit("metrics", "update", "m", *args)
    assert result.returncode != 0
    assert message in result.stderr
    assert run_orbit("metrics", "show", "m", "--json").stdout == before


def test_metrics_update_of_an_unknown_metric_fails(run_orbit):
    result = run_orbit("metrics", "update", "ghost", "--name", "X")
    assert result.returncode == 3
    assert "ghost" in result.stderr and "not found" in result.stderr


def test_metrics_show_reports_the_data_quality_checks(run_orbit, tmp_path):
    payload = tmp_path / "gappy.json"
    days = ["2026-10-01", "2026-10-02", "2026-10-03", "2026-10-04", "2026-10-09", "2026-10-10"]
    payload.write_text(json.dumps([{"date": day, "value": 5} for day in days]))
    add = ("metrics", "add", "--id", "gappy", "--name", "Gappy", "--template", "file")
    assert run_orbit(*add, "--config", f"path={payload}").returncode == 0
    never_run = json.loads(run_orbit("metrics", "show", "gappy", "--json").stdout)
    assert {"name": "has_points", "passed": False, "severity": "error",
            "description": "no points stored"} in never_run["checks"]  # fmt: skip
    assert run_orbit("refresh", "gappy", "--mode", "create").returncode == 0
    shown = run_orbit("metrics", "show", "gappy").stdout
    assert "checks:\n  no_gaps (warning): 1 gaps longer than 3× the series' usual spacing" in shown
    lines = shown.splitlines()
    # The status word list and progress use first; no Python repr anywhere (None, {'...'}).
    assert lines[0] == "status: ok" and "schedule: -" in lines
    assert f'config: {{"path": "{payload}"}}' in lines
    assert "None" not in shown and "{'" not in shown
    checks = json.loads(run_orbit("metrics", "show", "gappy", "--json").stdout)["checks"]
    assert [c["name"] for c in checks if not c["passed"]] == ["no_gaps"]


def test_stats_reads_the_runs_of_the_instance_the_command_uses(run_orbit, tmp_path):
    payload = tmp_path / "s.json"
    payload.write_text(json.dumps([{"date": "2026-10-01", "value": 1}]))
    add = ("metrics", "add", "--template", "file", "--name", "S")
    assert run_orbit(*add, "--id", "ok", "--config", f"path={payload}").returncode == 0
    (tmp_path / "no.json").write_text("[]")
    assert run_orbit(*add, "--id", "ko", "--config", f"path={tmp_path}/no.json").returncode == 0
    (tmp_path / "no.json").unlink()
    assert run_orbit("refresh", "ok", "--mode", "create").returncode == 0
    assert run_orbit("refresh", "ko", "--mode", "create").returncode == 1
    figures = json.loads(run_orbit("stats", "--since", "1h", "--json").stdout)
    job = figures["jobs"]["refresh_metric_job"]
    assert (job["runs"], job["succeeded"], job["failed"], job["success_rate"]) == (2, 1, 1, 0.5)
    assert figures["metrics_with_errors"] == ["ko"]
    runs = run_orbit("runs").stdout.splitlines()
    started = runs[0].index("started")
    assert all(line[started:].split()[0].endswith("Z") for line in runs[1:])  # UTC, with Z
    table = run_orbit("stats").stdout.splitlines()
    assert table[0].startswith("runs from ") and table[0].split()[2].endswith("Z")
    assert table[1].split() == ["job", "runs", "ok", "failed", "success", "/hour", "p50", "s",
                                "p95", "s"]  # fmt: skip
    assert table[2].split()[:5] == ["refresh_metric_job", "2", "1", "1", "50%"]
    bad = run_orbit("stats", "--since", "yesterday")
    assert bad.returncode == 2 and "give a number and m, h or d" in bad.stderr


def test_list_and_progress_say_the_same_status_word(run_orbit, tmp_path):
    payload = tmp_path / "s.json"
    payload.write_text(json.dumps([{"date": "2026-10-01", "value": 1}]))
    add = ("metrics", "add", "--template", "file", "--name")
    assert run_orbit(*add, "Good", "--id", "good", "--config", f"path={payload}").returncode == 0
    (tmp_path / "none.json").write_text("[]")
    assert run_orbit(*add, "Bad", "--id", "a-long-metric-id-that-is-wider",
                     "--config", f"path={tmp_path}/none.json").returncode == 0  # fmt: skip
    (tmp_path / "none.json").unlink()
    never = run_orbit("progress", "good").stdout
    assert never == "good: never run\n"
    assert run_orbit("refresh", "good", "--mode", "create").returncode == 0
    assert run_orbit("refresh", "a-long-metric-id-that-is-wider").returncode == 1
    listed = run_orbit("metrics", "list").stdout.splitlines()
    assert [c for c in listed[0].split("  ") if c] == [
        "id", "template", "status", "since", "name", "last error"]  # fmt: skip
    # Aligned columns: every status starts where the header's does.
    column = listed[0].index("status")
    assert [line[column:].split("  ")[0].strip() for line in listed[1:]] == ["failed", "ok"]
    assert run_orbit("progress", "good").stdout.startswith("good: ok (run ")
    failed = run_orbit("progress", "a-long-metric-id-that-is-wider").stdout
    # The same word, and when: `metrics show` prints the same time.
    when = json.loads(
        run_orbit("metrics", "show", "a-long-metric-id-that-is-wider", "--json").stdout
    )["last_error_at"]
    assert failed.startswith(f"a-long-metric-id-that-is-wider: failed at {when} (run ")


def test_a_lock_left_by_a_dead_run_reads_interrupted_not_refreshing(run_orbit, tmp_path):
    from orbit_dagster.refresh.plan import plan

    payload = tmp_path / "s.json"
    payload.write_text(json.dumps([{"date": "2026-10-01", "value": 1}]))
    add = ("metrics", "add", "--id", "stuck", "--name", "Stuck", "--template", "file")
    assert run_orbit(*add, "--config", f"path={payload}").returncode == 0
    # A run Dagster has never heard of claims the metric and dies without finishing.
    store = Store(f"sqlite:///{tmp_path / 'data' / 'orbit.sqlite3'}")
    store.refresh_log.begin(
        "stuck", "dead-run", pipeline_name="refresh_metric_job", mode="create",
        plan=plan("create"), is_run_active=lambda _run: False,
    )  # fmt: skip
    store.refresh_log.start_step("stuck", "dead-run", "fetching-api-data")
    listed = run_orbit("metrics", "list").stdout.splitlines()
    assert listed[1].split()[:3] == ["stuck", "file", "interrupted"]
    assert run_orbit("progress", "stuck").stdout.startswith("stuck: interrupted (run dead-run)")
    # The next refresh takes the lock over.
    assert run_orbit("refresh", "stuck", "--mode", "create").returncode == 0
    assert run_orbit("metrics", "list").stdout.splitlines()[1].split()[2] == "ok"


def test_dagster_home_is_the_one_instance_of_every_command(run_orbit, tmp_path):
    embedded = tmp_path / "data" / "dagster_home"
    shown = run_orbit("dagster-home")
    assert shown.returncode == 0 and shown.stdout.strip() == str(embedded)
    assert (embedded / "dagster.yaml").read_text() == (
        PROJECT_ROOT / "deploy/dagster.yaml"
    ).read_text()
    chosen = tmp_path / "elsewhere"
    chosen.mkdir()  # Dagster's rule: DAGSTER_HOME is a folder that exists
    assert run_orbit("dagster-home", extra_env={"DAGSTER_HOME": str(chosen)}).stdout.strip() == str(
        chosen
    )


def test_a_relative_file_path_is_resolved_once_when_the_metric_is_added(
    run_orbit, tmp_path, monkeypatch
):
    project = tmp_path / "project"
    project.mkdir()
    (project / "series.json").write_text(json.dumps([{"date": "2026-10-01", "value": 3}]))
    add = ("metrics", "add", "--name", "Relative", "--template", "file")
    monkeypatch.chdir(project)  # the `orbit` subprocesses start here
    assert run_orbit(*add, "--id", "rel", "--config", "path=series.json").returncode == 0
    metric = json.loads(run_orbit("metrics", "show", "rel", "--json").stdout)
    assert metric["config"]["path"] == str(project / "series.json")

    monkeypatch.chdir(tmp_path)  # elsewhere: the refresh reads the same file
    refreshed = run_orbit("refresh", "rel", "--mode", "create")
    assert refreshed.returncode == 0, refreshed.stderr
    # The same file named from here: the stored config is unchanged.
    same = run_orbit("metrics", "update", "rel", "--config", "path=project/series.json")
    assert same.stdout == "metric rel unchanged\n"

    refused = run_orbit(*add, "--id", "gone", "--config", "path=series.json")
    assert refused.returncode == 3
    assert refused.stderr == (
        f"file source: {tmp_path / 'series.json'} (series.json from {tmp_path}) does not exist\n"
    )
    moved = run_orbit("metrics", "update", "rel", "--config", f"path={project}")
    assert moved.returncode == 3
    assert moved.stderr == f"file source: {project} is not a file\n"


def test_text_from_outside_never_breaks_a_line_or_reaches_the_terminal_raw(run_orbit, tmp_path):
    # A last error quoting an API's error body: line breaks, a tab, an escape sequence.
    payload = tmp_path / "s.json"
    payload.write_text(json.dumps([{"date": "2026-10-01", "value": 1}]))
    assert run_orbit(*add_args(f"path={payload}", template="file", metric_id="m")).returncode == 0
    hostile = "HTTP 500:\n<h1>\x1b[2Jgone</h1>\r\n\tretry"
    config = {"path": str(payload), "label": "Café \u202egnp.exe"}  # an RTL override
    with sqlite3.connect(tmp_path / "data" / "orbit.sqlite3") as db:
        db.execute(
            "UPDATE metrics SET last_error = ?, last_error_at = ?, config = ? WHERE id = 'm'",
            (hostile, "2026-12-01 10:00:00", json.dumps(config)),
        )
    escaped = "HTTP 500: <h1>\\x1b[2Jgone</h1> retry"
    listed = run_orbit("metrics", "list").stdout.splitlines()
    assert len(listed) == 2 and listed[1].endswith(escaped)
    shown = run_orbit("metrics", "show", "m").stdout
    assert shown.splitlines()[0] == f"status: failed at 2026-12-01T10:00:00Z: {escaped}"
    assert f"last_error: {escaped}\n" in shown
    assert '"label": "Café \\u202egnp.exe"' in shown  # letters as they are, the override spelled
    for output in (shown, "\n".join(listed)):
        assert "\x1b" not in output and "\r" not in output and "\t" not in output
    # JSON keeps the text as it is, escaped by JSON itself.
    assert json.loads(run_orbit("metrics", "show", "m", "--json").stdout)["last_error"] == hostile
