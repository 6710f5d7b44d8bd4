"""A credential typed into `--config` is refused at `metrics add` and `metrics update`, and
`metrics show` / `metrics list --json` never print one stored before that rule."""

import json

from orbit_dagster.sources.urls import USE_ENV
from orbit_dagster.store import Store

TOKEN = "ghp_" + "aB3dE5fG7hJ9kL1mN3pQ5rS7"
ADD = ("metrics", "add", "--id", "m", "--name", "M", "--template", "http-json")


def test_metrics_add_refuses_a_token_under_any_key(run_orbit, tmp_path):
    result = run_orbit(*ADD, "--config", "url=https://example.com/x", "--config", f"token={TOKEN}")
    assert result.returncode == 3
    assert result.stderr == (
        f"config token looks like a credential and would be stored with the metric: {USE_ENV}\n"
    )
    assert TOKEN not in result.stdout + result.stderr
    assert json.loads(run_orbit("metrics", "list", "--json").stdout) == []


def test_metrics_update_refuses_a_token_and_changes_nothing(run_orbit):
    assert run_orbit(*ADD, "--config", "url=https://example.com/x").returncode == 0
    before = run_orbit("metrics", "show", "m", "--json").stdout
    result = run_orbit("metrics", "update", "m", "--config", f"notes=Bearer {TOKEN}")
    assert result.returncode == 3
    assert result.stderr.startswith("config notes looks like a credential")
    assert run_orbit("metrics", "show", "m", "--json").stdout == before


def test_show_and_list_never_print_a_stored_secret(run_orbit, tmp_path):
    # A row written before the rule existed (through the store, which does not check).
    (tmp_path / "data").mkdir()
    store = Store(f"sqlite:///{tmp_path / 'data' / 'orbit.sqlite3'}")
    config = {"url": "https://example.com/x", "password": "hunter2", "notes": TOKEN,
              "token_env": "GITHUB_TOKEN", "records_path": "items"}  # fmt: skip
    store.add_metric("old", name="Old", template="http-json", config=config)
    shown = run_orbit("metrics", "show", "old", "--json")
    assert shown.returncode == 0, shown.stderr
    assert json.loads(shown.stdout)["config"] == {
        "url": "https://example.com/x",
        "password": "REDACTED",
        "notes": "REDACTED",
        "token_env": "GITHUB_TOKEN",
        "records_path": "items",
    }
    for output in (
        shown.stdout,
        run_orbit("metrics", "show", "old").stdout,
        run_orbit("metrics", "list", "--json").stdout,
    ):
        assert "hunter2" not in output and TOKEN not in output and "GITHUB_TOKEN" in output
