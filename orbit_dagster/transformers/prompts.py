"""What Orbit sends to a language model to write a transformer, and how it reads the reply.

The sample is cut to a character budget (long lists to their first items, long strings to
their start) and values under secret-looking keys are masked, so neither a huge payload nor a
token that an API echoed back ends up in a prompt. Metric config is never sent: only the
generator hints (paths, aggregation, granularity) are.
"""

import json
import re
from collections.abc import Mapping
from typing import Any, Literal

from openai.types.chat import ChatCompletionMessageParam, ChatCompletionUserMessageParam

from orbit_dagster.transformers.builtin.hints import HINT_KEYS

Kind = Literal["ingestion", "chart"]

# Lists are cut to this many first items, the longest that fits the budget.
LIST_LENGTHS = (50, 20, 10, 5, 3, 2, 1)
STRING_CHARS = 200
SECRET_KEY = re.compile(r"pass(word|wd)?|secret|token|api_?key|authori[sz]ation|credential", re.I)
CODE_BLOCK = re.compile(r"```[ \t]*(?:python|py|python3)?[ \t]*\n(.*?)```", re.S | re.I)

SANDBOX_RULES = """\
The code runs in a sandbox (RestrictedPython in a limited process):
- it may import only json, math, datetime, re, statistics, collections, itertools, decimal;
- no open(), no eval/exec, no class statements, no names or attributes starting with "_";
- print() output is discarded; there is no network and no file system.
Reply with exactly one ```python code block holding the whole module, and nothing else."""

CANDIDATES_INTRO = (
    "The series Orbit's own reader found in the sample, best first (the metric's name and "
    "description say which one it is about; extract that series, aggregated as the name says):"
)

CONTRACTS = {
    "ingestion": """\
Write a Python module defining `transform(payload, config)`. `payload` is the parsed JSON of an
API response shaped like the sample below. Return a list of points, each
{"date": <ISO-8601 text, UTC, e.g. "2026-10-01T00:00:00Z">, "value": <finite number>,
"dimensions": <dict of str to str, or None>}, in time order. Skip records without a usable date
or value. Parse numbers given as text (also with thousands separators) and convert time zones
to UTC.""",
    "chart": """\
Write a Python module defining `transform(points, config)`. `points` is a list like the sample
below ({"date", "value", "dimensions"}). Return a Vega-Lite v5 spec as a dict with "$schema":
"https://vega.github.io/schema/vega-lite/v5.json", the points under "data": {"values": [...]},
a mark (a line over time, bars for categories, a text mark for a single value), a title and
axis titles from the metric.""",
}


def build_messages(
    kind: Kind,
    sample: Any,
    *,
    name: str,
    description: str,
    template: str,
    hints: Mapping[str, Any],
    budget: int,
    candidates: list[str] | None = None,
) -> list[ChatCompletionMessageParam]:
    """The system and user messages asking for a `kind` transformer for this metric.

    `candidates` are the series Orbit's built-in reader found in the sample, best first, with
    why: the model reads the same intent from the name, and may know better."""
    text, note = truncate_sample(sample, budget)
    steering = {key: hints[key] for key in HINT_KEYS if hints.get(key)}
    lines = [
        f"Metric: {name}",
        f"Description: {description or '(none)'}",
        f"Source template: {template or '(none)'}",
    ]
    if steering:
        lines.append(f"Hints from the metric's owner: {json.dumps(steering)}")
    if candidates:
        lines += [CANDIDATES_INTRO, *candidates]
    lines += [f"Sample ({note}):", text]
    return [
        {"role": "system", "content": f"{CONTRACTS[kind]}\n\n{SANDBOX_RULES}"},
        {"role": "user", "content": "\n".join(lines)},
    ]


def retry_message(error: str) -> ChatCompletionUserMessageParam:
    """The user turn that feeds the sandbox's verdict on the last reply back to the model."""
    return {
        "role": "user",
        "content": f"That code was rejected: {error}\nFix it and reply with the whole module.",
    }


def extract_code(reply: str) -> str | None:
    """The code of the first fenced block that defines transform, else the reply itself when
    it is bare code defining transform; None when there is no code."""
    blocks = CODE_BLOCK.findall(reply) or [reply]
    return next((block.strip() + "\n" for block in blocks if "def transform" in block), None)


def truncate_sample(sample: Any, budget: int) -> tuple[str, str]:
    """JSON text of the masked sample within `budget` characters, and a note saying how it was
    cut (the model must know it sees only the start of long lists)."""
    masked = _mask(sample)
    full = json.dumps(masked, ensure_ascii=False, default=str)
    if len(full) <= budget:
        return full, "complete"
    for length in LIST_LENGTHS:
        text = json.dumps(_cut(masked, length), ensure_ascii=False, default=str)
        if len(text) <= budget:
            return text, f"lists cut to their first {length} items"
    text = json.dumps(_cut(masked, 1), ensure_ascii=False, default=str)
    return text[:budget], f"lists cut to their first item, text cut at {budget} characters"


def _mask(value: Any) -> Any:
    if isinstance(value, dict):
        return {
            key: "<redacted>"
            if isinstance(key, str) and SECRET_KEY.search(key) and isinstance(item, str)
            else _mask(item)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [_mask(item) for item in value]
    return value


def _cut(value: Any, length: int) -> Any:
    if isinstance(value, dict):
        return {key: _cut(item, length) for key, item in value.items()}
    if isinstance(value, list):
        return [_cut(item, length) for item in value[:length]]
    if isinstance(value, str) and len(value) > STRING_CHARS:
        return value[:STRING_CHARS] + "…"
    return value
