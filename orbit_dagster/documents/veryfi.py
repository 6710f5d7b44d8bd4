"""Veryfi API v8 over httpx: look a document up by `external_id`, submit one, sign requests.

Errors carry Veryfi's own message. `VeryfiRejected` (a 4xx) must not be retried;
`VeryfiUnavailable` (429, 5xx, timeout, connection error) may be, after `retry_after`
seconds when Veryfi said so. Retrying is the caller's choice (a Dagster RetryPolicy), so
this client makes exactly one HTTP request per call, bounded by the configured timeout.
"""

import base64
import datetime as dt
import email.utils
import hashlib
import hmac
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_BASE_URL = "https://api.veryfi.com/api/v8/partner"
DEFAULT_TIMEOUT_MS = 120_000


class VeryfiError(Exception):
    """A Veryfi call failed; the message says how, never with credentials."""


class VeryfiRejected(VeryfiError):
    """Veryfi refused the request (4xx other than 429): retrying would not help."""


class VeryfiUnavailable(VeryfiError):
    """Veryfi was busy, failing or too slow: the same request may succeed later."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


@dataclass(frozen=True)
class VeryfiSettings:
    client_id: str
    username: str
    api_key: str
    client_secret: str | None = None
    base_url: str = DEFAULT_BASE_URL
    timeout_ms: int = DEFAULT_TIMEOUT_MS


def signature(client_secret: str, payload: Mapping[str, Any], timestamp_ms: int) -> str:
    """Veryfi's request signature: base64 HMAC-SHA256 of `timestamp:T,key:value,...`."""
    message = f"timestamp:{timestamp_ms}" + "".join(f",{k}:{v}" for k, v in payload.items())
    digest = hmac.new(client_secret.encode(), message.encode(), hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def retry_after_seconds(value: str | None) -> float | None:
    """`Retry-After` as seconds: either delay-seconds or an HTTP date (RFC 9110)."""
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        # The stdlib's RFC 5322 date parser is what HTTP dates are; no extra dependency.
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dt.datetime.now(dt.UTC)).total_seconds())


class VeryfiClient:
    def __init__(self, settings: VeryfiSettings, transport: httpx.BaseTransport | None = None):
        self.settings = settings
        self._http = httpx.Client(
            base_url=settings.base_url.rstrip("/"),
            timeout=settings.timeout_ms / 1000,
            transport=transport,
            headers={
                "CLIENT-ID": settings.client_id,
                "AUTHORIZATION": f"apikey {settings.username}:{settings.api_key}",
                "Accept": "application/json",
            },
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "VeryfiClient":
        return self

    def __exit__(self, *_exc) -> None:
        self.close()

    def find(self, external_id: str) -> dict[str, Any] | None:
        """The document submitted with this `external_id`, if Veryfi has one."""
        params = {"external_id": external_id}
        body = self._request("GET", "/documents", params=params, signed=params)
        documents = body.get("documents", []) if isinstance(body, dict) else body
        matches = [d for d in documents if d.get("external_id") == external_id]
        return matches[0] if matches else None

    def submit(self, file_name: str, external_id: str, file_field: Mapping[str, str]) -> dict:
        """Submit a document; `file_field` is `{"file_data": base64}` or `{"file_url": url}`."""
        payload = {"file_name": file_name, **file_field, "external_id": external_id}
        return self._request("POST", "/documents", json=payload, signed=payload)

    def _request(self, method: str, path: str, *, signed: Mapping[str, Any], **kwargs) -> Any:
        headers = {}
        if self.settings.client_secret:
            timestamp = int(time.time() * 1000)
            headers["X-Veryfi-Request-Timestamp"] = str(timestamp)
            headers["X-Veryfi-Request-Signature"] = signature(
                self.settings.client_secret, signed, timestamp
            )
        try:
            response = self._http.request(method, path, headers=headers, **kwargs)
        except httpx.TimeoutException as error:
            raise VeryfiUnavailable(
                f"Veryfi did not answer {method} {path} within {self.settings.timeout_ms} ms"
            ) from error
        except httpx.TransportError as error:
            raise VeryfiUnavailable(f"Veryfi could not be reached: {error}") from error
        if response.status_code == 429 or response.status_code >= 500:
            raise VeryfiUnavailable(
                f"Veryfi answered {response.status_code} to {method} {path}: {_message(response)}",
                retry_after=retry_after_seconds(response.headers.get("Retry-After")),
            )
        if response.status_code >= 400:
            raise VeryfiRejected(
                f"Veryfi refused {method} {path} ({response.status_code}): {_message(response)}"
            )
        return response.json()


def _message(response: httpx.Response) -> str:
    """Veryfi's own error text (`{"status": "fail", "error": ...}`), else the raw body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:500] or response.reason_phrase
    if isinstance(body, dict):
        return str(body.get("error") or body.get("message") or body)
    return str(body)
