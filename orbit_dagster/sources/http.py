"""The HTTP client every HTTP template goes through: one pooled httpx client per fetch,
explicit timeouts, retries with backoff inside the step, and errors that name the cause.

Policy, in one place:
- 2xx: the body must be JSON; anything else (HTML error page, empty or truncated body) fails
  at once with the status, content type and first bytes, never a bare parse error.
- 408, 429, 5xx, a 403 that says the rate limit is used up, timeouts and network errors are
  retried; 429/503 wait for `Retry-After` (seconds or an HTTP date), the rest back off
  exponentially with jitter.
- Any other 4xx fails at once with the service's own message: retrying a bad token or a
  missing repository only burns the rate limit.
Every URL, header and message that leaves this module goes through the fetch's `Redactor`.
"""

import contextvars
import email.utils
import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import tenacity

from orbit_dagster.sources.errors import SourceError
from orbit_dagster.sources.fetched import excerpt
from orbit_dagster.sources.options import int_option, number_option
from orbit_dagster.sources.redaction import Redactor

# The shown part of an error body: enough for the service's message, short enough to read.
ERROR_BODY_BYTES = 200
USER_AGENT = "orbit-dagster"


@dataclass(frozen=True)
class HttpRequest:
    url: str
    method: str = "GET"
    headers: Mapping[str, str] = field(default_factory=dict)
    params: Mapping[str, str] = field(default_factory=dict)
    json_body: Any = None


@dataclass(frozen=True)
class Page:
    """One successful, decoded response."""

    url: httpx.URL
    payload: Any
    links: Mapping[str, Mapping[str, str]]
    raw: bytes


@dataclass(frozen=True)
class HttpOptions:
    """Per-metric limits, all overridable through config (tests use small ones)."""

    timeout: float = 30.0
    connect_timeout: float = 10.0
    retries: int = 3
    backoff: float = 1.0
    # Waiting longer than this inside a step holds a worker idle; Dagster's retry takes over.
    max_retry_after: float = 60.0
    max_pages: int = 10

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "HttpOptions":
        default = cls()
        return cls(
            timeout=number_option(config, "timeout", default.timeout, minimum=0.01),
            connect_timeout=number_option(
                config, "connect_timeout", default.connect_timeout, minimum=0.01
            ),
            retries=int_option(config, "retries", default.retries),
            backoff=number_option(config, "backoff", default.backoff),
            max_retry_after=number_option(config, "max_retry_after", default.max_retry_after),
            max_pages=int_option(config, "max_pages", default.max_pages, minimum=1),
        )


# The redactor of the fetch running in this thread or task, for `_RedactHttpxLogs`.
_ACTIVE_REDACTOR: contextvars.ContextVar[Redactor | None] = contextvars.ContextVar(
    "orbit_active_redactor", default=None
)


class _RedactHttpxLogs(logging.Filter):
    """httpx logs each request's full URL at INFO: whoever turns logging on (Dagster's managed
    loggers, a notebook) must not see an API key in it. Redacts with the running fetch's
    secrets, and credential-shaped parameters by name."""

    def filter(self, record: logging.LogRecord) -> bool:
        redactor = _ACTIVE_REDACTOR.get() or Redactor()
        if isinstance(record.args, tuple):
            record.args = tuple(
                redactor.url(arg) if isinstance(arg, httpx.URL) else arg for arg in record.args
            )
        record.msg = redactor.text(str(record.msg))
        return True


logging.getLogger("httpx").addFilter(_RedactHttpxLogs())


