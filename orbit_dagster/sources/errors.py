"""The one error a source raises: its message says what failed and where."""


class SourceError(Exception):
    """Fetching a metric's payload failed; str(error) names the source and the cause."""
