"""Document processing on Dagster: resources, the four step ops, the job, the inbox sensor."""
