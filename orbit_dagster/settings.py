"""Where Orbit keeps its files when nothing else is configured.

The embedded default is a `data/` folder at the project root (beside `pyproject.toml`):
the Orbit store's SQLite file and the Dagster instance home live there, so a fresh checkout
runs with no configuration and keeps its history between runs. `ORBIT_DATA_DIR` moves it.
"""

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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


def dagster_home() -> Path:
    """`DAGSTER_HOME` when set, else an embedded SQLite-backed instance under the data folder."""
    home = Path(os.environ.get("DAGSTER_HOME") or data_dir() / "dagster_home")
    home.mkdir(parents=True, exist_ok=True)
    return home
