"""Environment variables as resource config, read when the code location loads.

Set variables become `dg.EnvVar`s (the UI and run storage keep the name, never the value);
unset ones fall back, because Dagster fails a run on an EnvVar whose variable is unset.
"""

import os

import dagster as dg


def optional_env(name: str) -> dg.EnvVar | None:
    return dg.EnvVar(name) if os.environ.get(name) else None


def env_int(name: str, default: int) -> dg.EnvVar | int:
    return dg.EnvVar.int(name) if os.environ.get(name) else default
