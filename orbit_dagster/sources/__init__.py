"""Metric sources: templates that say how to fetch a metric's payload, and their clients.

Plain Python (no Dagster). `fetch(template, config)` returns the decoded payload with a
redacted note for the step log (`fetch_payload`: just the payload), or raises `SourceError`
with a message naming what was wrong.
"""

from orbit_dagster.sources.bundled import SAMPLES, sample_path
from orbit_dagster.sources.errors import SourceError
from orbit_dagster.sources.fetched import Fetched
from orbit_dagster.sources.templates import (
    TEMPLATES,
    Template,
    fetch,
    fetch_payload,
    get_template,
)

__all__ = [
    "SAMPLES",
    "Fetched",
    "SourceError",
    "TEMPLATES",
    "Template",
    "fetch",
    "fetch_payload",
    "get_template",
    "sample_path",
]
