"""Document processing without Dagster: file checks, S3 and Veryfi clients, the pipeline steps.

`checks` validates a local file and names it in S3, `s3` wraps the few boto3 calls, `veryfi`
speaks Veryfi API v8 over httpx, `pipeline` holds the step functions the Dagster ops call.
"""
