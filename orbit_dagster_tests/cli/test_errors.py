"""Each kind of `orbit` failure: its exact stderr (one line, and a `hint:` line where one
helps), its exit code, and the stack only with `--verbose` or for an unexpected error."""

import json
import os
import re
import sqlite3
import subprocess
import sys

import pytest

from orbit_dagster.cli.errors import EXIT_CODES, ExitCode

RUN = "[0-9a-f-]{36}"


def add_file_metric(run_orbit, tmp_path, metric_id: str, payload) -> str:
    """A `file` metric on a file holding `payload`; the file's path."""
    path = tmp_path / f"{metric_id}.json"
    path.write_text(json.dumps(payload))
    add = ("metrics", "add", "--id", metric_id, "--name", metric_id, "--template", "file")
    added = run_orbit(*add, "--config", f"path={path}")
    assert added.returncode == 0, added.stderr
    return str(path)


def test_a_source_failure_is_one_line_naming_the_step_and_the_run(run_orbit, tmp_path):
    path = add_file_metric(run_orbit, tmp_path, "gone", [{"date": "2026-10-01", "value": 1}])
    (tmp_path / "gone.json").unlink()  # gone after it was added
    result = run_orbit("refresh", "gone", "--mode", "create")
    assert result.returncode == ExitCode.FAILED == 1
    assert result.stdout == ""
    run = re.search(f"run ({RUN})", result.stderr)
    assert run, result.stderr
    assert result.stderr == (
        f"gone: create failed at fetching-api-data: file source: {path} does not exist "
        f"(run {run[1]})\n"
        f"hint: `orbit runs show {run[1]}` prints the request log of the fetch\n"
    )


def test_a_generation_failure_is_one_line_with_where_to_look(run_orbit, tmp_path):
    add_file_metric(run_orbit, tmp_path, "nodates", [{"name": "a"}, {"name": "b"}])
    result = run_orbit("refresh", "nodates", "--mode", "create")
    assert result.returncode == 1
    run = re.search(f"run ({RUN})", result.stderr)
    assert run, result.stderr
    assert result.stderr == (
        "nodates: create failed at generating-ingestion-transformer: no time series found in "
        "the payload: top level is a list of 2 items (objects); the 2 records at the top level "
        f"have no date-like field (fields: name) (run {run[1]})\n"
        "hint: `orbit transformer preview nodates` shows the series the generator can choose\n"
    )


def test_verbose_shows_dagster_records_and_the_stack(run_orbit, tmp_path):
    add_file_metric(run_orbit, tmp_path, "nodates", [{"name": "a"}])
    quiet = run_orbit("refresh", "nodates", "--mode", "create")
    assert " - dagster - ERROR - " not in quiet.stderr and "Traceback" not in quiet.stderr
    loud = run_orbit("--verbose", "refresh", "nodates")
    assert loud.returncode == 1
    assert " - dagster - ERROR - " in loud.stderr and "Stack Trace:" in loud.stderr
    assert loud.stderr.splitlines()[-2].startswith("nodates: soft-refresh failed at generating")
    shown = run_orbit("--verbose", "metrics", "show", "ghost")
    assert shown.returncode == 3
    assert shown.stderr.startswith("Traceback (most recent call last):")
    assert shown.stderr.endswith(
        "metric 'ghost' not found\nhint: `orbit metrics list` shows the registered metrics\n"
    )


def test_a_validation_failure_of_a_transformer_is_one_line(run_orbit, tmp_path):
    code = tmp_path / "bad.py"
    code.write_text("def transform(data, config):\n    return [{'date': 'yesterday', 'value': 1}]")
    payload = tmp_path / "p.json"
    payload.write_text("[]")
    result = run_orbit("transformer", "run", "--code", str(code), "--input", str(payload))
    assert result.returncode == 1
    assert result.stderr == (
        f"{code}: invalid output at index 0: 'date' is not a date: 'yesterday' is not an "
        "ISO-8601 date\n"
    )


