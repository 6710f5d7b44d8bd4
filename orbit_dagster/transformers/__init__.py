"""Transformers: small generated Python functions that turn API payloads into points and points
into chart specs.

Ingestion code defines `transform(payload, config)` returning `[{"date", "value",
"dimensions"}, ...]` (or `{"points": [...], "skipped": {reason: count}}`, as the built-in
generator's code does); chart code defines `transform(points, config)` returning a Vega-Lite
spec. Generated code is untrusted, so `run_transformer` / `run_ingestion` run it only in a
sandboxed child process, or a warm `SandboxPool` worker, and validate what comes back.
`builtin` generates code offline (`generate_ingestion` also returns a note saying which series
it chose, why, and the config that selects each other one); `llm.generate_with_model` asks an
OpenAI-compatible model
(import it from its module: it needs the openai client). Nothing here imports Dagster.
"""

from orbit_dagster.transformers.builtin import (
    BUILTIN_GENERATOR,
    GeneratedIngestion,
    generate_chart_code,
    generate_ingestion,
    generate_ingestion_code,
)
from orbit_dagster.transformers.errors import GenerationError, TransformerError
from orbit_dagster.transformers.pool import SandboxPool
from orbit_dagster.transformers.sandbox import (
    IngestionResult,
    SandboxLimits,
    run_ingestion,
    run_transformer,
)

__all__ = [
    "BUILTIN_GENERATOR",
    "GeneratedIngestion",
    "GenerationError",
    "IngestionResult",
    "SandboxLimits",
    "SandboxPool",
    "TransformerError",
    "generate_chart_code",
    "generate_ingestion",
    "generate_ingestion_code",
    "run_ingestion",
    "run_transformer",
]
