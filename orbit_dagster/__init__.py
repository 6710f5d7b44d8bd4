"""Orbit: per-metric time series and charts from third-party APIs, and document jobs, on Dagster."""
