"""Health and recovery: the run-failure sensor and the pipelines mirror."""
