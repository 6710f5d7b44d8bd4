"""What a metric would get, without saving anything: fetch its source once, let the built-in
generator choose the series (with the candidates it chose among and why), and run the chosen
transformer in the sandbox on that payload. `orbit transformer preview` prints it."""

import datetime as dt
from dataclasses import dataclass
from typing import Any

from orbit_dagster.refresh.steps import config_for_run, generation_hints
from orbit_dagster.sources import fetch
from orbit_dagster.transformers import GeneratedIngestion, generate_ingestion, run_ingestion

# A series spanning more than this is totalled per month, a shorter one per day.
MONTHLY_AFTER = dt.timedelta(days=62)


@dataclass(frozen=True)
class SeriesPreview:
    generated: GeneratedIngestion
    points: list[dict[str, Any]]
    skipped: dict[str, int]
    fetch_log: str

    def totals(self) -> tuple[str, dict[str, float]]:
        """("day" or "month", the sum of the values of each period, in time order)."""
        dates = [point["date"] for point in self.points]
        span = (
            dt.datetime.fromisoformat(max(dates)) - dt.datetime.fromisoformat(min(dates))
            if dates
            else dt.timedelta(0)
        )
        period, width = ("month", 7) if span > MONTHLY_AFTER else ("day", 10)
        totals: dict[str, float] = {}
        for point in self.points:
            key = point["date"][:width]
            totals[key] = totals.get(key, 0.0) + point["value"]
        return period, dict(sorted(totals.items()))


def preview_series(
    template: str, config: dict[str, Any], *, name: str, description: str = ""
) -> SeriesPreview:
    """Fetch, generate and run; raises what a refresh's steps would (SourceError,
    GenerationError naming the candidates, TransformerError)."""
    fetched = fetch(template, config)
    run_config = config_for_run(template, config)
    generated = generate_ingestion(
        fetched.payload,
        template=template,
        name=name,
        description=description,
        hints=generation_hints(run_config),
    )
    result = run_ingestion(generated.code, fetched.payload, run_config)
    return SeriesPreview(generated, result.points, result.skipped, fetched.log)
