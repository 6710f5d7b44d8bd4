"""The baseline of `bench/cli_refresh.py`: the least a `dagster job execute` can do — one op
that does nothing, on the same in-process executor Orbit's jobs use."""

import dagster as dg


@dg.op
def do_nothing() -> None:
    pass


@dg.job(executor_def=dg.in_process_executor)
def trivial_job():
    do_nothing()
