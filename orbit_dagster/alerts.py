"""Posting a JSON alert to a webhook, politely: bounded retries, a time limit, never raising.

tenacity supplies the retry policy (exponential backoff with jitter, retry only on network
errors and 5xx/429) instead of a hand-written loop. An alert is best effort: whatever
happens, the caller gets an outcome string, never an exception.
"""

from collections.abc import Mapping
from typing import Any

import httpx
import tenacity

TIMEOUT = httpx.Timeout(10.0, connect=5.0)
ATTEMPTS = 3


class _Retryable(Exception):
    pass


def post_alert(url: str, payload: Mapping[str, Any], *, wait_max: float = 5.0) -> str:
    """POST `payload` as JSON; returns 'delivered (HTTP n)' or why it was not delivered."""

    @tenacity.retry(
        stop=tenacity.stop_after_attempt(ATTEMPTS),
        wait=tenacity.wait_random_exponential(multiplier=0.2, max=wait_max),
        retry=tenacity.retry_if_exception_type((httpx.TransportError, _Retryable)),
        reraise=True,
    )
    def send() -> httpx.Response:
        response = httpx.post(url, json=payload, timeout=TIMEOUT)
        if response.status_code == 429 or response.status_code >= 500:
            raise _Retryable(f"HTTP {response.status_code}")
        return response

    try:
        response = send()
    except (httpx.HTTPError, _Retryable) as error:
        return f"not delivered after {ATTEMPTS} attempts: {error}"
    if response.is_error:
        return f"refused: HTTP {response.status_code}"
    return f"delivered (HTTP {response.status_code})"
