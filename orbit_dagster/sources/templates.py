"""The template registry: each template is data (name, description, required config keys,
hints for the transformer generator) plus small functions (check a config, fetch a payload).

An HTTP template is a function from config to an `HttpPlan`; `http_template` runs it through
the one HTTP fetch path. Adding a template is adding one entry to `TEMPLATES`.
"""

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orbit_dagster.sources import file_source, github, gsheets, http_json
from orbit_dagster.sources.errors import SourceError
from orbit_dagster.sources.fetched import Fetched
from orbit_dagster.sources.http import HttpOptions
from orbit_dagster.sources.http_fetch import HttpPlan, fetch_plan
from orbit_dagster.sources.urls import check_no_secrets

Config = Mapping[str, Any]


# The external systems templates read, as the lineage shows them (key: what the system is).
SYSTEMS: dict[str, str] = {
    "files": "Local JSON and CSV files under the allowed folders",
    "http": "JSON APIs over HTTP",
    "github": "The GitHub REST API (api.github.com)",
    "googlesheets": "The Google Sheets API",
}


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    # The key in SYSTEMS of the external system it reads.
    system: str
    required: tuple[str, ...]
    fetch: Callable[[Config], Fetched]
    # Checks the config beyond required keys, raising SourceError (run when a metric is added).
    check: Callable[[Config], None] = lambda _config: None
    # What the payload means, for the transformer generator (a metric's own config wins).
    hints: Mapping[str, str] = field(default_factory=dict)


def http_template(
    name: str,
    description: str,
    system: str,
    required: tuple[str, ...],
    plan: Callable[[Config], HttpPlan],
    check: Callable[[Config], None],
    hints: Mapping[str, str] | None = None,
) -> Template:
    def check_all(config: Config) -> None:
        check(config)
        HttpOptions.from_config(config)  # timeout, retries, max_pages: numbers in range

    return Template(
        name=name,
        description=description,
        system=system,
        required=required,
        fetch=lambda config: fetch_plan(name, plan(config), config),
        check=check_all,
        hints=hints or {},
    )


COUNT_PER_DAY = {"aggregation": "count", "granularity": "day"}

TEMPLATES: dict[str, Template] = {
    template.name: template
    for template in (
        Template(
            name="file",
            description="A local JSON or CSV file (`path`), for notebooks, demos and tests.",
            system="files",
            required=("path",),
            fetch=file_source.fetch,
            check=file_source.check,
        ),
        http_template(
            name="http-json",
            description="Any JSON endpoint (`url`): method, headers, query, body, pagination.",
            system="http",
            required=("url",),
            plan=http_json.plan,
            check=http_json.check,
        ),
        http_template(
            name="github-commits",
            description="Commits per day of a GitHub repository (`repo`), optional branch/author.",
            system="github",
            required=("repo",),
            plan=github.commits_plan,
            check=github.check,
            hints={"date_path": "commit.author.date", **COUNT_PER_DAY},
        ),
        http_template(
            name="github-stars",
            description="Stargazers of a GitHub repository (`repo`), one snapshot per day.",
            system="github",
            required=("repo",),
            plan=github.stars_plan,
            check=github.check,
            hints={
                "date_path": "fetched_at",
                "value_path": "stargazers_count",
                "aggregation": "last",
                "granularity": "day",
            },
        ),
        http_template(
            name="github-issues-opened",
            description="Issues (not pull requests) opened per day in a GitHub repository.",
            system="github",
            required=("repo",),
            plan=github.issues_plan,
            check=github.check,
            hints={"date_path": "created_at", **COUNT_PER_DAY},
        ),
        http_template(
            name="gsheets-values",
            description="Rows of a Google Sheets range (`spreadsheet_id`, `range`), header first.",
            system="googlesheets",
            required=("spreadsheet_id", "range"),
            plan=gsheets.values_plan,
            check=gsheets.check,
        ),
    )
}


def get_template(name: str) -> Template:
    try:
        return TEMPLATES[name]
    except KeyError:
        raise SourceError(
            f"unknown template '{name}'; known templates: {', '.join(sorted(TEMPLATES))}"
        ) from None


def validate_config(template_name: str, config: Config) -> None:
    """Refuse a metric config that lacks what its template needs, before anything runs."""
    template = get_template(template_name)
    missing = [key for key in template.required if not config.get(key)]
    if missing:
        raise SourceError(
            f"template '{template_name}' needs config {', '.join(missing)} "
            f"(e.g. --config {missing[0]}=...)"
        )
    check_no_secrets(config)
    template.check(config)


def prepare_config(template_name: str, config: Config) -> dict[str, Any]:
    """The config to store for a metric being added or changed: checked (`validate_config`),
    and a `file` metric's relative `path` made absolute against the current folder, now and
    once, so that a refresh reads the same file wherever it runs; that file must exist."""
    validate_config(template_name, config)
    if template_name != "file":
        return dict(config)
    given = Path(str(config["path"])).expanduser()
    path = Path(os.path.abspath(given))
    if not path.is_file():
        relative = "" if given.is_absolute() else f" ({given} from {Path.cwd()})"
        problem = "is not a file" if path.exists() else "does not exist"
        raise SourceError(f"file source: {path}{relative} {problem}")
    return {**config, "path": str(path)}


def fetch(template_name: str, config: Config) -> Fetched:
    """Fetch a metric's payload, with a redacted note of what was fetched for the step log."""
    validate_config(template_name, config)
    return get_template(template_name).fetch(config)


def fetch_payload(template_name: str, config: Config) -> Any:
    """Fetch and decode the payload of a metric built on `template_name`."""
    return fetch(template_name, config).payload
