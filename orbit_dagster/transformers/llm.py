"""Transformer generation through an OpenAI-compatible model, checked in the sandbox.

`generate_with_model` asks the model for code, runs the reply in the sandbox on the sample
(ingestion code must return at least one valid point, chart code a valid spec), feeds any
rejection back for another try, and after `attempts` rejections, or when the model cannot be
reached, falls back to the built-in generator. Every step leaves a note for the step log.

For ingestion the built-in reader runs first: its ranked candidates go into the prompt, and
the points of accepted model code are compared with those of its top candidate, a
disagreement being noted (either may be right; the note lets a person check).

The client is an `openai.OpenAI`: dagster-openai's `OpenAIResource.get_client(...)`, or
`openai.OpenAI(base_url=..., api_key=...)` for any OpenAI-compatible server. Transport
retries (connection errors, 429 and 5xx, with backoff) are the client's own `max_retries`;
the attempts here are about the code, not the transport.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import openai

from orbit_dagster.transformers.builtin import (
    BUILTIN_GENERATOR,
    GeneratedIngestion,
    generate_chart_code,
    generate_ingestion,
)
from orbit_dagster.transformers.errors import GenerationError, TransformerError
from orbit_dagster.transformers.prompts import (
    Kind,
    build_messages,
    extract_code,
    retry_message,
)
from orbit_dagster.transformers.sandbox import SandboxLimits, run_ingestion, run_transformer

DEFAULT_ATTEMPTS = 3
# About 2,000 tokens of sample: enough to show the shape, cheap to send on every retry.
DEFAULT_SAMPLE_BUDGET = 8_000
DEFAULT_TIMEOUT_SECONDS = 60.0


@dataclass(frozen=True)
class GenerationResult:
    """Accepted code, who wrote it ("openai:<model>" or BUILTIN_GENERATOR), and notes on each
    attempt and on any fallback, for the step log."""

    code: str
    generator: str
    notes: list[str] = field(default_factory=list)


def generate_with_model(
    client: openai.OpenAI,
    model: str,
    *,
    kind: Kind,
    sample: Any,
    name: str,
    description: str = "",
    template: str = "",
    hints: Mapping[str, Any] | None = None,
    config: Mapping[str, Any] | None = None,
    attempts: int = DEFAULT_ATTEMPTS,
    sample_budget: int = DEFAULT_SAMPLE_BUDGET,
    timeout: float = DEFAULT_TIMEOUT_SECONDS,
    limits: SandboxLimits | None = None,
) -> GenerationResult:
    """Code for a `kind` transformer of this metric, from the model or else the built-in one.

    `sample` is the payload (ingestion) or a sample of the points (chart); the prompt holds it
    cut to `sample_budget` characters, while validation runs on all of it with `config` (which
    is never sent to the model). Raises GenerationError only when the built-in fallback finds
    no series either.
    """
    if attempts < 1:
        raise ValueError("attempts must be at least 1")
    hints = dict(hints or {})
    builtin: GeneratedIngestion | GenerationError | None = None
    if kind == "ingestion":
        try:
            builtin = generate_ingestion(
                sample, template=template, name=name, description=description, hints=hints
            )
        except GenerationError as exc:
            builtin = exc  # the model may still find what the built-in reader cannot
    messages = build_messages(
        kind,
        sample,
        name=name,
        description=description,
        template=template,
        hints=hints,
        budget=sample_budget,
        candidates=_candidate_lines(builtin),
    )
    chat = client.with_options(timeout=timeout).chat.completions
    notes: list[str] = []
    for attempt in range(1, attempts + 1):
        try:
            response = chat.create(model=model, messages=messages, temperature=0)
        except openai.OpenAIError as exc:
            notes.append(f"attempt {attempt}: the model could not be asked: {_describe(exc)}")
            break
        reply = (response.choices[0].message.content or "") if response.choices else ""
        code = extract_code(reply)
        try:
            if code is None:
                raise TransformerError("the reply holds no code defining transform()")
            outcome, points = _check(kind, code, sample, config, limits)
        except TransformerError as exc:
            # Code that failed could have put config values (tokens) into its error message.
            error = _without(str(exc), config or {})
            notes.append(f"attempt {attempt}: code rejected: {error}")
            messages += [{"role": "assistant", "content": reply}, retry_message(error)]
            continue
        notes.append(f"attempt {attempt}: code accepted ({outcome})")
        if isinstance(builtin, GeneratedIngestion):
            notes.append(_comparison(points, builtin, sample))
        return GenerationResult(code, f"openai:{model}", notes)
    return _fallback(kind, sample, name, description, builtin, notes, model)


def _check(
    kind: Kind,
    code: str,
    sample: Any,
    config: Mapping[str, Any] | None,
    limits: SandboxLimits | None,
) -> tuple[str, list[dict[str, Any]]]:
    """Run the code on the sample: what it produced, and its points (ingestion); or
    TransformerError."""
    if kind == "chart":
        spec = run_transformer(code, sample, config, kind="chart", limits=limits)
        return f"a Vega-Lite spec with {', '.join(sorted(spec)[:6])}", []
    result = run_ingestion(code, sample, config, limits=limits)
    if not result.points:
        raise TransformerError("it returned no points from the sample payload")
    return f"{len(result.points)} points from the sample", result.points


def _candidate_lines(builtin: GeneratedIngestion | GenerationError | None) -> list[str]:
    """What the built-in reader found, for the prompt: its candidates best first, or why it
    found none or could not choose."""
    if isinstance(builtin, GenerationError):
        return [f"(the built-in reader chose none: {builtin})"]
    if builtin is None:
        return []
    return [
        f"{rank}. {candidate.describe()}, {candidate.series.aggregation}"
        + (f" per {candidate.series.granularity}" if candidate.series.granularity else "")
        + f": {candidate.reason} (config: {candidate.hint()})"
        for rank, candidate in enumerate(builtin.candidates[:6], start=1)
    ]


def _comparison(points: list[dict[str, Any]], builtin: GeneratedIngestion, sample: Any) -> str:
    """A note saying whether the model's points on the sample are the built-in reader's."""
    expected = builtin.sample_points(sample)
    chosen = builtin.candidates[0].describe()
    if _same_points(points, expected):
        return f"the model's series agrees with {BUILTIN_GENERATOR}'s top candidate, {chosen}"
    return (
        f"disagreement: the model's code gives {len(points)} points "
        f"({_span(points)}) where {BUILTIN_GENERATOR}'s top candidate, {chosen}, gives "
        f"{len(expected)} ({_span(expected)}); check which series the metric is about"
    )


def _same_points(first: list[dict[str, Any]], second: list[dict[str, Any]]) -> bool:
    def key(point: dict[str, Any]) -> tuple[Any, ...]:
        dimensions = sorted((point.get("dimensions") or {}).items())
        return point["date"], round(float(point["value"]), 9), dimensions

    return sorted(map(key, first)) == sorted(map(key, second))


def _span(points: list[dict[str, Any]]) -> str:
    if not points:
        return "none"
    first, last = points[0], points[-1]
    return f"{first['date']} = {first['value']:g} .. {last['date']} = {last['value']:g}"


def _fallback(
    kind: Kind,
    sample: Any,
    name: str,
    description: str,
    builtin: GeneratedIngestion | GenerationError | None,
    notes: list[str],
    model: str,
) -> GenerationResult:
    """The built-in generator's code, with a note saying why the model's was not used."""
    notes.append(
        f"fell back to {BUILTIN_GENERATOR}: openai:{model} gave no usable code ({notes[-1]})"
    )
    if kind == "chart":
        code = generate_chart_code(sample, name=name, description=description)
        return GenerationResult(code, BUILTIN_GENERATOR, notes)
    if isinstance(builtin, GenerationError):
        raise GenerationError(f"{builtin} (after the model: {'; '.join(notes)})") from None
    assert builtin is not None  # ingestion always asked the built-in reader first
    return GenerationResult(builtin.code, BUILTIN_GENERATOR, [*notes, builtin.note])


def _without(text: str, config: Any) -> str:
    """`text` with every text value of the metric config (at least 4 characters) masked."""
    if isinstance(config, Mapping):
        config = list(config.values())
    if isinstance(config, list):
        for value in config:
            text = _without(text, value)
    elif isinstance(config, str) and len(config) >= 4:
        text = text.replace(config, "<redacted>")
    return text


def _describe(exc: openai.OpenAIError) -> str:
    if isinstance(exc, openai.APITimeoutError):
        return "request timed out"
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}: {str(exc)[:300]}"
    return f"{type(exc).__name__}: {str(exc)[:300]}"
