"""The payload corpus end to end: each real-world shape in `corpus/` goes through the built-in
generator and the real sandbox, and must give exactly the expected series and skipped counts.

A case is one JSON file: `description`, `payload`, `hints` (metric config), `expected` points
(`"$now"` as a date: a snapshot dated at the run) and `skipped` ({reason: count}).
"""

import datetime as dt
import json
from pathlib import Path

import pytest

from orbit_dagster.transformers import generate_ingestion_code, run_ingestion

CORPUS = sorted((Path(__file__).parent / "corpus").glob("*.json"))


def test_the_corpus_has_at_least_twenty_distinct_shapes():
    assert len(CORPUS) >= 20
    payloads = {json.dumps(json.loads(path.read_text())["payload"]) for path in CORPUS}
    assert len(payloads) == len(CORPUS)


@pytest.mark.parametrize("path", CORPUS, ids=[path.stem for path in CORPUS])
def test_generated_transformer_extracts_the_expected_series(path: Path):
    case = json.loads(path.read_text())
    code = generate_ingestion_code(
        case["payload"], template="http-json", name=path.stem, hints=case["hints"] or None
    )
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    result = run_ingestion(code, case["payload"])
    after = dt.datetime.now(dt.UTC)
    points = result.points
    expected = case["expected"]
    for index, point in enumerate(expected):
        if point["date"] == "$now":
            assert before <= dt.datetime.fromisoformat(points[index]["date"]) <= after
            expected[index] = {**point, "date": points[index]["date"]}
    assert points == expected, code
    assert result.skipped == case["skipped"]
    # Points come in time order, as the chart and the store expect.
    assert [point["date"] for point in points] == sorted(point["date"] for point in points)
