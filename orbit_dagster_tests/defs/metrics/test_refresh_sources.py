"""A metric of every template refreshes end to end through Dagster against the local APIs;
secrets never reach the store, the step log, the run storage or the logs; the fetch step
is retried by Dagster only for failures that retrying can fix.
"""

import json
import logging
from pathlib import Path
from urllib.parse import quote

import dagster as dg
import pytest

from orbit_dagster.dagster_api import run_refresh
from orbit_dagster.refresh.modes import Mode
from orbit_dagster.store import Store
from orbit_dagster_tests.sources.fake_apis import Reply, fake_apis, unavailable

GITHUB_TOKEN = "ghp_e2e_secret_token_9f8e7d"
# With + / =, which a URL carries percent-encoded: each sink is searched for both forms.
SHEETS_KEY = "AIzaSy_e2e+secret/key=1a2b3c"
SECRETS = (GITHUB_TOKEN, SHEETS_KEY, quote(SHEETS_KEY, safe=""))
FAST = {"timeout": "2", "backoff": "0.05", "retries": "1"}


@pytest.fixture
def store_url(tmp_path) -> str:
    # SQLite only: the secret check reads the database file itself.
    return f"sqlite:///{tmp_path / 'orbit.sqlite3'}"


@pytest.fixture
def store(orbit_env) -> Store:
    return Store(orbit_env)


@pytest.fixture
def apis(monkeypatch):
    monkeypatch.setenv("GITHUB_TOKEN", GITHUB_TOKEN)
    monkeypatch.setenv("SHEETS_KEY", SHEETS_KEY)
    with fake_apis() as server:
        server.github_token = GITHUB_TOKEN
        server.sheets_key = SHEETS_KEY
        yield server


@pytest.fixture
def refresh(definitions, instance):
    def run(metric_id: str, mode: Mode = "create"):
        return run_refresh(definitions, instance, metric_id, mode)

    return run


def values(store: Store, metric_id: str) -> list[tuple[str, float]]:
    return [(p.to_json()["date"][:10], p.value) for p in store.list_points(metric_id)]


def fetch_step(store: Store, metric_id: str, run_id: str) -> dict:
    rows = store.refresh_log.steps(metric_id, run_id)
    return next(r for r in rows if r["endpoint"] == "pipeline:fetching-api-data")


def test_every_template_refreshes_and_no_secret_is_kept_anywhere(
    store, apis, refresh, instance, tmp_path, caplog, capfd
):
    caplog.set_level(logging.DEBUG)
    github = {"repo": "orbit/app", "api_url": apis.base_url, "token_env": "GITHUB_TOKEN", **FAST}
    csv_file = tmp_path / "signups.csv"
    csv_file.write_text("date,signups\n2026-10-01,3\n2026-10-02,5\n")
    metrics = {
        "commits": ("github-commits", {**github, "per_page": "4"}),
        "stars": ("github-stars", github),
        "issues": ("github-issues-opened", {**github, "per_page": "5"}),
        "sheet": (
            "gsheets-values",
            {
                "spreadsheet_id": "sheet123",
                "range": "Sheet1!A1:C4",
                "api_url": apis.base_url,
                "key_env": "SHEETS_KEY",
                **FAST,
            },
        ),
        "paged": (
            "http-json",
            {"url": f"{apis.base_url}/api/paged", "pagination": "page:page", **FAST},
        ),
        "csv": ("file", {"path": str(csv_file)}),
    }
    runs = {}
    for metric_id, (template, config) in metrics.items():
        store.add_metric(metric_id, name=metric_id.title(), template=template, config=config)
        outcome = refresh(metric_id)
        assert outcome.success, (metric_id, outcome.error)
        runs[metric_id] = outcome.run_id

    # What each template means, through the template's hints and the built-in generator.
    assert values(store, "commits") == [
        (f"2026-10-0{d}", float(d)) for d in range(1, 6)
    ]  # commits per day
    assert [v for _, v in values(store, "issues")] == [2.0] * 5  # pull requests left out
    [(_, stars)] = values(store, "stars")
    assert stars == 1234.0
    assert [v for _, v in values(store, "paged")] == [float(i["value"]) for i in apis.items]
    assert store.count_points("sheet") >= 3
    assert values(store, "csv") == [("2026-10-01", 3.0), ("2026-10-02", 5.0)]

    # The step log keeps a redacted excerpt of the raw response, for debugging.
    commits_log = fetch_step(store, "commits", runs["commits"])["detail"]
    assert "4 page(s), 15 records" in commits_log
    assert "/repos/orbit/app/commits" in commits_log and '"sha"' in commits_log
    sheet_log = fetch_step(store, "sheet", runs["sheet"])["detail"]
    assert "key=REDACTED" in sheet_log and '"Signups"' in sheet_log

    # A failing refresh with the secrets in play: the error is stored, the secret is not.
    apis.script("/repos/orbit/app", Reply(401, {"message": f"token {GITHUB_TOKEN} revoked"}))
    failed = refresh("stars", "soft-refresh")
    assert not failed.success and "token REDACTED revoked" in failed.error

    assert_secrets_absent(Path(store.engine.url.database), "the Orbit store")
    for path in Path(instance.root_directory).rglob("*"):
        if path.is_file():
            assert_secrets_absent(path, "the Dagster instance")
    captured = capfd.readouterr()
    for secret in SECRETS:
        assert secret not in caplog.text
        assert secret not in captured.out + captured.err


def assert_secrets_absent(path: Path, where: str) -> None:
    data = path.read_bytes()
    for secret in SECRETS:
        assert secret.encode() not in data, f"{secret} found in {where}: {path}"


def retries_of(instance: dg.DagsterInstance, run_id: str) -> int:
    events = instance.all_logs(run_id, of_type=dg.DagsterEventType.STEP_UP_FOR_RETRY)
    return len(events)


def test_dagster_retries_the_fetch_after_a_retryable_failure(store, apis, refresh, instance):
    apis.script("/repos/orbit/app", unavailable(), Reply(200, {"stargazers_count": 7}))
    config = {"repo": "orbit/app", "api_url": apis.base_url, "token_env": "GITHUB_TOKEN"}
    store.add_metric(
        "stars", name="Stars", template="github-stars", config={**config, "retries": "0"}
    )
    outcome = refresh("stars")
    assert outcome.success, outcome.error
    assert retries_of(instance, outcome.run_id) == 1
    assert [v for _, v in values(store, "stars")] == [7.0]
    assert fetch_step(store, "stars", outcome.run_id)["status"] == "success"


def test_dagster_does_not_retry_a_client_error(store, apis, refresh, instance):
    apis.github_token = "another-token"
    config = {"repo": "orbit/app", "api_url": apis.base_url, "token_env": "GITHUB_TOKEN"}
    store.add_metric("stars", name="Stars", template="github-stars", config=config)
    outcome = refresh("stars")
    assert not outcome.success
    assert "HTTP 401" in outcome.error and "Bad credentials" in outcome.error
    assert retries_of(instance, outcome.run_id) == 0
    assert len(apis.requests) == 1
    row = store.get_metric("stars")
    assert "Bad credentials" in row["last_error"] and GITHUB_TOKEN not in json.dumps(row)
