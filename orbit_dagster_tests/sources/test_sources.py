"""The bundled templates against real files and a real HTTP server on 127.0.0.1."""

import re
import socket

import pytest

from orbit_dagster.sources import SAMPLES, SourceError, fetch_payload, sample_path


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
            fetch_payload("http-json", {"url": f"{server.base_url}/x"})


def test_http_json_unreachable_names_the_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed again below: nothing listens there
    with pytest.raises(SourceError, match=f"request to http://127.0.0.1:{port}/ failed"):
        fetch_payload("http-json", {"url": f"http://127.0.0.1:{port}/"})


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
