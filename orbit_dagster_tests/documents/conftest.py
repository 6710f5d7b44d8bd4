"""Document test fixtures: the real S3 (moto) and Veryfi servers from `fixtures.py`."""

from orbit_dagster_tests.documents.fixtures import document_servers, s3_server

__all__ = ["document_servers", "s3_server"]
