"""Plain records and errors the store hands out and takes in (no SQLAlchemy types leak out)."""

import datetime as dt
import json
from dataclasses import dataclass
from typing import Any


class StoreError(Exception):
    """A store operation was refused; the message says why."""


class StoreUnavailableError(StoreError):
    """The store's database cannot be reached (down, restarting, the connection lost)."""


class MetricNotFoundError(StoreError):
    def __init__(self, metric_id: str):
        super().__init__(f"metric '{metric_id}' not found")
        self.metric_id = metric_id


class MetricExistsError(StoreError):
    def __init__(self, metric_id: str):
        super().__init__(f"metric '{metric_id}' already exists")


class MetricBusyError(StoreError):
    """Another run holds the metric's refresh lock."""


@dataclass(frozen=True)
class Transformer:
    """Generated code for one metric, with what produced it."""

    code: str
    generator: str
    template: str
    # Why the code no longer fits its metric (see `Store.update_metric`); None while it does.
    outdated_reason: str | None = None


@dataclass(frozen=True)
class Point:
    """One validated data point: a UTC timestamp, a finite value, optional dimensions."""

    ts: dt.datetime
    value: float
    dimensions: dict[str, str] | None = None

    @property
    def dimensions_key(self) -> str:
        """Canonical JSON of the dimensions: part of the point's identity ('' for none)."""
        if not self.dimensions:
            return ""
        return json.dumps(self.dimensions, sort_keys=True, separators=(",", ":"))

    @classmethod
    def from_output(cls, item: dict[str, Any]) -> "Point":
        """From a transformer's validated output item (`date` is ISO-8601 UTC)."""
        ts = dt.datetime.fromisoformat(item["date"].replace("Z", "+00:00"))
        if ts.tzinfo is not None:
            ts = ts.astimezone(dt.UTC).replace(tzinfo=None)
        return cls(ts=ts, value=float(item["value"]), dimensions=item.get("dimensions") or None)

    def to_json(self) -> dict[str, Any]:
        return {
            "date": self.ts.isoformat() + "Z",
            "value": self.value,
            "dimensions": self.dimensions,
        }


def utcnow() -> dt.datetime:
    """Now as naive UTC, the store's timestamp convention."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def iso(value: dt.datetime | None) -> str | None:
    return None if value is None else value.isoformat() + "Z"
