"""Transformer generation through an OpenAI-compatible model, checked in the sandbox.

`generate_with_model` asks the model for code, runs the reply in the sandbox on the sample
(ingestion code must return at least one valid point, chart code a valid spec), feeds any
rejection back for another try, and after `attempts` rejections, or when the model cannot be
reached, falls back to the built-in generator. Every step leaves a note for the step log.

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
    generate_chart_code,
    generate_ingestion_code,
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
    messages = build_messages(
        kind,
        sample,
        name=name,
        description=description,
        template=template,
        hints=hints,
        budget=sample_budget,
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
            outcome = _check(kind, code, sample, config, limits)
        except TransformerError as exc:
            # Code that failed could have put config values (tokens) into its error message.
            error = _without(str(exc), config or {})
            notes.append(f"attempt {attempt}: code rejected: {error}")
            messages += [{"role": "assistant", "content": reply}, retry_message(error)]
            continue
        notes.append(f"attempt {attempt}: code accepted ({outcome})")
        return GenerationResult(code, f"openai:{model}", notes)
    return _fallback(kind, sample, name, description, template, hints, notes, model)


def _check(
    kind: Kind,
    code: str,
    sample: Any,
    config: Mapping[str, Any] | None,
    limits: SandboxLimits | None,
) -> str:
    """Run the code on the sample; what it produced, or TransformerError."""
    if kind == "chart":
        spec = run_transformer(code, sample, config, kind="chart", limits=limits)
        return f"a Vega-Lite spec with {', '.join(sorted(spec)[:6])}"
    result = run_ingestion(code, sample, config, limits=limits)
    if not result.points:
        raise TransformerError("it returned no points from the sample payload")
    return f"{len(result.points)} points from the sample"


def _fallback(
    kind: Kind,
    sample: Any,
    name: str,
    description: str,
    template: str,
    hints: dict[str, Any],
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
    try:
        code = generate_ingestion_code(
            sample, template=template, name=name, description=description, hints=hints or None
        )
    except GenerationError as exc:
        raise GenerationError(f"{exc} (after the model: {'; '.join(notes)})") from None
    return GenerationResult(code, BUILTIN_GENERATOR, notes)


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
