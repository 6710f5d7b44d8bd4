"""The metric refresh as plain functions: the plan of a run, the step recorder, the steps.

No Dagster here: the ops under `defs/metrics` are thin wrappers that read config and the
partition key, call one of these functions inside `StepRecorder.step`, and pass data on.
"""
