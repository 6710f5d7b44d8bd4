"""The bundled templates against real files and a real HTTP server on 127.0.0.1."""

import json
import re

import pytest

from orbit_dagster.sources import SAMPLES, SourceError, fetch, fetch_payload, sample_path
from orbit_dagster.sources.fetched import EXCERPT_CHARACTERS


def test_bundled_samples_are_real_json():
    for name in SAMPLES:
        assert fetch_payload("file", {"path": str(sample_path(name))})


def test_http_json_fetches_and_decodes(tmp_path):
    from orbit_dagster_tests.servers import json_server

    with json_server() as server:
        server.routes["/v1/series"] = (200, {"data": [{"date": "2026-10-01", "value": 3}]})
        payload = fetch_payload("http-json", {"url": f"{server.base_url}/v1/series"})
    assert payload == {"data": [{"date": "2026-10-01", "value": 3}]}
    assert server.requests == ["/v1/series"]


@pytest.mark.parametrize(
    ("route", "expected"),
    [
        ((200, b"<html>Bad gateway</html>"), "not JSON (text/html"),
        ((503, {"message": "down"}), "HTTP 503"),
        ((404, {"message": "Not Found"}), "HTTP 404"),
    ],
)
def test_http_json_failures_name_status_and_content(route, expected):
    from orbit_dagster_tests.servers import json_server

    with json_server() as server:
        server.routes["/x"] = route
        with pytest.raises(SourceError, match=re.escape(expected)):
            fetch_payload("http-json", {"url": f"{server.base_url}/x", "retries": "0"})


def test_file_errors_name_the_file(tmp_path):
    with pytest.raises(SourceError, match="does not exist"):
        fetch_payload("file", {"path": str(tmp_path / "nope.json")})
    broken = tmp_path / "broken.json"
    broken.write_text('{"data": [1, 2')
    with pytest.raises(SourceError, match="is not valid JSON"):
        fetch_payload("file", {"path": str(broken)})


def test_unknown_template_and_missing_config_are_refused():
    with pytest.raises(SourceError, match="unknown template 'ftp'"):
        fetch_payload("ftp", {})
    with pytest.raises(SourceError, match="needs config url"):
        fetch_payload("http-json", {})


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://127.0.0.1/x", "127.0.0.1/x", "http://"]
)
def test_http_json_refuses_non_http_urls(url):
    with pytest.raises(SourceError, match="absolute http"):
        fetch_payload("http-json", {"url": url})


def test_file_reads_csv_as_rows_keyed_by_the_header(tmp_path):
    path = tmp_path / "signups.csv"
    path.write_bytes("\ufeffdate,signups\n2026-10-01,3\n2026-10-02,5\n".encode())
    fetched = fetch("file", {"path": str(path)})
    assert fetched.payload == [
        {"date": "2026-10-01", "signups": "3"},
        {"date": "2026-10-02", "signups": "5"},
    ]
    assert "date,signups" in fetched.log
    # An explicit format wins over the suffix.
    other = tmp_path / "export.txt"
    other.write_text("day,n\n2026-10-01,1\n")
    assert fetch_payload("file", {"path": str(other), "format": "csv"}) == [
        {"day": "2026-10-01", "n": "1"}
    ]


def test_file_refuses_an_empty_csv_and_an_unknown_format(tmp_path):
    path = tmp_path / "empty.csv"
    path.write_text("date,value\n")
    with pytest.raises(SourceError, match="has no rows under its header"):
        fetch_payload("file", {"path": str(path)})
    with pytest.raises(SourceError, match="format must be json or csv"):
        fetch_payload("file", {"path": str(path), "format": "xml"})


def test_the_step_log_excerpt_of_a_large_file_is_capped(tmp_path):
    path = tmp_path / "big.json"
    path.write_text(json.dumps({"data": [{"date": "2026-10-01", "value": i} for i in range(999)]}))
    fetched = fetch("file", {"path": str(path)})
    assert len(fetched.log) < EXCERPT_CHARACTERS + 200
    assert fetched.log.endswith("more characters]")
