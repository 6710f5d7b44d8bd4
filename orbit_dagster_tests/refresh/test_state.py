"""The refresh state's JSON encoding: what a run keeps between its steps comes back equal."""

import datetime as dt
import json
import math

from orbit_dagster.refresh.state import RefreshState, decode, encode
from orbit_dagster.store import Point, Transformer

START = dt.datetime(2026, 10, 1)


def test_every_field_comes_back_equal():
    state = RefreshState(
        metric_id="m",
        mode="hard-refresh",
        metric={"id": "m", "config": {"path": "p", "token_env": "T"}, "created_at": "2026Z"},
        transformer=Transformer(code="def transform(p, c): ...", generator="b", template="file"),
        transformer_is_new=True,
        points=[Point(START, 1.5), Point(START + dt.timedelta(days=1), -2.0, {"repo": "a/b"})],
        points_saved=2,
        saved_range=(START, START + dt.timedelta(days=1)),
        chart_spec={"mark": "line", "data": {"values": [{"date": "2026-10-01Z", "value": 1.5}]}},
    )
    assert decode(encode(state)) == state
    assert json.loads(encode(state))  # plain JSON: data, never code run when read


def test_a_payload_keeps_its_exact_values():
    payload = {
        "rows": [{"d": "2026-10-01", "v": 1}, {"d": "é ✓", "v": 2**70}],
        "nan": float("nan"),
        "inf": float("-inf"),
        "nested": [[None, True, 1.25]],
    }
    back = decode(encode(RefreshState(metric_id="m", mode="create", payload=payload))).payload
    assert math.isnan(back.pop("nan"))
    assert back == {k: v for k, v in payload.items() if k != "nan"}
