"""The document pipeline's lineage as external assets: the S3 bucket the files go to, Veryfi
which extracts them, and the store's `veryfi_documents` table the results land in (written
by `process_document_job`, one row per document)."""

import dagster as dg

from orbit_dagster.dagster_api.lineage import TABLE_NAME

S3_BUCKET = dg.AssetKey(["documents", "s3_bucket"])
VERYFI = dg.AssetKey(["documents", "veryfi"])


@dg.definitions
def document_lineage() -> dg.Definitions:
    return dg.Definitions(
        assets=[
            dg.AssetSpec(
                S3_BUCKET,
                description="The S3 bucket (AWS_S3_BUCKET) documents are uploaded to, by hash.",
                kinds={"s3"},
                group_name="documents",
            ),
            dg.AssetSpec(
                VERYFI,
                description="Veryfi's extraction of each uploaded document (vendor, total, "
                "date, line items).",
                kinds={"veryfi"},
                deps=[S3_BUCKET],
                group_name="documents",
            ),
            dg.AssetSpec(
                dg.AssetKey(["documents", "veryfi_documents"]),
                description="One row per document in the Orbit store, written by "
                "process_document_job.",
                kinds={"sql"},
                deps=[S3_BUCKET, VERYFI],
                metadata={TABLE_NAME: "veryfi_documents"},
                group_name="documents",
            ),
        ]
    )
