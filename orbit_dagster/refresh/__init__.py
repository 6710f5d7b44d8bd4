"""The metric refresh as plain functions: the step table, the steps, the plan of a run, the
step recorder, the progress answer, and the refresh jobs' shared facts (`jobs.py`).

No Dagster here: the ops under `defs/metrics` are thin wrappers that read config and the
partition key, run one row of the step table through `run.run_step`, and pass data on.
"""