class HttpSession:
    """The requests of one fetch: shares connections across its pages and retries, and keeps
    a redacted log of what was sent and received for the step log.

    One client per fetch (not per process) keeps fetches of different metrics independent:
    a metric's slow or broken service never holds another metric's connections.
    """

    def __init__(self, source: str, options: HttpOptions, redactor: Redactor) -> None:
        self.source = source
        self.options = options
        self.redactor = redactor
        self.lines: list[str] = []
        self.first_raw: bytes | None = None
        self.client = httpx.Client(
            timeout=httpx.Timeout(
                options.timeout, connect=min(options.connect_timeout, options.timeout)
            ),
            follow_redirects=True,  # httpx drops Authorization when a redirect changes host
            headers={"User-Agent": USER_AGENT},
        )
        # Exponential backoff with jitter (tenacity) so that many metrics failing against one
        # service at once do not retry in lockstep and hammer it again together.
        self._backoff = tenacity.wait_exponential_jitter(
            multiplier=options.backoff, max=30, jitter=options.backoff
        )

    def __enter__(self) -> "HttpSession":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.client.close()

    def send(self, request: HttpRequest) -> Page:
        """The decoded page, after the retries the policy allows; SourceError otherwise."""
        retrying = tenacity.Retrying(
            retry=tenacity.retry_if_exception(self._should_retry),
            stop=tenacity.stop_after_attempt(self.options.retries + 1),
            wait=self._wait,
            before_sleep=self._note_retry,
            reraise=True,
        )
        active = _ACTIVE_REDACTOR.set(self.redactor)
        try:
            return retrying(self._send_once, request)
        except SourceError as error:
            attempts = retrying.statistics.get("attempt_number", 1)
            if attempts == 1:
                raise
            raise SourceError(
                f"{error} (gave up after {attempts} attempts)",
                retryable=error.retryable,
                retry_after=error.retry_after,
            ) from None
        finally:
            _ACTIVE_REDACTOR.reset(active)

    def log(self) -> str:
        lines = list(self.lines)
        if self.first_raw is not None:
            lines.append(f"response (first page): {excerpt(self.first_raw)}")
        return self.redactor.text("\n".join(lines))

    def _should_retry(self, error: BaseException) -> bool:
        if not isinstance(error, SourceError) or not error.retryable:
            return False
        return error.retry_after is None or error.retry_after <= self.options.max_retry_after

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, SourceError) and error.retry_after is not None:
            return error.retry_after
        return self._backoff(state)

    def _note_retry(self, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        delay = state.next_action.sleep if state.next_action else 0
        self.lines.append(f"attempt {state.attempt_number} failed ({error}); retry in {delay:.1f}s")

    def _send_once(self, request: HttpRequest) -> Page:
        try:
            built = self.client.build_request(
                request.method,
                request.url,
                params=dict(request.params) or None,
                headers=dict(request.headers),
                json=request.json_body,
            )
        except httpx.InvalidURL as error:
            raise SourceError(
                f"{self.source}: invalid URL: {self.redactor.text(str(error))}"
            ) from None
        shown = f"{request.method} {self.redactor.url(built.url)}"
        started = time.perf_counter()
        try:
            response = self.client.send(built)
        except httpx.TimeoutException:
            raise SourceError(
                f"{self.source}: {shown} timed out after {self.options.timeout:g} s",
                retryable=True,
            ) from None
        except httpx.HTTPError as error:
            raise SourceError(
                f"{self.source}: {shown} failed: {self.redactor.text(str(error) or repr(error))}",
                retryable=True,
            ) from None
        raw = response.content
        content_type = response.headers.get("content-type", "(none)")
        elapsed = round((time.perf_counter() - started) * 1000)
        self.lines.append(
            f"{shown} -> HTTP {response.status_code} ({content_type}, {len(raw)} bytes, "
            f"{elapsed} ms)"
        )
        if not response.is_success:
            raise self._status_error(response, shown, content_type)
        if self.first_raw is None:
            self.first_raw = raw
        return Page(url=response.url, payload=self._decode(raw, response, shown, content_type),
                    links=response.links, raw=raw)  # fmt: skip

    def _decode(self, raw: bytes, response: httpx.Response, shown: str, content_type: str) -> Any:
        what = f"{self.source}: {shown} answered HTTP {response.status_code}"
        if not raw.strip():
            raise SourceError(f"{what} with an empty body ({content_type})")
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else "not UTF-8"
            raise SourceError(
                f"{what} with a body that is not JSON ({content_type}, {len(raw)} bytes, "
                f"{reason}): {self.redactor.text(repr(raw[:ERROR_BODY_BYTES]))}"
            ) from None

    def _status_error(self, response: httpx.Response, shown: str, content_type: str) -> SourceError:
        status = response.status_code
        retry_after = _retry_after(response)
        rate_limited = status == 403 and response.headers.get("x-ratelimit-remaining") == "0"
        retryable = status in (408, 429) or status >= 500 or rate_limited
        message = self.redactor.text(_service_message(response.content))
        hint = f"; retry after {retry_after:g} s" if retry_after is not None else ""
        return SourceError(
            f"{self.source}: {shown} answered HTTP {status} ({content_type}): {message}{hint}",
            retryable=retryable,
            retry_after=retry_after if retryable else None,
        )


def _retry_after(response: httpx.Response) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or HTTP date) or a rate-limit reset time."""
    value = response.headers.get("retry-after", "").strip()
    if value:
        if value.isdigit():
            return float(value)
        try:
            moment = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            return None
        return max(0.0, moment.timestamp() - time.time())
    reset = response.headers.get("x-ratelimit-reset", "")
    if response.headers.get("x-ratelimit-remaining") == "0" and reset.isdigit():
        return max(0.0, float(reset) - time.time())
    return None


def _service_message(raw: bytes) -> str:
    """The service's own error message (GitHub `message`, Google `error.message`, …)."""
    try:
        body = json.loads(raw)
    except (json.JSONDecodeError, UnicodeDecodeError):
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        for candidate in (
            body.get("message"),
            error.get("message") if isinstance(error, dict) else error,
            body.get("error_description"),
            body.get("detail"),
        ):
            if isinstance(candidate, str) and candidate:
                return candidate
    return repr(raw[:ERROR_BODY_BYTES])
