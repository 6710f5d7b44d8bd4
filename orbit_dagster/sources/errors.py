"""The one error a source raises: its message says what failed and where.

`retryable` tells the engine whether trying again later can help (rate limits, 5xx, network
errors) or not (a bad token, a missing file, a body that is not JSON). The sources stay plain
Python; the Dagster op maps this flag to its RetryPolicy.
"""


class SourceError(Exception):
    """Fetching a metric's payload failed; str(error) names the source and the cause."""

    def __init__(
        self, message: str, *, retryable: bool = False, retry_after: float | None = None
    ) -> None:
        super().__init__(message)
        self.retryable = retryable
        # Seconds the service asked us to wait (Retry-After, rate-limit reset), if it said.
        self.retry_after = retry_after
