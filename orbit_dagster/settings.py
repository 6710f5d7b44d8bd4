"""Where Orbit keeps its files when nothing else is configured.

The embedded default is a `data/` folder at the project root (beside `pyproject.toml`):
the Orbit store's SQLite file and the Dagster instance home live there, so a fresh checkout
runs with no configuration and keeps its history between runs. `ORBIT_DATA_DIR` moves it.
"""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
# Used when the package runs without its project folder (installed from a wheel).
EMBEDDED_INSTANCE_YAML = "telemetry:\n  enabled: false\n"


def data_dir() -> Path:
    """The folder for Orbit's local files, created on first use."""
    path = Path(os.environ.get("ORBIT_DATA_DIR") or PROJECT_ROOT / "data")
    path.mkdir(parents=True, exist_ok=True)
    return path


def default_database_url() -> str:
    """The durable SQLite store used when `ORBIT_DATABASE_URL` is unset."""
    return f"sqlite:///{data_dir() / 'orbit.sqlite3'}"


def database_url() -> str:
    """`ORBIT_DATABASE_URL` (Postgres in production), else the embedded SQLite file."""
    return os.environ.get("ORBIT_DATABASE_URL") or default_database_url()


def embedded_dagster_home() -> Path:
    """The Dagster instance home used when `DAGSTER_HOME` is unset (SQLite storage).

    It gets the project's `dagster.yaml` (run queue limits, monitoring, retries), kept in step
    with that file, so the embedded instance behaves like the configured one.
    """
    home = data_dir() / "dagster_home"
    home.mkdir(parents=True, exist_ok=True)
    source = PROJECT_ROOT / "dagster.yaml"
    text = source.read_text() if source.exists() else EMBEDDED_INSTANCE_YAML
    target = home / "dagster.yaml"
    if not target.exists() or target.read_text() != text:
        target.write_text(text)
    return home


def dagster_home() -> Path:
    """The Dagster instance every Orbit command and the README's Dagster commands use:
    `DAGSTER_HOME` when set, else the embedded one (`orbit dagster-home` prints it)."""
    return Path(os.environ.get("DAGSTER_HOME") or embedded_dagster_home())


DEFAULT_REFRESH_CRON = "0 * * * *"


def refresh_cron() -> str:
    """`ORBIT_REFRESH_CRON` (UTC): when metrics without a schedule of their own are refreshed."""
    return os.environ.get("ORBIT_REFRESH_CRON") or DEFAULT_REFRESH_CRON
