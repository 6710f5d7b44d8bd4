"""Transformers: small generated Python functions that turn API payloads into points and points
into chart specs.

Ingestion code defines `transform(payload, config)` returning `[{"date", "value",
"dimensions"}, ...]`; chart code defines `transform(points, config)` returning a Vega-Lite
spec. Generated code is untrusted, so `run_transformer` runs it only in a sandboxed child
process and validates what comes back. Plain Python: nothing here imports Dagster.
"""

from orbit_dagster.transformers.builtin import (
    BUILTIN_GENERATOR,
    generate_chart_code,
    generate_ingestion_code,
)
from orbit_dagster.transformers.errors import GenerationError, TransformerError
from orbit_dagster.transformers.sandbox import SandboxLimits, run_transformer

__all__ = [
    "BUILTIN_GENERATOR",
    "GenerationError",
    "SandboxLimits",
    "TransformerError",
    "generate_chart_code",
    "generate_ingestion_code",
    "run_transformer",
]
