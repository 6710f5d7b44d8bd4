"""The few S3 calls the pipeline makes, as thin functions over a boto3 client passed in."""

from typing import Any

from botocore.exceptions import ClientError

from orbit_dagster.documents.checks import LocalDocument

# Long enough for Veryfi to fetch the file, short enough that a leaked URL soon stops working.
PRESIGNED_URL_SECONDS = 600


def object_exists(client: Any, bucket: str, key: str) -> bool:
    try:
        client.head_object(Bucket=bucket, Key=key)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
            return False
        raise
    return True


def put_document(client: Any, bucket: str, key: str, document: LocalDocument) -> None:
    """Upload the file privately (no ACL), with its content type and hash as metadata."""
    with open(document.path, "rb") as body:
        client.put_object(
            Bucket=bucket,
            Key=key,
            Body=body,
            ContentType=document.content_type,
            Metadata={"sha256": document.sha256},
        )


def presigned_url(client: Any, bucket: str, key: str) -> str:
    """A short-lived GET URL for the private object (the object itself is never public)."""
    return client.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": key}, ExpiresIn=PRESIGNED_URL_SECONDS
    )
