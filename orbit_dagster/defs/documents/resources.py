"""Resource types of the document pipeline; `defs/resources.py` configures them from the env.

Every field is optional so that the code location loads with no AWS or Veryfi variable set;
a step that needs a missing one fails naming it (`AWS_S3_BUCKET is not set`).
"""

import dagster as dg
from dagster_aws.s3 import S3Resource
from pydantic import Field

from orbit_dagster.documents.checks import DEFAULT_MAX_BYTES
from orbit_dagster.documents.pipeline import require_settings
from orbit_dagster.documents.veryfi import (
    DEFAULT_BASE_URL,
    DEFAULT_TIMEOUT_MS,
    VeryfiClient,
    VeryfiSettings,
)

# Step outputs go through this IO manager (on disk), so re-execution from failure finds them.
DOCUMENT_IO_MANAGER = "document_io_manager"


class DocumentSettings(dg.ConfigurableResource):
    """Where documents go (the S3 bucket), where new ones arrive, how big they may be."""

    bucket: str | None = Field(default=None, description="S3 bucket (AWS_S3_BUCKET).")
    inbox: str | None = Field(
        default=None, description="Folder the inbox sensor watches (ORBIT_DOCUMENTS_INBOX)."
    )
    max_bytes: int = Field(
        default=DEFAULT_MAX_BYTES,
        description="Largest accepted file in bytes (ORBIT_DOCUMENTS_MAX_BYTES, default 20 MB).",
    )

    def s3_bucket(self, s3: S3Resource) -> str:
        """The bucket, after checking every AWS setting the upload needs is present."""
        require_settings(
            {
                "AWS_S3_BUCKET": self.bucket,
                "AWS_REGION": s3.region_name,
                "AWS_ACCESS_KEY_ID": s3.aws_access_key_id,
                "AWS_SECRET_ACCESS_KEY": s3.aws_secret_access_key,
            }
        )
        assert self.bucket is not None
        return self.bucket


class VeryfiResource(dg.ConfigurableResource):
    """Veryfi API v8 credentials and limits; the secrets only ever come from EnvVar."""

    client_id: str | None = Field(default=None, description="VERYFI_CLIENT_ID")
    username: str | None = Field(default=None, description="VERYFI_USERNAME")
    api_key: str | None = Field(default=None, description="VERYFI_API_KEY")
    client_secret: str | None = Field(
        default=None, description="VERYFI_CLIENT_SECRET; when set, requests are signed."
    )
    api_base_url: str = Field(default=DEFAULT_BASE_URL, description="VERYFI_API_BASE_URL")
    timeout_ms: int = Field(
        default=DEFAULT_TIMEOUT_MS, description="Per-request time limit (VERYFI_TIMEOUT, ms)."
    )
    send_file_url: bool = Field(
        default=False,
        description="Send a short-lived presigned S3 URL instead of the bytes "
        "(VERYFI_SEND_FILE_URL).",
    )

    def get_client(self) -> VeryfiClient:
        require_settings(
            {
                "VERYFI_CLIENT_ID": self.client_id,
                "VERYFI_USERNAME": self.username,
                "VERYFI_API_KEY": self.api_key,
            }
        )
        assert self.client_id and self.username and self.api_key
        return VeryfiClient(
            VeryfiSettings(
                client_id=self.client_id,
                username=self.username,
                api_key=self.api_key,
                client_secret=self.client_secret or None,
                base_url=self.api_base_url,
                timeout_ms=self.timeout_ms,
            )
        )
