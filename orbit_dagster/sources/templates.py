"""The template registry: each template is data (name, description, required config keys)
plus one function that fetches the payload. Adding a template is adding one entry here.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from orbit_dagster.sources import file_source, http_json
from orbit_dagster.sources.errors import SourceError


@dataclass(frozen=True)
class Template:
    name: str
    description: str
    required: tuple[str, ...]
    fetch: Callable[[Mapping[str, Any]], Any]
    # Checks the config beyond required keys, raising SourceError (run when a metric is added).
    check: Callable[[Mapping[str, Any]], None] = lambda _config: None


TEMPLATES: dict[str, Template] = {
    template.name: template
    for template in (
        Template(
            name="file",
            description="A local JSON file (`path`), for notebooks, demos and tests.",
            required=("path",),
            fetch=file_source.fetch,
        ),
        Template(
            name="http-json",
            description="Any JSON endpoint (`url`), fetched with an HTTP GET.",
            required=("url",),
            fetch=http_json.fetch,
            check=lambda config: http_json.check_url(str(config["url"])),
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


def validate_config(template_name: str, config: Mapping[str, Any]) -> None:
    """Refuse a metric config that lacks what its template needs, before anything runs."""
    template = get_template(template_name)
    missing = [key for key in template.required if not config.get(key)]
    if missing:
        raise SourceError(
            f"template '{template_name}' needs config {', '.join(missing)} "
            f"(e.g. --config {missing[0]}=...)"
        )
    template.check(config)


def fetch_payload(template_name: str, config: Mapping[str, Any]) -> Any:
    """Fetch and decode the payload of a metric built on `template_name`."""
    validate_config(template_name, config)
    return get_template(template_name).fetch(config)
