"""Orbit's settings from the environment, each read and checked in one place, and where Orbit
keeps its files when nothing else is configured.

The embedded default is a `data/` folder at the project root (beside `pyproject.toml`):
the Orbit store's SQLite file and the Dagster instance home live there, so a fresh checkout
runs with no configuration and keeps its history between runs. `ORBIT_DATA_DIR` moves it.

A value Orbit cannot use is refused with `ConfigurationError`, naming the variable, its value
and what it takes, before anything runs: never read as something else, never a stack.
"""

import os
from pathlib import Path

from croniter import croniter

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# The instance settings every setup shares (run queue, monitoring, retries).
INSTANCE_YAML = PROJECT_ROOT / "deploy" / "dagster.yaml"
# Used when the package runs without its project folder (installed from a wheel).
EMBEDDED_INSTANCE_YAML = "telemetry:\n  enabled: false\n"


class ConfigurationError(ValueError):
    """An environment variable holds a value Orbit cannot use."""


def data_dir() -> Path:
    """The folder for Orbit's local files, created on first use."""
    path = Path(os.environ.get("ORBIT_DATA_DIR") or PROJECT_ROOT / "data")
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise ConfigurationError(
            f"cannot create Orbit's data folder {path} ({error.strerror}): set ORBIT_DATA_DIR "
            "to a folder Orbit can write"
        ) from None
    return path


def default_database_url() -> str:
    """The durable SQLite store used when `ORBIT_DATABASE_URL` is unset."""
    return f"sqlite:///{data_dir() / 'orbit.sqlite3'}"


def database_url() -> str:
    """`ORBIT_DATABASE_URL` (Postgres in production), else the embedded SQLite file."""
    return os.environ.get("ORBIT_DATABASE_URL") or default_database_url()


def embedded_dagster_home() -> Path:
    """The Dagster instance home used when `DAGSTER_HOME` is unset (SQLite storage).

    It gets the project's `deploy/dagster.yaml` (run queue limits, monitoring, retries), kept in
    step with that file, so the embedded instance behaves like the configured one.
    """
    home = data_dir() / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    source = INSTANCE_YAML
    text = source.read_text() if source.exists() else EMBEDDED_INSTANCE_YAML
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return home


def dagster_home() -> Path:
    """The Dagster instance every Orbit command and the README's Dagster commands use:
    `DAGSTER_HOME` when set, else the embedded one (`orbit dagster-home` prints it)."""
    home = os.environ.get("DAGSTER_HOME")
    if not home:
        return embedded_dagster_home()
    if not Path(home).is_dir():
        raise ConfigurationError(
            f"DAGSTER_HOME={home} is not a folder: create it (with the dagster.yaml of the "
            "instance), or unset DAGSTER_HOME to use the embedded instance"
        )
    return Path(home)


DEFAULT_REFRESH_CRON = "0 * * * *"


def refresh_cron() -> str:
    """`ORBIT_REFRESH_CRON` (UTC): when metrics without a schedule of their own are refreshed."""
    cron = os.environ.get("ORBIT_REFRESH_CRON") or DEFAULT_REFRESH_CRON
    if not croniter.is_valid(cron) or len(cron.split()) != 5:
        raise ConfigurationError(
            f"ORBIT_REFRESH_CRON={cron!r} is not a cron expression of five fields "
            f"(minute hour day month weekday, e.g. {DEFAULT_REFRESH_CRON!r})"
        )
    return cron


def positive_int(name: str, default: int) -> int:
    """The whole number above 0 in the variable `name`, else `default`."""
    text = os.environ.get(name)
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise ConfigurationError(f"{name}={text!r} is not a whole number above 0")
    return value


EXECUTORS = ("in_process", "celery")


def executor_name() -> str:
    """`ORBIT_EXECUTOR`: where a run's steps execute, in its process or on Celery workers."""
    name = os.environ.get("ORBIT_EXECUTOR") or EXECUTORS[0]
    if name not in EXECUTORS:
        raise ConfigurationError(f"ORBIT_EXECUTOR={name!r} is not one of {', '.join(EXECUTORS)}")
    return name
