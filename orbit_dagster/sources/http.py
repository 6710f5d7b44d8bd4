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
- Bounds: a total deadline per request (`timeout`) and per fetch (`fetch_timeout`), a body
  size cap enforced while streaming (`max_bytes`), at most `MAX_RETRIES` retries, and
  redirects to another origin never carry a header that holds a secret.
Every URL, header and message that leaves this module goes through the fetch's `Redactor`.
"""

import contextvars
import email.utils
import functools
import json
import logging
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import httpx
import tenacity

from orbit_dagster.sources.deadline import SocketWatchdog
from orbit_dagster.sources.errors import SourceError
from orbit_dagster.sources.fetched import EXCERPT_CHARACTERS
from orbit_dagster.sources.options import MAX_BYTES, int_option, max_bytes_option, number_option
from orbit_dagster.sources.redaction import Redactor, is_sensitive_header

# The shown part of an error body: enough for the service's message, short enough to read.
ERROR_BODY_CHARACTERS = 200
USER_AGENT = "orbit-dagster"
# More attempts than this only hammer a failing service; Dagster's RetryPolicy comes after.
MAX_RETRIES = 10
# httpx's own default; each hop is a new request within the same deadline.
MAX_REDIRECTS = 20


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
    # httpx's type: links by rel (or by URL when they have none), so a key may be None.
    links: Mapping[str | None, Mapping[str, str]]
    raw: bytes


@dataclass(frozen=True)
class HttpOptions:
    """Per-metric limits, all overridable through config (tests use small ones), each within
    bounds checked when a metric is added, so that no config can make a fetch unbounded."""

    # Seconds for one request, from connecting to the last byte (redirects included).
    timeout: float = 30.0
    connect_timeout: float = 10.0
    # Seconds for the whole fetch: every page, retry and wait.
    fetch_timeout: float = 120.0
    retries: int = 3
    backoff: float = 1.0
    # Waiting longer than this inside a step holds a worker idle; Dagster's retry takes over.
    max_retry_after: float = 60.0
    max_pages: int = 10
    # The largest response body read, counted while it streams in (after decompression).
    max_bytes: int = MAX_BYTES

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> "HttpOptions":
        default = cls()

        def seconds(key: str, maximum: float) -> float:
            return number_option(config, key, getattr(default, key), minimum=0.01, maximum=maximum)

        return cls(
            timeout=seconds("timeout", 600),
            connect_timeout=seconds("connect_timeout", 600),
            fetch_timeout=seconds("fetch_timeout", 3600),
            retries=int_option(config, "retries", default.retries, maximum=MAX_RETRIES),
            backoff=number_option(config, "backoff", default.backoff, maximum=60),
            max_retry_after=number_option(
                config, "max_retry_after", default.max_retry_after, maximum=3600
            ),
            max_pages=int_option(config, "max_pages", default.max_pages, minimum=1, maximum=1000),
            max_bytes=max_bytes_option(config),
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


# httpcore logs response headers at DEBUG, and a service may echo a credential in one.
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(_RedactHttpxLogs())


class HttpSession:
    """The requests of one fetch: shares connections across its pages and retries, keeps
    a redacted log of what was sent and received for the step log, and holds every request
    and the fetch as a whole to their deadlines and the size cap.

    One client per fetch (not per process) keeps fetches of different metrics independent:
    a metric's slow or broken service never holds another metric's connections.
    """

    def __init__(self, source: str, options: HttpOptions, redactor: Redactor) -> None:
        self.source = source
        self.options = options
        self.redactor = redactor
        self.lines: list[str] = []
        self.first_raw: bytes | None = None
        self.fetch_deadline = time.monotonic() + options.fetch_timeout
        self._watchdog = SocketWatchdog()
        self.client = httpx.Client(
            verify=_tls_context(),
            # Redirects are followed here, not by httpx: it would read a redirect's body
            # unbounded and carry custom credential headers (X-Api-Key) to another host.
            follow_redirects=False,
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
            stop=self._should_stop,
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
            shown = self.redactor.excerpt(self.first_raw, EXCERPT_CHARACTERS)
            lines.append(f"response (first page): {shown}")
        return self.redactor.text("\n".join(lines))

    def _should_retry(self, error: BaseException) -> bool:
        if not isinstance(error, SourceError) or not error.retryable:
            return False
        return error.retry_after is None or error.retry_after <= self.options.max_retry_after

    def _should_stop(self, state: tenacity.RetryCallState) -> bool:
        """Stop retrying after the attempts the policy allows, or when the wait alone would end
        past the fetch's deadline."""
        if state.attempt_number > self.options.retries:
            return True
        return time.monotonic() + (state.upcoming_sleep or 0) >= self.fetch_deadline

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
        remaining = self.fetch_deadline - time.monotonic()
        if remaining <= 0:
            raise SourceError(
                f"{self.source}: the fetch ran out of time (fetch_timeout "
                f"{self.options.fetch_timeout:g} s) before {request.method} "
                f"{self.redactor.url(request.url)}",
                retryable=True,
            )
        budget = min(self.options.timeout, remaining)
        try:
            built = self.client.build_request(
                request.method,
                request.url,
                params=dict(request.params) or None,
                headers=dict(request.headers),
                json=request.json_body,
                # Each operation's own limit; the watchdog below bounds the request as a whole.
                timeout=httpx.Timeout(budget, connect=min(self.options.connect_timeout, budget)),
                extensions={"trace": self._watchdog.trace},
            )
        except httpx.InvalidURL as error:
            raise SourceError(
                f"{self.source}: invalid URL: {self.redactor.text(str(error))}"
            ) from None
        shown = f"{request.method} {self.redactor.url(built.url)}"
        started = time.perf_counter()
        response, raw = self._exchange_within(built, shown, budget)
        content_type = response.headers.get("content-type", "(none)")
        elapsed = round((time.perf_counter() - started) * 1000)
        self.lines.append(
            f"{shown} -> HTTP {response.status_code} ({content_type}, {len(raw)} bytes, "
            f"{elapsed} ms)"
        )
        if not response.is_success:
            raise self._status_error(response, raw, shown, content_type)
        if self.first_raw is None:
            self.first_raw = raw
        return Page(url=response.url, payload=self._decode(raw, response, shown, content_type),
                    links=response.links, raw=raw)  # fmt: skip

    def _exchange_within(
        self, request: httpx.Request, shown: str, budget: float
    ) -> tuple[httpx.Response, bytes]:
        """`_exchange`, cut off after `budget` seconds however slowly the server answers."""
        cut_short = budget < self.options.timeout  # by what was left of the fetch's time
        timed_out = SourceError(
            f"{self.source}: {shown} timed out after {budget:.3g} s"
            + (f" (fetch_timeout {self.options.fetch_timeout:g} s reached)" if cut_short else ""),
            retryable=True,
        )
        with self._watchdog.deadline(budget) as expired:
            try:
                response, raw = self._exchange(request, shown)
            except httpx.TimeoutException:
                raise timed_out from None
            except httpx.HTTPError as error:
                if expired():
                    raise timed_out from None
                reason = self.redactor.text(str(error) or repr(error))
                failed = f"{self.source}: {shown} failed: {reason}"
                raise SourceError(failed, retryable=True) from None
            if expired():  # cut mid-body: what was read is not the whole response
                raise timed_out
        return response, raw

    def _exchange(self, request: httpx.Request, shown: str) -> tuple[httpx.Response, bytes]:
        """Send `request`, following redirects, and read the final body within the size cap."""
        for _ in range(MAX_REDIRECTS + 1):
            response = self.client.send(request, stream=True)
            try:
                if response.next_request is None:
                    return response, self._read_capped(response, shown)
                request = self._redirect(request, response.next_request)
            finally:
                response.close()  # a redirect's body is never read
        raise SourceError(f"{self.source}: {shown} redirected more than {MAX_REDIRECTS} times")

    def _redirect(self, request: httpx.Request, following: httpx.Request) -> httpx.Request:
        """The next hop. To another origin (scheme, host, port) it goes without every header
        that carries a secret: httpx drops only `Authorization`, not an `X-Api-Key` read from
        the environment."""
        if _origin(following.url) != _origin(request.url):
            dropped = [
                name
                for name, value in following.headers.items()
                if is_sensitive_header(name) or self.redactor.text(value) != value
            ]
            for name in dropped:
                del following.headers[name]
            self.lines.append(
                f"redirected to another origin ({self.redactor.url(following.url)})"
                + (f"; not sending {', '.join(dropped)}" if dropped else "")
            )
        return following

    def _read_capped(self, response: httpx.Response, shown: str) -> bytes:
        """The body, refused as soon as it is larger than `max_bytes`: neither the declared
        length nor the bytes streamed so far may pass the cap, so a huge body is never held."""
        cap = self.options.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise self._too_large(shown, f"it declares {int(declared):,} bytes")
        body = bytearray()
        for chunk in response.iter_bytes():
            body += chunk
            if len(body) > cap:
                raise self._too_large(shown, f"stopped after reading {len(body):,} bytes")
        return bytes(body)

    def _too_large(self, shown: str, detail: str) -> SourceError:
        return SourceError(
            f"{self.source}: {shown} answered with a body larger than the "
            f"{self.options.max_bytes:,}-byte limit (config max_bytes); {detail}"
        )

    def _decode(self, raw: bytes, response: httpx.Response, shown: str, content_type: str) -> Any:
        what = f"{self.source}: {shown} answered HTTP {response.status_code}"
        if not raw.strip():
            raise SourceError(f"{what} with an empty body ({content_type})")
        try:
            return json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            reason = error.msg if isinstance(error, json.JSONDecodeError) else "not UTF-8"
            body = self.redactor.excerpt(raw, ERROR_BODY_CHARACTERS)
            raise SourceError(
                f"{what} with a body that is not JSON ({content_type}, {len(raw)} bytes, "
                f"{reason}): {body!r}"
            ) from None

    def _status_error(
        self, response: httpx.Response, raw: bytes, shown: str, content_type: str
    ) -> SourceError:
        status = response.status_code
        retry_after = _retry_after(response)
        rate_limited = status == 403 and response.headers.get("x-ratelimit-remaining") == "0"
        retryable = status in (408, 429) or status >= 500 or rate_limited
        # Redacted before it is cut, and only then quoted: quoting first would escape a
        # secret's backslashes or quotes into a form redaction does not know.
        said = _service_message(raw)
        body = self.redactor.excerpt(raw if said is None else said, ERROR_BODY_CHARACTERS)
        message = repr(body) if said is None else body
        hint = f"; retry after {retry_after:g} s" if retry_after is not None else ""
        return SourceError(
            f"{self.source}: {shown} answered HTTP {status} ({content_type}): {message}{hint}",
            retryable=retryable,
            retry_after=retry_after if retryable else None,
        )


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """httpx's default TLS context, built once: loading the CA bundle takes ~50 ms, which
    each fetch (one client per fetch) paid again. A context is safe to share across threads."""
    return httpx.create_ssl_context()


def _origin(url: httpx.URL) -> tuple[str, str, int | None]:
    return url.scheme, url.host, url.port


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


def _service_message(raw: bytes) -> str | None:
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
    return None
