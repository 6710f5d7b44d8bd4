"""The metric refresh on Dagster: partitions, the nine step ops, the assets and the job."""
