"""The one fetch path of every HTTP template: a template describes its request as an
`HttpPlan`; this resolves its secrets from the environment, sends it through `HttpSession`,
follows its pages and returns the payload with a redacted log.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from orbit_dagster.sources.errors import SourceError
from orbit_dagster.sources.fetched import Fetched
from orbit_dagster.sources.http import HttpOptions, HttpRequest, HttpSession
from orbit_dagster.sources.options import read_secret
from orbit_dagster.sources.pagination import Pagination, paginate
from orbit_dagster.sources.redaction import Redactor


@dataclass(frozen=True)
class Secret:
    """A header or parameter value read from an environment variable when the fetch runs."""

    variable: str
    key: str  # the config key that named the variable, for error messages
    prefix: str = ""  # e.g. "Bearer "


@dataclass(frozen=True)
class HttpPlan:
    """What an HTTP template fetches: the first request, how to page, how to shape the result."""

    url: str
    method: str = "GET"
    headers: Mapping[str, str | Secret] = field(default_factory=dict)
    params: Mapping[str, str | Secret] = field(default_factory=dict)
    json_body: Any = None
    pagination: Pagination = Pagination()
    records_path: str | None = None
    # Applied to the joined payload: a template's filter or summary (e.g. drop pull requests).
    shape: Callable[[Any], Any] | None = None


def bearer(config: Mapping[str, Any], key: str = "token_env") -> dict[str, str | Secret]:
    """An `Authorization: Bearer` header from the variable named by config `key`, if any."""
    variable = config.get(key)
    return {"Authorization": Secret(str(variable), key, "Bearer ")} if variable else {}


def fetch_plan(source: str, plan: HttpPlan, config: Mapping[str, Any]) -> Fetched:
    options = HttpOptions.from_config(config)
    secrets: list[str] = []

    def resolve(values: Mapping[str, str | Secret], *, headers: bool = False) -> dict[str, str]:
        resolved = {}
        for name, value in values.items():
            if isinstance(value, Secret):
                secret = read_secret(value.variable, key=value.key)
                secrets.append(secret)
                value = value.prefix + secret
            if headers and not value.isascii():
                # HTTP header values are ASCII; say which header, never what it holds.
                raise SourceError(f"{source}: the value of header {name} is not ASCII")
            resolved[name] = value
        return resolved

    request = HttpRequest(
        url=plan.url,
        method=plan.method,
        headers=resolve(plan.headers, headers=True),
        params=resolve(plan.params),
        json_body=plan.json_body,
    )
    redactor = Redactor().with_secrets(secrets)
    try:
        with HttpSession(source, options, redactor) as session:
            payload, note = paginate(
                session.send, request, plan.pagination, plan.records_path, options.max_pages
            )
            if plan.shape is not None:
                payload = plan.shape(payload)
            log = session.log()
    except SourceError as error:
        # Pagination and shapes quote the body (a next URL, a range); whatever raised, the
        # message leaves through the one redaction every sink uses.
        raise SourceError(
            redactor.text(str(error)), retryable=error.retryable, retry_after=error.retry_after
        ) from None
    # A service may echo the credential in its body; the payload is kept between a run's steps
    # (and shown to the model writing a transformer), so it leaves redacted like any message.
    return Fetched(
        payload=redactor.value(payload), log=redactor.text(f"{note}\n{log}" if note else log)
    )
