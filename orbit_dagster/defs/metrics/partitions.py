"""One dynamic partition per metric id: every metric's history is its own partition."""

import dagster as dg

metric_partitions = dg.DynamicPartitionsDefinition(name="metric")
