"""One dynamic partition per metric id: every metric's history is its own partition."""

import dagster as dg

from orbit_dagster.refresh.jobs import METRIC_PARTITIONS

metric_partitions = dg.DynamicPartitionsDefinition(name=METRIC_PARTITIONS)