@pytest.mark.parametrize(
    ("args", "stderr"),
    [
        (
            ("metrics", "add", "--id", "x", "--name", "X", "--template", "nope"),
            "unknown template 'nope'; known templates: file, github-commits, "
            "github-issues-opened, github-stars, gsheets-values, http-json\n",
        ),
        (
            ("metrics", "add", "--id", "x", "--name", "X", "--template", "http-json",
             "--config", "url=https://example.com/x", "--config", "aggregation=median"),
            "hint aggregation must be one of count, sum, avg, last, max, min, got 'median'\n",
        ),
        (
            ("metrics", "show", "ghost"),
            "metric 'ghost' not found\nhint: `orbit metrics list` shows the registered metrics\n",
        ),
        (
            ("refresh", "ghost"),
            "metric 'ghost' not found\nhint: `orbit metrics list` shows the registered metrics\n",
        ),
        (
            ("resume", "no-such-run"),
            None,  # names the instance folder of this test: checked by prefix below
        ),
    ],
)  # fmt: skip
def test_refused_input_is_one_line_and_exit_code_3(run_orbit, args, stderr):
    result = run_orbit(*args)
    assert result.returncode == ExitCode.REFUSED == 3
    assert result.stdout == ""
    if stderr is None:
        assert result.stderr.startswith("run no-such-run not resumed: no run no-such-run in ")
        assert result.stderr.count("\n") == 1
    else:
        assert result.stderr == stderr


def test_an_unreachable_store_is_one_line_and_exit_code_4(run_orbit):
    url = "postgresql+psycopg2://orbit@127.0.0.1:9/orbit"  # the discard port: nothing listens
    result = run_orbit("metrics", "list", extra_env={"ORBIT_DATABASE_URL": url})
    assert result.returncode == ExitCode.STORE_UNAVAILABLE == 4
    assert result.stderr == (
        "cannot connect to the Orbit store at postgresql+psycopg2://orbit@127.0.0.1:9/orbit: "
        'connection to server at "127.0.0.1", port 9 failed: Connection refused\n'
        "hint: is the database server running, and is ORBIT_DATABASE_URL its address?\n"
    )


def test_a_document_failure_is_one_line_per_file(run_orbit, tmp_path):
    receipt = tmp_path / "receipt.pdf"
    receipt.write_bytes(b"%PDF-1.4 receipt")
    result = run_orbit("documents", "submit", str(receipt), drop=("AWS_", "VERYFI_"))
    assert result.returncode == 1
    run = re.search(f"run ({RUN})", result.stderr)
    assert run, result.stderr
    assert result.stderr == (
        f"{receipt}: failed: AWS_S3_BUCKET, AWS_REGION, AWS_ACCESS_KEY_ID, "
        f"AWS_SECRET_ACCESS_KEY are not set (run {run[1]})\n"
    )


def test_usage_errors_are_clicks_exit_code_2(run_orbit):
    result = run_orbit("refresh", "x", "--mode", "sideways")
    assert result.returncode == ExitCode.USAGE == 2
    assert "Error: Invalid value for '--mode': 'sideways' is not one of" in result.stderr


def test_an_unexpected_error_shows_its_stack_and_exit_code_5(run_orbit, tmp_path):
    add_file_metric(run_orbit, tmp_path, "m", [])
    # A row no Orbit code writes: its config is not JSON.
    with sqlite3.connect(tmp_path / "data" / "orbit.sqlite3") as db:
        db.execute("UPDATE metrics SET config = '{not json' WHERE id = 'm'")
    result = run_orbit("metrics", "show", "m")
    assert result.returncode == ExitCode.UNEXPECTED == 5
    assert result.stderr.startswith("Traceback (most recent call last):")
    assert result.stderr.splitlines()[-1] == (
        "unexpected error: JSONDecodeError: Expecting property name enclosed in double quotes: "
        "line 1 column 2 (char 1)"
    )


