"""Errors of the refresh steps, and the set of errors whose message needs no type name."""

from orbit_dagster.settings import ConfigurationError
from orbit_dagster.sources import SourceError
from orbit_dagster.store import StoreError
from orbit_dagster.transformers import TransformerError


class RefreshError(Exception):
    """A refresh step cannot go on; the message says what was wrong."""


OWN_ERRORS: tuple[type[Exception], ...] = (
    ConfigurationError,
    RefreshError,
    SourceError,
    StoreError,
    TransformerError,
)
