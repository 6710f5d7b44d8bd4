"""`orbit metrics add --config KEY=VALUE` and `orbit refresh` with a token, as a user runs
them: the metric stores the variable's name, and the token is nowhere under the data folder
nor in the command's output, even when the service echoes it back in an error.
"""

import subprocess
from pathlib import Path

from orbit_dagster_tests.sources.fake_apis import Reply, fake_apis

TOKEN = "ghp_cli_secret_token_5a4b3c"


def test_github_metric_through_the_cli_keeps_the_token_out_of_everything(tmp_path, run_orbit):
    def orbit(*args: str) -> subprocess.CompletedProcess:
        result = run_orbit(*args, extra_env={"GITHUB_TOKEN": TOKEN})
        assert TOKEN not in result.stdout + result.stderr
        return result

    with fake_apis() as apis:
        apis.github_token = TOKEN
        added = orbit(
            "metrics", "add", "--id", "commits", "--name", "Commits",
            "--template", "github-commits",
            "--config", "repo=orbit/app",
            "--config", f"api_url={apis.base_url}",
            "--config", "token_env=GITHUB_TOKEN",
            "--config", "per_page=5",
        )  # fmt: skip
        assert added.returncode == 0, added.stderr
        refreshed = orbit("refresh", "commits", "--mode", "create")
        assert refreshed.returncode == 0, refreshed.stderr
        apis.script("/repos/orbit/app/commits", Reply(401, {"message": f"{TOKEN} revoked"}))
        failed = orbit("refresh", "commits", "--mode", "soft-refresh")
        assert failed.returncode == 1 and "REDACTED revoked" in failed.stdout + failed.stderr
    shown = orbit("metrics", "show", "commits", "--points", "--json")
    assert '"token_env": "GITHUB_TOKEN"' in shown.stdout and "2026-10-05" in shown.stdout
    files = [p for p in Path(tmp_path / "data").rglob("*") if p.is_file()]
    assert files
    for path in files:
        assert TOKEN.encode() not in path.read_bytes(), path