def test_help_documents_every_exit_code(run_orbit):
    shown = run_orbit("--help").stdout
    for code, meaning in EXIT_CODES.items():
        assert f"{int(code)}  {meaning}" in shown
    assert "--verbose" in shown


def test_a_reader_that_stops_reading_ends_the_command_quietly(tmp_path):
    # `orbit metrics list | head -1`: the pipe is closed before the command writes its line.
    env = {k: v for k, v in os.environ.items() if k != "DAGSTER_HOME"}
    env["ORBIT_DATA_DIR"] = str(tmp_path / "data")
    command = subprocess.Popen(
        [sys.executable, "-m", "orbit_dagster.cli", "dagster-home"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert command.stdout is not None and command.stderr is not None
    command.stdout.close()
    with command.stderr:
        stderr = command.stderr.read().decode()
    assert command.wait(timeout=60) == ExitCode.BROKEN_PIPE == 141
    assert stderr == ""


@pytest.mark.parametrize(
    ("variable", "value", "stderr"),
    [
        ("ORBIT_DATABASE_URL", "nonsense://x",
         "ORBIT_DATABASE_URL names a 'nonsense' database: the Orbit store is Postgres "
         "(postgresql://user@host:5432/orbit) or SQLite (sqlite:///path/orbit.sqlite3)"),
        ("ORBIT_DATABASE_URL", "not a url",
         "ORBIT_DATABASE_URL is not a database URL (expected e.g. "
         "postgresql://user@host:5432/orbit or sqlite:///path/orbit.sqlite3)"),
        ("ORBIT_DATA_DIR", "/proc/orbit",
         "cannot create Orbit's data folder /proc/orbit (No such file or directory): set "
         "ORBIT_DATA_DIR to a folder Orbit can write"),
        ("DAGSTER_HOME", "/nonexistent/home",
         "DAGSTER_HOME=/nonexistent/home is not a folder: create it (with the dagster.yaml of "
         "the instance), or unset DAGSTER_HOME to use the embedded instance"),
        ("ORBIT_BATCH_SIZE", "ten", "ORBIT_BATCH_SIZE='ten' is not a whole number above 0"),
        ("ORBIT_BATCH_SIZE", "-1", "ORBIT_BATCH_SIZE='-1' is not a whole number above 0"),
        ("ORBIT_REFRESH_CRON", "hourly",
         "ORBIT_REFRESH_CRON='hourly' is not a cron expression of five fields (minute hour day "
         "month weekday, e.g. '0 * * * *')"),
        ("ORBIT_EXECUTOR", "Celery", "ORBIT_EXECUTOR='Celery' is not one of in_process, celery"),
    ],
)  # fmt: skip
def test_a_setting_orbit_cannot_use_is_refused_naming_it(run_orbit, variable, value, stderr):
    # `orbit sync` opens the store and the instance and loads the whole code location.
    result = run_orbit("sync", extra_env={variable: value})
    assert result.returncode == ExitCode.REFUSED == 3
    assert (result.stdout, result.stderr) == ("", stderr + "\n")


@pytest.mark.parametrize(
    ("variable", "value"), [("ORBIT_REFRESH_CRON", "* *"), ("ORBIT_BATCH_SIZE", "1.5")]
)
def test_a_refresh_with_a_bad_setting_is_refused_before_any_run(
    run_orbit, tmp_path, variable, value
):
    add_file_metric(run_orbit, tmp_path, "m", [{"date": "2026-10-01", "value": 1}])
    result = run_orbit("refresh", "m", extra_env={variable: value})
    assert result.returncode == ExitCode.REFUSED == 3
    assert result.stderr.startswith(f"{variable}='{value}' is not ")
    assert result.stderr.count("\n") == 1
    assert json.loads(run_orbit("runs", "--json").stdout) == []  # nothing ran
