"""The payload corpus end to end: each real-world shape in `corpus/` goes through the built-in
generator and the real sandbox, and must give exactly the expected series and skipped counts,
or, for a case marked `xfail`, be refused with a GenerationError rather than answered wrongly.

A case is one JSON file, named after the API and what it measures:
- `name`, `description`, `template`: the metric as a user would add it; the generator reads its
  intent from them (the name says "Orders per day", "Max temperature in Berlin", ...).
- `note`: what the case is about, for the reader (never given to the generator).
- `hints`: metric config (records_path, date_path, value_path, group_by, aggregation,
  granularity); `{}` for a case that gives only a name and a payload.
- `payload`: the API's response, built from its published documentation and examples.
- `expected`: the points worked out by hand (`"$now"` as a date: a snapshot dated at the run),
  and `skipped`: {reason: count} of the entries with no usable date or value.
- `xfail` (optional): why the generator must refuse the case, naming the candidates and the
  hint that selects each. Either no one could pick the series from the name and payload alone
  (no `expected` points), or the right answer (its `expected` points) is not reached yet.

`bench/transformer_quality.py` scores the same corpus with and without hints.
"""

import datetime as dt
import json
from pathlib import Path

import pytest

from orbit_dagster.transformers import GenerationError, generate_ingestion_code, run_ingestion
from orbit_dagster.transformers.builtin.hints import HINT_KEYS

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.json"))
CASES = {path.stem: json.loads(path.read_text()) for path in CORPUS}
REQUIRED = ("name", "description", "template", "note", "hints", "payload", "expected", "skipped")
ANSWERED = [stem for stem, case in CASES.items() if "xfail" not in case]
REFUSED = [stem for stem, case in CASES.items() if "xfail" in case]


def generate(case: dict) -> str:
    return generate_ingestion_code(
        case["payload"],
        template=case["template"],
        name=case["name"],
        description=case["description"],
        hints=case["hints"] or None,
    )


def test_the_corpus_has_sixty_distinct_payloads_and_twenty_without_hints():
    payloads = {json.dumps(case["payload"], sort_keys=True) for case in CASES.values()}
    assert len(payloads) == len(CASES) >= 60
    assert sum(not case["hints"] for case in CASES.values() if "xfail" not in case) >= 20


@pytest.mark.parametrize("stem", list(CASES))
def test_the_case_is_well_formed(stem: str):
    """A typo in a case (a misspelt key or hint, unsorted or malformed expected points) would
    make it measure something else than it says."""
    case = CASES[stem]
    assert set(case) - {"xfail"} == set(REQUIRED)
    assert case["name"].strip() and isinstance(case["description"], str)
    assert set(case["hints"]) <= set(HINT_KEYS)
    assert all(isinstance(value, str) and value for value in case["hints"].values())
    if "xfail" in case:
        assert case["xfail"].strip()
        if not case["expected"]:  # undecidable; with points: right answer not reached yet
            return
    assert case["expected"], "an answered case expects at least one point"
    for point in case["expected"]:
        assert set(point) == {"date", "value", "dimensions"}
        assert isinstance(point["value"], float)
        assert point["dimensions"] is None or (
            point["dimensions"] and all(isinstance(v, str) for v in point["dimensions"].values())
        )
        if point["date"] != "$now":
            assert dt.datetime.strptime(point["date"], "%Y-%m-%dT%H:%M:%SZ")
    keys = [(p["date"], sorted((p["dimensions"] or {}).items())) for p in case["expected"]]
    assert keys == sorted(keys) and len(set(map(str, keys))) == len(keys)
    assert all(isinstance(count, int) and count > 0 for count in case["skipped"].values())


@pytest.mark.parametrize("stem", ANSWERED)
def test_generated_transformer_extracts_the_expected_series(stem: str):
    case = CASES[stem]
    code = generate(case)
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    result = run_ingestion(code, case["payload"])
    after = dt.datetime.now(dt.UTC)
    points = result.points
    expected = [dict(point) for point in case["expected"]]
    for index, point in enumerate(expected):
        if point["date"] == "$now" and index < len(points):
            assert before <= dt.datetime.fromisoformat(points[index]["date"]) <= after
            point["date"] = points[index]["date"]
    # Points come in time order, as the chart and the store expect; series of one time may
    # come in any order (it follows the generator's order of dimension fields).
    assert [point["date"] for point in points] == sorted(point["date"] for point in points)
    assert canonical(points) == canonical(expected), code
    assert result.skipped == case["skipped"], code


def canonical(points: list[dict]) -> list[dict]:
    return sorted(points, key=lambda p: (p["date"], sorted((p["dimensions"] or {}).items())))


@pytest.mark.parametrize("stem", REFUSED)
def test_an_undecidable_case_is_refused_naming_the_candidates(stem: str):
    """No one could tell from the name and payload which series is meant: a guess would save
    plausible wrong numbers, so the generator must refuse and say which hint picks each."""
    case = CASES[stem]
    with pytest.raises(GenerationError) as refusal:
        generate(case)
    message = str(refusal.value)
    assert "value_path=" in message or "records_path=" in message, message
